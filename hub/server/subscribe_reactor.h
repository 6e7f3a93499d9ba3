// The server side of StreamService.Subscribe: one reactor per stream.
//
// Its work runs as a chain, one step at a time: build the next message on the work pool
// (read from the tail, filter, check consent, narrow), make its audit entries durable
// (group commit, no thread waits), check again under the consent index's delivery gate if a
// revocation or an expiry happened since the check, hand it to gRPC, and when gRPC has
// taken it, build the next. New events wake an idle chain. While a message is being
// written nothing more is read, so a subscriber that stops reading holds one message and
// its tail's bounded buffer, and then falls back to the durable log.
#ifndef FEDHUB_HUB_SERVER_SUBSCRIBE_REACTOR_H_
#define FEDHUB_HUB_SERVER_SUBSCRIBE_REACTOR_H_

#include <memory>
#include <mutex>

#include <grpcpp/support/server_callback.h>

#include "app/hub.h"
#include "fedhub/v1/stream.pb.h"
#include "server/services.h"
#include "stream/delivery.h"
#include "stream/work_pool.h"

namespace fedhub::server {

class SubscribeReactor final : public grpc::ServerWriteReactor<fedhub::v1::SubscribeResponse>,
                               public StreamSet::Stream {
 public:
  // Starts streaming after `cursor`; with `snapshot`, first the catalogue in it.
  static SubscribeReactor* Start(Hub& hub, StreamSet* streams, stream::WorkPool* pool, Caller caller,
                                 const fedhub::v1::SubscribeRequest& request, uint64_t cursor,
                                 std::unique_ptr<storage::Snapshot> snapshot);

  void End(const grpc::Status& status) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  SubscribeReactor(Hub& hub, StreamSet* streams, stream::WorkPool* pool, Caller caller,
                   stream::SubscriberView view, size_t max_events, uint64_t cursor,
                   std::unique_ptr<storage::Snapshot> snapshot);
  void Wake();
  void ScheduleLocked();
  void Pump();
  // The next message, or nullopt when there is nothing to send now.
  absl::StatusOr<std::optional<stream::Built>> NextMessage();
  absl::StatusOr<stream::Built> SnapshotPage();
  void Send(stream::Built built);
  // Ends the chain; returns true if the reactor must now be destroyed.
  bool IdleLocked();
  void FinishLocked(const grpc::Status& status);
  void Fail(const absl::Status& status);
  void Destroy();

  Hub& hub_;
  StreamSet* const streams_;
  stream::WorkPool* const pool_;
  const Caller caller_;
  const size_t max_events_;
  stream::Deliverer deliverer_;
  std::unique_ptr<stream::Tail> tail_;  // set once in Start; used by the chain only
  // Catalogue snapshot being sent (chain only), its position and its cursor.
  std::unique_ptr<storage::Snapshot> snapshot_;
  std::string snapshot_key_;
  const uint64_t snapshot_cursor_;
  uint64_t sent_cursor_;  // chain only: cursor of the last message sent

  std::mutex mu_;
  // guarded by mu_: the message being written, and the arena it lives on
  fedhub::v1::SubscribeResponse* in_flight_ = nullptr;
  std::unique_ptr<google::protobuf::Arena> in_flight_arena_;
  bool joined_ = false;                      // guarded by mu_
  bool busy_ = false;      // guarded by mu_: the chain is running (pool, audit or write)
  bool dirty_ = false;     // guarded by mu_: woken while busy
  bool finished_ = false;  // guarded by mu_
  bool done_ = false;      // guarded by mu_: OnDone ran
};

}  // namespace fedhub::server

#endif  // FEDHUB_HUB_SERVER_SUBSCRIBE_REACTOR_H_
