// A what-if for the grant benchmark: a second gRPC server over the same Hub, built like
// server::Server (same services, mTLS, resource quota and channel arguments) except for
// the sync server's MAX_POLLERS. gRPC's sync server lets a thread exit once its handler
// returns if more than MAX_POLLERS threads are polling (default 2), and starts a new one
// whenever fewer than MIN_POLLERS (default 1) poll. Grant handlers block in group commit
// and return in bursts (a whole group at once), so with the default most of them exit
// and the next requests start new threads. With MAX_POLLERS at least the number of
// concurrent calls, the threads stay.
#ifndef FEDHUB_BENCH_TUNED_SERVER_H_
#define FEDHUB_BENCH_TUNED_SERVER_H_

#include <grpcpp/server.h>

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "app/hub.h"
#include "server/services.h"

namespace fedhub::bench {

class TunedServer {
 public:
  static absl::StatusOr<std::unique_ptr<TunedServer>> Start(Hub& hub, int max_pollers);
  ~TunedServer();
  int port() const { return port_; }

 private:
  TunedServer() = default;
  server::StreamSet streams_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace fedhub::bench

#endif  // FEDHUB_BENCH_TUNED_SERVER_H_
