// The event log: every published event and erasure notice, in one total order, durable in
// RocksDB (column family `events`, keyed by offset) and retained by age and size.
//
// Offsets start at 1 and increase; a gap is possible (a refused group), a reordering is
// not. Events are appended inside a Store transaction, so an event, its ledger and audit
// entries and the state it changes (catalogue items) are one WriteBatch. They become
// *visible* to readers only after that batch is durable and the hooks registered before
// them in the same commit have run (Txn::AfterCommit runs in order): a revocation updates
// the consent index before its erasure notice, or any later event, can be read.
//
// Readers are Tails. A tail that keeps up is fed from memory: each commit pushes the new
// events to its bounded buffer. When the buffer is full the tail drops to reading the
// durable log from its cursor until it has caught up, then is fed from memory again, so a
// slow reader costs the hub its buffer and a cursor, never unbounded memory, and never
// slows the writers or other readers.
//
// Thread-safety: thread-safe.
#ifndef FEDHUB_HUB_STREAM_EVENT_LOG_H_
#define FEDHUB_HUB_STREAM_EVENT_LOG_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "fedhub/storage/v1/records.pb.h"
#include "storage/store.h"

namespace fedhub::stream {

// An event as read back: its offset and record, shared by every reader holding it.
struct LogEvent {
  uint64_t offset = 0;
  size_t bytes = 0;  // stored size
  fedhub::storage::v1::StoredEvent event;
};
using LogEventPtr = std::shared_ptr<const LogEvent>;

struct LogOptions {
  // Events older than this are removed; 0 keeps them regardless of age.
  int64_t retention_micros = int64_t{7} * 24 * 3600 * 1'000'000;
  // Once the retained events exceed this many bytes the oldest are removed; 0: no limit.
  uint64_t retention_bytes = uint64_t{1} << 30;
  // How often the trimmer looks at age; it also runs when an append passes the size limit.
  int64_t trim_interval_micros = 10'000'000;
  // Events a tail buffers in memory before it falls back to the durable log.
  size_t tail_buffer_events = 10'000;
};

// Where the log stands.
struct LogExtent {
  uint64_t first = 1;  // oldest retained offset (head + 1 when empty)
  uint64_t head = 0;   // newest offset written (0: nothing ever written)
  uint64_t bytes = 0;  // bytes of retained events
  uint64_t events() const { return head >= first ? head - first + 1 : 0; }
  // The oldest cursor a reader may resume after.
  uint64_t oldest_cursor() const { return first - 1; }
};

class EventLog;

// One reader's position and buffer. Create with EventLog::OpenTail; the reader owns it.
class Tail {
 public:
  ~Tail();
  Tail(const Tail&) = delete;
  Tail& operator=(const Tail&) = delete;

  // Up to `max` events after the cursor, in order, and advances the cursor past them.
  // Empty when the reader has caught up; `wake` will be called when there is more.
  // OUT_OF_RANGE when the cursor has fallen behind retention (the message names the
  // oldest valid cursor).
  absl::StatusOr<std::vector<LogEventPtr>> Next(size_t max);
  uint64_t cursor() const;
  // True while fed from memory (for metrics and tests).
  bool live() const;

 private:
  friend class EventLog;
  Tail(EventLog* log, uint64_t cursor, std::function<void()> wake)
      : log_(log), wake_(std::move(wake)), cursor_(cursor) {}
  EventLog* const log_;
  const std::function<void()> wake_;
  mutable std::mutex mu_;
  uint64_t cursor_;                // guarded by mu_: last offset handed out
  bool live_ = false;              // guarded by mu_ (and EventLog::mu_ to change)
  std::deque<LogEventPtr> buffer_; // guarded by mu_: events after cursor_, while live_
};

class EventLog {
 public:
  static absl::StatusOr<std::unique_ptr<EventLog>> Open(storage::Store* store, LogOptions options);
  ~EventLog();

  // Appends `events` in order inside `txn` and returns the offset of the first. They
  // become visible once the transaction is durable. `encoded`, if given, holds each
  // event already serialised (done by the caller, off the committing thread).
  absl::StatusOr<uint64_t> Append(storage::Txn& txn,
                                  std::vector<fedhub::storage::v1::StoredEvent> events,
                                  std::vector<std::string> encoded = {});

  LogExtent extent() const;
  // Readers currently served from the durable log because they fell behind their buffer.
  size_t tails_behind() const;
  // Newest offset readers may see.
  uint64_t visible_head() const;

  // A reader positioned after `cursor`; `wake` is called (from the committing thread; it
  // must not block) when events arrive after it has caught up. OUT_OF_RANGE if `cursor`
  // is older than retention, INVALID_ARGUMENT if it is past the head.
  absl::StatusOr<std::unique_ptr<Tail>> OpenTail(uint64_t cursor, std::function<void()> wake);

  // OK if a subscriber may resume after `cursor`: OUT_OF_RANGE (naming the oldest valid
  // cursor) if retention removed what follows it, or if it is past the newest offset.
  absl::Status CheckCursor(uint64_t cursor) const;

  // Reads committed events with offsets in (after, min(visible head, after + max)].
  absl::StatusOr<std::vector<LogEventPtr>> Read(uint64_t after, size_t max) const;

  // Removes what retention no longer covers, now. Returns the number of events removed.
  absl::StatusOr<uint64_t> TrimNow();

  // The extent as stored in `snapshot` (for reads consistent with other state).
  static absl::StatusOr<LogExtent> ExtentAt(const storage::Snapshot& snapshot);

 private:
  EventLog(storage::Store* store, LogOptions options, LogExtent extent);
  friend class Tail;
  void Publish(std::vector<LogEventPtr> events);
  void Detach(Tail* tail);
  // Attaches `tail` to the live feed if it has read everything visible. Returns false
  // if more became visible meanwhile.
  bool TryGoLive(Tail* tail);
  void TrimLoop();
  absl::StatusOr<uint64_t> TrimChunk(int64_t now, bool* more);

  storage::Store* const store_;
  const LogOptions options_;

  mutable std::mutex mu_;
  LogExtent extent_;           // guarded by mu_: as committed (first/bytes follow trims)
  uint64_t visible_ = 0;       // guarded by mu_
  std::set<Tail*> tails_;      // guarded by mu_

  std::mutex trim_mu_;
  std::condition_variable trim_cv_;
  bool trim_wanted_ = false;   // guarded by trim_mu_
  bool stopping_ = false;      // guarded by trim_mu_
  std::thread trimmer_;
};

}  // namespace fedhub::stream

#endif  // FEDHUB_HUB_STREAM_EVENT_LOG_H_
