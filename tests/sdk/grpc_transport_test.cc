// The SDK over real gRPC: an in-process mutual-TLS server (127.0.0.1, a port the OS picks)
// stands in for the hub, so deadlines, status mapping, retries and watch reconnection are
// checked on the wire.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <stdlib.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "client/retry_connection.h"
#include "core/strings.h"
#include "devcerts/devcerts.h"
#include "fedhub/client.h"
#include "fedhub/v1/consent.grpc.pb.h"
#include "fedhub/v1/hub.grpc.pb.h"
#include "fedhub/v1/linking.grpc.pb.h"

namespace fedhub {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A response that is never sent: the call ends when the client gives up on it.
class NeverAnswers final : public grpc::ServerUnaryReactor {
 public:
  void OnCancel() override { Finish(grpc::Status::CANCELLED); }
  void OnDone() override { delete this; }
};

// HubService.GetHubInfo: fails `failures` times with `failure`, then answers, or hangs.
class FakeHubService final : public v1::HubService::CallbackService {
 public:
  grpc::ServerUnaryReactor* GetHubInfo(grpc::CallbackServerContext* ctx,
                                       const v1::GetHubInfoRequest*,
                                       v1::GetHubInfoResponse* response) override {
    ++calls;
    if (hang) return new NeverAnswers();
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    std::lock_guard lock(mu);
    if (failures != 0) {
      if (failures > 0) --failures;
      reactor->Finish(failure);
    } else {
      response->set_version("9.9.9");
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }

  std::atomic<int> calls{0};
  std::atomic<bool> hang{false};
  std::mutex mu;
  int failures = 0;  // negative: always
  grpc::Status failure;
};

class FakeLinkingService final : public v1::LinkingService::Service {
 public:
  grpc::Status UnlinkAccount(grpc::ServerContext*, const v1::UnlinkAccountRequest*,
                             v1::UnlinkAccountResponse*) override {
    ++calls;
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "hub draining");
  }
  std::atomic<int> calls{0};
};

// WatchConsents plays one script per call: the sequences to send, then the final status.
class FakeConsentService final : public v1::ConsentService::Service {
 public:
  struct Script {
    std::vector<uint64_t> sequences;
    grpc::Status end;
  };
  grpc::Status WatchConsents(grpc::ServerContext*, const v1::WatchConsentsRequest* request,
                             grpc::ServerWriter<v1::WatchConsentsResponse>* writer) override {
    Script script;
    {
      std::lock_guard lock(mu);
      requests.push_back(*request);
      if (scripts.empty()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no more scripts");
      script = scripts.front();
      scripts.erase(scripts.begin());
    }
    for (uint64_t seq : script.sequences) {
      v1::WatchConsentsResponse change;
      change.set_sequence(seq);
      change.set_kind(v1::CONSENT_CHANGE_KIND_GRANTED);
      if (!writer->Write(change)) break;
    }
    return script.end;
  }
  std::mutex mu;
  std::vector<Script> scripts;
  std::vector<v1::WatchConsentsRequest> requests;
};

class sdkGrpcTransport : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "fedhub_sdk_tls_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    devcerts::DevCertsOptions certs;
    certs.out_dir = dir_;
    certs.principals = {{"platform", "courses"}};
    ASSERT_TRUE(devcerts::GenerateDevCerts(certs).ok());

    grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = ReadFile(dir_ + "/ca.crt");
    ssl.pem_key_cert_pairs.push_back({ReadFile(dir_ + "/hub.key"), ReadFile(dir_ + "/hub.crt")});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl), &port_);
    builder.RegisterService(&hub_);
    builder.RegisterService(&linking_);
    builder.RegisterService(&consent_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port_, 0);
  }

  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }

  ClientOptions Options() const {
    ClientOptions o = ClientOptions::ForPrincipal(dir_, "courses", Cat("127.0.0.1:", port_));
    o.server_name_override = "localhost";
    o.deadline = milliseconds(5000);
    o.retry.initial_backoff = milliseconds(1);
    o.retry.jitter = 0;
    return o;
  }

  // A retrying connection whose sleeps are counted (each one precedes a retry) and skipped.
  std::shared_ptr<Connection> CountingRetries(const ClientOptions& o) {
    auto grpc = MakeGrpcConnection(o);
    EXPECT_TRUE(grpc.ok()) << grpc.status();
    return client::MakeRetryingConnection(
        *grpc, o.retry,
        client::RetryEnvironment{.now = [] { return std::chrono::steady_clock::now(); },
                                 .sleep = [this](milliseconds) { ++retries_; },
                                 .uniform01 = [] { return 0.0; }});
  }

  std::string dir_;
  int port_ = 0;
  FakeHubService hub_;
  FakeLinkingService linking_;
  FakeConsentService consent_;
  std::unique_ptr<grpc::Server> server_;
  std::atomic<int> retries_{0};
};

TEST_F(sdkGrpcTransport, AnswerArrives) {
  auto client = Client::Connect(Options());
  ASSERT_TRUE(client.ok()) << client.status();
  auto info = client->GetHubInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->version(), "9.9.9");
}

TEST_F(sdkGrpcTransport, HubStatusArrivesVerbatim) {
  const std::string message = "principal \"x-1\" not found (ünïcode kept)";
  hub_.failures = 1;
  hub_.failure = grpc::Status(grpc::StatusCode::NOT_FOUND, message, "details-bytes");
  auto client = Client::Connect(Options());
  ASSERT_TRUE(client.ok());
  const absl::Status s = client->GetHubInfo().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ToStd(s.message()), message);
  auto details = s.GetPayload("type.googleapis.com/google.rpc.Status");
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(std::string(*details), "details-bytes");
  EXPECT_EQ(hub_.calls, 1);
}

TEST_F(sdkGrpcTransport, IdempotentCallIsRetriedOverTheWire) {
  hub_.failures = 2;
  hub_.failure = grpc::Status(grpc::StatusCode::UNAVAILABLE, "restarting");
  auto conn = CountingRetries(Options());
  auto info = conn->GetHubInfo({});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(hub_.calls, 3);
  EXPECT_EQ(retries_, 2);
}

TEST_F(sdkGrpcTransport, ResourceExhaustedIsNotRetriedOverTheWire) {
  hub_.failures = -1;
  hub_.failure = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "quota");
  auto conn = CountingRetries(Options());
  EXPECT_EQ(conn->GetHubInfo({}).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(hub_.calls, 1);
  EXPECT_EQ(retries_, 0);
}

TEST_F(sdkGrpcTransport, MutatingCallRunsOnce) {
  auto client = Client::Connect(Options());
  ASSERT_TRUE(client.ok());
  const absl::Status s = client->UnlinkAccount("u-1").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ToStd(s.message()), "hub draining");
  EXPECT_EQ(linking_.calls, 1);
}

TEST_F(sdkGrpcTransport, EachAttemptHasItsOwnDeadline) {
  hub_.hang = true;
  ClientOptions o = Options();
  o.deadline = milliseconds(200);
  o.retry.max_attempts = 3;
  auto conn = CountingRetries(o);
  const auto start = std::chrono::steady_clock::now();
  const absl::Status s = conn->GetHubInfo({}).status();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  // Three attempts, each ended by its own deadline (a deadline shared by the attempts would
  // end the call after one), with the retry sleeps skipped.
  EXPECT_EQ(retries_, 2);
  EXPECT_GE(elapsed, milliseconds(3 * 200 - 30));
}

TEST_F(sdkGrpcTransport, FollowConsentsResumesAfterTheStreamDrops) {
  consent_.scripts = {
      {{1, 2}, grpc::Status(grpc::StatusCode::UNAVAILABLE, "goaway")},
      {{2, 3, 4, 5}, grpc::Status::OK},
  };
  auto client = Client::Connect(Options());
  ASSERT_TRUE(client.ok());
  std::vector<uint64_t> delivered;
  const absl::Status s = client->FollowConsents({}, [&](const v1::WatchConsentsResponse& c) {
    delivered.push_back(c.sequence());
    return c.sequence() < 4;
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_THAT(delivered, ElementsAre(1, 2, 3, 4));
  std::lock_guard lock(consent_.mu);
  ASSERT_EQ(consent_.requests.size(), 2u);
  EXPECT_EQ(consent_.requests[0].after_sequence(), 0u);
  EXPECT_EQ(consent_.requests[1].after_sequence(), 2u);
}

TEST_F(sdkGrpcTransport, FollowConsentsReturnsARefusal) {
  consent_.scripts = {{{}, grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "suspended")}};
  auto client = Client::Connect(Options());
  ASSERT_TRUE(client.ok());
  const absl::Status s =
      client->FollowConsents({}, [](const v1::WatchConsentsResponse&) { return true; });
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ToStd(s.message()), "suspended");
}

}  // namespace
}  // namespace fedhub
