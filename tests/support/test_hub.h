// TestHub: a real fedhubd (Hub + gRPC Server) in the test process, listening on loopback
// with mutual TLS, over a fresh temporary directory that holds development certificates,
// the RocksDB data and the signing key. For integration tests only.
//
//   auto hub = fedhub::testing::TestHub::Start();          // ASSERT_TRUE(hub.ok())
//   fedhub::Client course = (*hub)->ClientFor("course");
//   auto granted = course.GrantConsent(...);
//   ASSERT_TRUE((*hub)->Restart().ok());                   // same port, same data
//
// Principals with certificates (all in certs_dir(), the `fedhubctl dev-certs` layout):
//   operator  admin (a bootstrap operator, not stored in the registry)
//   course, store, books  platform      recs  recommender bound to course
//   auditor   auditor
// All but operator are registered through the operator's client when the hub starts
// (unless TestHubOptions::register_principals is false). IssueCertificate adds more.
//
// Clients keep working across Restart(): the hub comes back on the same ports.
// Not thread-safe: drive a TestHub from the test's thread (clients it hands out may be
// used from any thread).
#ifndef FEDHUB_TESTS_SUPPORT_TEST_HUB_H_
#define FEDHUB_TESTS_SUPPORT_TEST_HUB_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "app/hub.h"
#include "config/config.h"
#include "fedhub/client.h"
#include "fedhub/options.h"
#include "server/server.h"

namespace fedhub::testing {

struct TestHubOptions {
  // Serve Prometheus /metrics on 127.0.0.1 (a free port).
  bool metrics = false;
  // Serve the plaintext health-only port on 127.0.0.1 (a free port).
  bool health_port = false;
  // Register course, store, books, recs and auditor when the hub starts.
  bool register_principals = true;
  // Last word on the hub's configuration (e.g. ticket_ttl_seconds, max_consent_days).
  std::function<void(config::HubConfig&)> configure;
};

class TestHub {
 public:
  // Platforms registered by default.
  static constexpr const char* kPlatforms[] = {"course", "store", "books"};

  static absl::StatusOr<std::unique_ptr<TestHub>> Start(TestHubOptions options = {});
  ~TestHub();
  TestHub(const TestHub&) = delete;
  TestHub& operator=(const TestHub&) = delete;

  // "127.0.0.1:<port>" of the mutual-TLS port.
  std::string endpoint() const;
  int port() const { return port_; }
  // 0 when not enabled.
  int health_port() const { return health_port_; }
  int metrics_port() const { return metrics_port_; }
  const std::string& root_dir() const { return root_; }
  const std::string& certs_dir() const { return certs_dir_; }
  const std::string& data_dir() const { return config_.data_dir; }
  const config::HubConfig& config() const { return config_; }
  bool running() const { return server_ != nullptr; }

  // The in-process hub, for assertions the API does not expose. Null after Stop().
  Hub* hub() { return hub_.get(); }

  // Client options for principal `id` (certificate files in certs_dir()). Unary calls get
  // a 5 s deadline; retries of idempotent calls are fast and few.
  ClientOptions OptionsFor(const std::string& id) const;
  // A client for principal `id`. Throws std::runtime_error (reported by GoogleTest as a
  // failure of the test) if the certificate files are missing.
  Client ClientFor(const std::string& id) const;
  // A raw mutual-TLS channel as principal `id` (certificates from `certs_dir`, default
  // certs_dir()), for generated stubs, health and reflection.
  std::shared_ptr<grpc::Channel> ChannelFor(const std::string& id,
                                            const std::string& certs_dir = "") const;
  template <typename Service>
  std::unique_ptr<typename Service::Stub> StubFor(const std::string& id) const {
    return Service::NewStub(ChannelFor(id));
  }

  // Issues a certificate for one more principal from the same CA (not registered).
  absl::Status IssueCertificate(const std::string& role, const std::string& id);

  // Server streams the hub has open now (its fedhub_open_streams gauge, read in process).
  int OpenStreams();
  // Waits until the hub has exactly `n` streams open (a stream counts once the hub has
  // fixed where it starts). False if that did not happen within `timeout`.
  bool WaitForOpenStreams(int n, std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Sum of a counter family over all its label sets, read in process (0 if absent).
  double CounterSum(const std::string& family);

  // The hub's receipt-signing public key (raw 32 bytes), read in process.
  std::string signing_public_key() const;

  // Stops the server (open streams end with UNAVAILABLE), closes the hub, opens both again
  // on the same data directory, certificates and ports.
  absl::Status Restart();
  // Stops the server and closes the hub. Idempotent; the directory stays until destruction.
  void Stop();

 private:
  TestHub() = default;
  absl::Status Open();

  std::string root_;
  std::string certs_dir_;
  config::HubConfig config_;
  std::unique_ptr<Hub> hub_;
  std::unique_ptr<server::Server> server_;
  int port_ = 0;
  int health_port_ = 0;
  int metrics_port_ = 0;
};

// Creates a fresh directory under the system temp dir; removed by the caller.
absl::StatusOr<std::string> MakeTempDir(const std::string& prefix);

}  // namespace fedhub::testing

#endif  // FEDHUB_TESTS_SUPPORT_TEST_HUB_H_
