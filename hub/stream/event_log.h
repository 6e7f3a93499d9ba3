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
// Readers are Tails. The newest events are kept in memory in one window shared by every
// reader (at most LogOptions::tail_buffer_events events). A tail whose cursor is inside the
// window is fed from memory; a tail that has fallen further behind (a slow or stalled
// subscriber) reads the durable log from its cursor until it is back inside the window. So
// memory stays bounded whatever the number of readers and however far behind they are, and
// a slow reader never slows the writers or the other readers.
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
#include "stream/wire.h"

namespace fedhub::stream {

// An event as read back: its offset and record, shared by every reader holding it.
struct LogEvent {
  uint64_t offset = 0;
  size_t bytes = 0;  // stored size
  // For a profile change, `fields` is left empty: its wire bytes are in `parts`, split by
  // the category each field declares, so a delivery narrows by choosing parts.
  fedhub::storage::v1::StoredEvent event;
  CategoryParts parts;
};
using LogEventPtr = std::shared_ptr<const LogEvent>;

// The LogEvent of a stored event and its stored bytes.
absl::StatusOr<std::shared_ptr<LogEvent>> MakeLogEvent(uint64_t offset, fedhub::storage::v1::StoredEvent event,
                                                       std::string_view encoded);

// The most bytes of events the in-memory window holds, whatever their number.
constexpr uint64_t kMemoryWindowBytes = uint64_t{64} << 20;

struct LogOptions {
  // Events older than this are removed; 0 keeps them regardless of age.
  int64_t retention_micros = int64_t{7} * 24 * 3600 * 1'000'000;
  // Once the retained events exceed this many bytes the oldest are removed; 0: no limit.
  uint64_t retention_bytes = uint64_t{1} << 30;
  // How often the trimmer looks at age; it also runs when an append passes the size limit.
  int64_t trim_interval_micros = 10'000'000;
  // Newest events kept in memory for readers; a reader further behind reads the durable
  // log. The window also holds at most kMemoryWindowBytes of events.
  size_t tail_buffer_events = 100'000;
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

// One reader's position. Create with EventLog::OpenTail; the reader owns it.
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

 private:
  friend class EventLog;
  Tail(EventLog* log, uint64_t cursor, std::function<void()> wake)
      : log_(log), wake_(std::move(wake)), cursor_(cursor) {}
  EventLog* const log_;
  const std::function<void()> wake_;
  uint64_t cursor_;       // guarded by EventLog::mu_: last offset handed out
  bool waiting_ = false;  // guarded by EventLog::mu_: caught up, to be woken
};

class EventLog {
 public:
  static absl::StatusOr<std::unique_ptr<EventLog>> Open(storage::Store* store, LogOptions options);
  ~EventLog();

  // An event prepared for appending off the committing thread: MakeLogEvent(0, ...) of it
  // and its stored bytes.
  struct Prepared {
    std::shared_ptr<LogEvent> event;
    std::string encoded;
  };
  // Appends `events` in order inside `txn` (giving them their offsets) and returns the
  // offset of the first. They become visible once the transaction is durable.
  absl::StatusOr<uint64_t> Append(storage::Txn& txn, std::vector<Prepared> events);
  absl::StatusOr<uint64_t> Append(storage::Txn& txn, std::vector<fedhub::storage::v1::StoredEvent> events);

  LogExtent extent() const;
  // Readers currently served from the durable log because they fell behind the window.
  size_t tails_behind() const;
  // Newest offset readers may see.
  uint64_t visible_head() const;

  // A reader positioned after `cursor`; `wake` is called (from the committing thread; it
  // must not block) when events arrive after it has caught up. OUT_OF_RANGE if `cursor`
  // is older than retention. A cursor past the head is not refused here: check it first
  // with CheckCursor, which returns OUT_OF_RANGE for it.
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
  // Next for `tail` (see Tail::Next).
  absl::StatusOr<std::vector<LogEventPtr>> NextFor(Tail* tail, size_t max);
  void TrimLoop();
  absl::StatusOr<uint64_t> TrimChunk(int64_t now, bool* more);

  storage::Store* const store_;
  const LogOptions options_;

  mutable std::mutex mu_;
  LogExtent extent_;           // guarded by mu_: as committed (first/bytes follow trims)
  uint64_t visible_ = 0;       // guarded by mu_
  std::set<Tail*> tails_;      // guarded by mu_
  // guarded by mu_: the in-memory window, in offset order, and its size in bytes. Every
  // event after `window_floor_` and up to `visible_` is in it.
  std::deque<LogEventPtr> window_;
  uint64_t window_bytes_ = 0;
  uint64_t window_floor_ = 0;

  std::mutex trim_mu_;
  std::condition_variable trim_cv_;
  bool trim_wanted_ = false;   // guarded by trim_mu_
  bool stopping_ = false;      // guarded by trim_mu_
  std::thread trimmer_;
};

}  // namespace fedhub::stream

#endif  // FEDHUB_HUB_STREAM_EVENT_LOG_H_
