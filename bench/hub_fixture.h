// A real hub for the benchmarks, in this process: development certificates, a Hub with
// durable (synced) writes on its own data directory, the mTLS gRPC server on
// 127.0.0.1:<free port>, two member platforms ("courses" and "shop") registered by the
// bootstrap admin, and people linked across both with one consent each
// (courses -> shop, LEARNING for SYNC), so every check of them is allowed.
#ifndef FEDHUB_BENCH_HUB_FIXTURE_H_
#define FEDHUB_BENCH_HUB_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "app/hub.h"
#include "fedhub/client.h"
#include "raw_writes.h"
#include "server/server.h"

namespace fedhub::bench {

inline constexpr char kSource[] = "courses";
inline constexpr char kTarget[] = "shop";

class HubFixture {
 public:
  // Everything lives under `root` (certs/, hub-data/, signing.key).
  static absl::StatusOr<std::unique_ptr<HubFixture>> Start(const std::string& root, int people);
  ~HubFixture();

  Hub& hub() { return *hub_; }
  int port() const { return server_->port(); }
  std::string endpoint() const;
  const std::string& certs_dir() const { return certs_dir_; }
  int people() const { return people_; }
  // A Client of platform "courses" (one channel; copies share it).
  Client& source() { return *source_; }
  // Another Client of "courses", with its own channel.
  absl::StatusOr<Client> NewSourceClient() const;

  // The local user id of person i on "courses".
  static std::string SourceUser(int i);
  // The grant the benchmark issues for person i (n makes its evidence reference unique).
  static v1::GrantConsentRequest GrantFor(int i, uint64_t n);

  // Grants one consent and reads back, from the store, every record the grant's
  // WriteBatch wrote: the shape the raw baseline copies.
  absl::StatusOr<std::vector<PutShape>> MeasureGrantShape();

 private:
  HubFixture() = default;
  absl::Status LinkPeople(int threads);

  std::string certs_dir_;
  int people_ = 0;
  std::unique_ptr<Hub> hub_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<Client> source_;
  std::unique_ptr<Client> target_;
};

}  // namespace fedhub::bench

#endif  // FEDHUB_BENCH_HUB_FIXTURE_H_
