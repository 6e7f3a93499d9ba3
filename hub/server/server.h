// The gRPC face of the hub: every service on one mutual-TLS port, grpc.health.v1 and
// reflection, an optional plaintext health-only port for Kubernetes probes (a second
// server, so no business RPC is ever reachable without mTLS), and /metrics.
//
// Shutdown order: stop accepting, finish streams with a status, then the caller closes
// the Hub (which closes the database after in-flight commits returned).
#ifndef FEDHUB_HUB_SERVER_SERVER_H_
#define FEDHUB_HUB_SERVER_SERVER_H_

#include <chrono>
#include <memory>

#include "absl/status/statusor.h"
#include "app/hub.h"

namespace fedhub::server {

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Start(Hub& hub);
  ~Server();

  int port() const;
  int health_port() const;
  int metrics_port() const;
  // Stops accepting calls and waits up to `grace` for calls in flight.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));
  void Wait();

 private:
  struct Rep;
  explicit Server(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace fedhub::server

#endif  // FEDHUB_HUB_SERVER_SERVER_H_
