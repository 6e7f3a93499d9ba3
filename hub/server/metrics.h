// The hub's Prometheus metrics. One registry per hub process, exposed on its own port.
//
// Thread-safety: thread-safe (prometheus-cpp metrics are).
#ifndef FEDHUB_HUB_SERVER_METRICS_H_
#define FEDHUB_HUB_SERVER_METRICS_H_

#include <memory>
#include <string>
#include <string_view>

#include "storage/store.h"

namespace prometheus {
class Registry;
class Exposer;
}  // namespace prometheus

namespace fedhub::server {

class Metrics {
 public:
  explicit Metrics(const storage::Store* store);
  ~Metrics();

  void ObserveRpc(std::string_view method, int grpc_code, double seconds);
  void ConsentCheck(bool allowed);
  void AuditEntry(bool allowed);
  void StreamOpened();
  void StreamClosed();
  void EventsPublished(size_t n);
  void EventsDelivered(size_t n);

  // Starts serving /metrics on `address` ("host:port", port 0 picks one).
  void Serve(const std::string& address);
  // The port /metrics is served on, 0 if not serving.
  int port() const;

  prometheus::Registry& registry();

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace fedhub::server

#endif  // FEDHUB_HUB_SERVER_METRICS_H_
