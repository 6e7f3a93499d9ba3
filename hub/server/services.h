// The gRPC services: thin translations between requests, the domain and statuses.
#ifndef FEDHUB_HUB_SERVER_SERVICES_H_
#define FEDHUB_HUB_SERVER_SERVICES_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>

#include <grpcpp/impl/codegen/service_type.h>
#include <grpcpp/support/status.h>

#include "app/hub.h"
#include "stream/work_pool.h"

namespace fedhub::server {

// The server streams open on a server. A stream joins when it starts and leaves in its
// reactor's OnDone. At shutdown the server ends every open stream with a status (so a
// client learns to resume instead of waiting out the grace period) and waits until each
// has left, so no reactor runs after the Hub it reads from is closed.
//
// Thread-safety: thread-safe.
class StreamSet {
 public:
  class Stream {
   public:
    // Ends the stream with `status` if it has not ended yet. Must not block and must not
    // call back into the StreamSet.
    virtual void End(const grpc::Status& status) = 0;

   protected:
    ~Stream() = default;
  };

  // What a stream ends with when the server shuts down.
  static grpc::Status ShuttingDown();

  // False once EndAll ran: the stream must end at once and not touch the hub again.
  bool Join(Stream* stream);
  // Called from OnDone of a stream that joined; the last thing it does with the set.
  void Leave(Stream* stream);
  // Refuses new streams and ends the open ones with ShuttingDown().
  void EndAll();
  // Waits until every stream that joined has left.
  void WaitUntilEmpty();

 private:
  std::mutex mu_;
  std::condition_variable empty_;
  std::set<Stream*> open_;  // guarded by mu_
  bool closing_ = false;    // guarded by mu_
};

std::unique_ptr<grpc::Service> NewHubService(Hub& hub);
std::unique_ptr<grpc::Service> NewRegistryService(Hub& hub);
std::unique_ptr<grpc::Service> NewLinkingService(Hub& hub);
std::unique_ptr<grpc::Service> NewConsentService(Hub& hub, StreamSet* streams);
std::unique_ptr<grpc::Service> NewAuditService(Hub& hub);
std::unique_ptr<grpc::Service> NewReportService(Hub& hub);
// Streams build their messages on `pool`.
std::unique_ptr<grpc::Service> NewStreamService(Hub& hub, StreamSet* streams, stream::WorkPool* pool);
std::unique_ptr<grpc::Service> NewCatalogueService(Hub& hub);

}  // namespace fedhub::server

#endif  // FEDHUB_HUB_SERVER_SERVICES_H_
