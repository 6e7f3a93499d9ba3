// The bookkeeping behind fedhub::Publisher: where each published event is until its future
// resolves, how events are cut into batches, and what the hub's answer to a batch does to
// them. No threads, streams or waiting: the Publisher drives it under its own mutex.
//
// Every event is in exactly one place until its future resolves: the queue (not in a batch
// yet), in flight (written to the open stream, unanswered), or to re-send (a batch to write
// again before anything from the queue: the unanswered batches of a failed stream, and what
// is left of a refused batch). Batches to re-send are kept in publishing order, so re-sent
// events keep their relative order.
//
// Thread-safety: thread-compatible.
#ifndef FEDHUB_SDK_CLIENT_PUBLISH_BOOK_H_
#define FEDHUB_SDK_CLIENT_PUBLISH_BOOK_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fedhub/publisher.h"
#include "fedhub/v1/stream.pb.h"

namespace fedhub::client {

using PublishResult = absl::StatusOr<uint64_t>;

class PublishBook {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  PublishBook(size_t max_batch_events, size_t max_batch_bytes)
      : max_batch_events_(max_batch_events), max_batch_bytes_(max_batch_bytes) {}

  // Queues an event whose serialized size (with its framing in a batch) is `bytes`.
  void Add(v1::PublishEvent event, size_t bytes, TimePoint now,
           std::promise<PublishResult> promise);

  // Events whose future has not resolved.
  size_t outstanding() const { return outstanding_; }
  // Batches written to the open stream and not answered.
  size_t in_flight() const { return in_flight_.size(); }
  // Publishing number (from 1) of the newest event added; 0 before the first.
  uint64_t last_seq() const { return next_seq_ - 1; }
  // Publishing number of the oldest event whose future has not resolved; UINT64_MAX if none.
  uint64_t OldestUnresolved() const;

  bool HasResend() const { return !resend_.empty(); }
  bool QueueEmpty() const { return queue_.empty(); }
  // The queue holds at least a full batch, by count or by bytes.
  bool QueueFull() const {
    return queue_.size() >= max_batch_events_ || queued_bytes_ >= max_batch_bytes_;
  }
  // The oldest queued event's publishing number and arrival. The queue must not be empty.
  uint64_t oldest_queued_seq() const { return queue_.front().seq; }
  TimePoint oldest_queued_at() const { return queue_.front().queued_at; }

  // Puts the next batch in flight and returns what to write: the first batch to re-send if
  // there is one, else a new batch cut from the queue (at least one event, then as many as
  // the count and byte limits allow). Something must be waiting to be sent.
  std::shared_ptr<const v1::PublishRequest> SendNext();

  // Applies the hub's answer to the oldest batch in flight: accepted resolves its events
  // with their offsets; refused fails the events it names and queues the others to re-send.
  // A breach of the protocol (nothing in flight, another batch id, a wrong number of offsets,
  // no outcome) is INTERNAL and changes nothing.
  absl::Status Answer(const v1::PublishResponse& ack, PublisherStats& stats);

  // The open stream failed: its unanswered batches are to be re-sent.
  void ReturnInFlight();

  // Resolves every outstanding event with `status`.
  void FailAll(const absl::Status& status, PublisherStats& stats);

 private:
  struct Pending {
    uint64_t seq = 0;
    v1::PublishEvent event;
    size_t bytes = 0;
    TimePoint queued_at;
    std::promise<PublishResult> promise;
  };
  // One PublishRequest and the futures of its events. A re-sent batch keeps its batch_id.
  struct Batch {
    uint64_t id = 0;
    std::shared_ptr<const v1::PublishRequest> request;
    std::vector<uint64_t> seqs;  // publishing numbers of request->events(i)
    std::vector<std::promise<PublishResult>> promises;

    uint64_t first_seq() const { return seqs.front(); }
  };

  Batch Cut();
  void Refused(Batch& batch, const v1::BatchRefused& refused, PublisherStats& stats);
  void InsertResend(Batch batch);

  const size_t max_batch_events_;
  const size_t max_batch_bytes_;
  std::deque<Pending> queue_;
  size_t queued_bytes_ = 0;
  std::deque<Batch> in_flight_;
  std::deque<Batch> resend_;
  size_t outstanding_ = 0;
  uint64_t next_seq_ = 1;
  uint64_t next_batch_id_ = 1;
};

}  // namespace fedhub::client

#endif  // FEDHUB_SDK_CLIENT_PUBLISH_BOOK_H_
