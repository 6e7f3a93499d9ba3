// The server side of StreamService.Subscribe: one reactor per stream.
//
// Messages go through a short pipeline, in order:
//   build  (work pool) read the next events from the tail, filter, check consent, name;
//   audit  (group commit) make the message's audit entries durable; no thread waits;
//   send   (work pool) under the consent index's delivery gate, check again if a
//          revocation or an expiry happened since the build, encode, hand to gRPC.
// Up to kPipelineDepth messages are between build and gRPC's acknowledgement of the write,
// so the next messages are built and audited while one is written, and one write is
// outstanding at a time (gRPC's rule). A subscriber that stops reading holds at most that
// many messages, then nothing more is read for it and its tail falls behind the log's
// in-memory window and is later served from the durable log. New events wake an idle builder.
#ifndef FEDHUB_HUB_SERVER_SUBSCRIBE_REACTOR_H_
#define FEDHUB_HUB_SERVER_SUBSCRIBE_REACTOR_H_

#include <deque>
#include <memory>
#include <mutex>

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>

#include "app/hub.h"
#include "fedhub/v1/stream.pb.h"
#include "server/services.h"
#include "stream/delivery.h"
#include "stream/work_pool.h"

namespace fedhub::server {

// Messages are written as bytes (the method is registered raw): Built::Encode produces the
// SubscribeResponse wire format directly.
class SubscribeReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer>,
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
  // A built message on its way to gRPC.
  struct Slot {
    stream::Built built;
    bool ready = false;  // audited (or nothing to audit)
  };
  static constexpr size_t kPipelineDepth = 4;

  void Wake();
  void ScheduleBuildLocked();
  void BuildLoop();
  // The next message, or nullopt when there is nothing to send now.
  absl::StatusOr<std::optional<stream::Built>> NextMessage();
  absl::StatusOr<stream::Built> SnapshotPage();
  void Audited(const std::shared_ptr<Slot>& slot, const absl::Status& status);
  // Hands the oldest message to the send step if it is ready and no write is outstanding.
  void TrySendLocked();
  void Send(std::shared_ptr<Slot> slot);
  // True once nothing runs for the reactor any more and gRPC is done with it.
  bool IdleLocked() const;
  void FinishLocked(const grpc::Status& status);
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

  std::mutex mu_;
  uint64_t built_cursor_;  // builder only: cursor of the last message built
  std::deque<std::shared_ptr<Slot>> pipeline_;  // guarded by mu_: built, not yet sent
  grpc::ByteBuffer in_flight_;  // guarded by mu_: the message being written
  bool joined_ = false;    // guarded by mu_
  bool building_ = false;  // guarded by mu_: the builder is scheduled or running
  bool dirty_ = false;     // guarded by mu_: woken while building
  bool sending_ = false;   // guarded by mu_: from the send step until OnWriteDone
  int audits_ = 0;         // guarded by mu_: audit commits whose callback has not run
  bool finished_ = false;  // guarded by mu_
  bool done_ = false;      // guarded by mu_: OnDone ran
};

}  // namespace fedhub::server

#endif  // FEDHUB_HUB_SERVER_SUBSCRIBE_REACTOR_H_
