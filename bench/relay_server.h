// The streaming benchmark's baseline: a plain relay that serves fedhub.v1.StreamService
// (Publish and Subscribe; every other method is UNIMPLEMENTED) on the hub's own mutual-TLS
// setup (the same certificate, key and client CA, the same server credentials), with no
// identity, consent or validation checks and no storage.
//
// Each PublishRequest is acknowledged at once (offsets from a counter) and forwarded as
// ONE SubscribeResponse, with the same events, to every open subscriber: each
// PublishEvent becomes a DeliveredEvent with the next offset, the profile fields copied
// and the person named by a fixed pseudonym. Every subscriber has a bounded queue of
// messages; while any queue is full the relay stops reading from publishers (gRPC flow
// control then blocks them), so it never buffers without bound. It is what the
// benchmark's topology costs with gRPC, TLS and protobuf and nothing else.
#ifndef FEDHUB_BENCH_RELAY_SERVER_H_
#define FEDHUB_BENCH_RELAY_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace fedhub::bench {

struct RelayOptions {
  // Directory with the hub's certificates: hub.crt, hub.key (served) and ca.crt (the CA
  // that client certificates must chain to).
  std::string certs_dir;
  // Where to listen; port 0 lets the OS pick one (read it with port()).
  std::string listen = "127.0.0.1:0";
  // Messages (one per PublishRequest) each subscriber may have waiting.
  size_t queue_messages = 16;
  // Stands in for the caller's platform id in every DeliveredEvent.
  std::string publisher_platform_id = "courses";
  // Names every person in every ProfileUpdate.
  std::string pseudonym = "relay-pseudonym";
};

// Counters since Start.
struct RelayStats {
  uint64_t batches = 0;          // PublishRequests forwarded
  uint64_t events = 0;           // PublishEvents forwarded
  uint64_t publisher_waits = 0;  // times a publisher waited for a full subscriber queue
};

// Thread-safety: thread-safe. Shutdown (or destruction) ends every open stream with
// UNAVAILABLE and waits until gRPC has released them.
class RelayServer {
 public:
  static absl::StatusOr<std::unique_ptr<RelayServer>> Start(const RelayOptions& options);
  ~RelayServer();

  int port() const;
  RelayStats stats() const;
  void Shutdown(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

 private:
  struct Rep;
  explicit RelayServer(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace fedhub::bench

#endif  // FEDHUB_BENCH_RELAY_SERVER_H_
