#include "stream/event_log.h"

#include <algorithm>
#include <chrono>

#include "core/strings.h"
#include "storage/keys.h"

namespace fedhub::stream {
namespace {

using fedhub::storage::v1::StoredEvent;
using storage::Cf;

constexpr size_t kTrimChunk = 1000;

std::string EncodeExtent(const LogExtent& e) {
  std::string v;
  storage::AppendU64BE(&v, e.first);
  storage::AppendU64BE(&v, e.head);
  storage::AppendU64BE(&v, e.bytes);
  return v;
}

absl::StatusOr<LogExtent> DecodeExtent(const std::optional<std::string>& v) {
  LogExtent e;
  if (!v) return e;
  if (v->size() != 24) {
    return absl::DataLossError(Cat("event log extent record has ", v->size(),
                                   " bytes, expected 24; the data directory is damaged"));
  }
  std::string_view s(*v);
  e.first = *storage::ReadU64BE(s);
  e.head = *storage::ReadU64BE(s.substr(8));
  e.bytes = *storage::ReadU64BE(s.substr(16));
  return e;
}

absl::Status OutOfRange(uint64_t cursor, const LogExtent& e) {
  return absl::OutOfRangeError(
      Cat("cursor ", cursor, " is older than the event log's retention; the oldest valid cursor is ",
          e.oldest_cursor(), " (older events were removed: resume from ", e.oldest_cursor(),
          ", or start over with a catalogue snapshot)"));
}

}  // namespace

absl::StatusOr<std::shared_ptr<LogEvent>> MakeLogEvent(uint64_t offset, StoredEvent event,
                                                       std::string_view encoded) {
  auto le = std::make_shared<LogEvent>();
  le->offset = offset;
  le->bytes = encoded.size();
  if (event.has_profile()) {
    // StoredEvent.profile (5) -> ProfileChange.fields (3), as stored.
    auto profile = SubField(encoded, 5);
    if (!profile.ok()) return profile.status();
    auto fields = SubField(*profile, 3);
    if (!fields.ok()) return fields.status();
    if (absl::Status s = SplitProfileFields(*fields, &le->parts); !s.ok()) return s;
    event.mutable_profile()->clear_fields();
  }
  le->event = std::move(event);
  return le;
}

Tail::~Tail() { log_->Detach(this); }

uint64_t Tail::cursor() const {
  std::lock_guard lock(log_->mu_);
  return cursor_;
}

absl::StatusOr<std::vector<LogEventPtr>> Tail::Next(size_t max) { return log_->NextFor(this, max); }

absl::StatusOr<std::vector<LogEventPtr>> EventLog::NextFor(Tail* tail, size_t max) {
  std::vector<LogEventPtr> out;
  while (true) {
    uint64_t from;
    {
      std::lock_guard lock(mu_);
      if (tail->cursor_ >= window_floor_) {
        // Inside the window: everything after the cursor is here.
        auto it = std::upper_bound(window_.begin(), window_.end(), tail->cursor_,
                                   [](uint64_t c, const LogEventPtr& e) { return c < e->offset; });
        for (; it != window_.end() && out.size() < max; ++it) out.push_back(*it);
        if (out.empty()) {
          tail->waiting_ = true;
        } else {
          tail->cursor_ = out.back()->offset;
        }
        return out;
      }
      from = tail->cursor_;
    }
    // Behind the window: read the durable log.
    auto read = Read(from, max);
    if (!read.ok()) return read.status();
    std::lock_guard lock(mu_);
    if (!read->empty()) {
      tail->cursor_ = std::max(tail->cursor_, read->back()->offset);
      return std::move(*read);
    }
    // Nothing stored after the cursor up to the window: offsets left unused.
    tail->cursor_ = std::max(tail->cursor_, window_floor_);
  }
}

absl::StatusOr<std::unique_ptr<EventLog>> EventLog::Open(storage::Store* store, LogOptions options) {
  auto raw = store->Get(Cf::kMeta, storage::kEventsExtentKey);
  if (!raw.ok()) return raw.status();
  auto extent = DecodeExtent(*raw);
  if (!extent.ok()) return extent.status();
  std::unique_ptr<EventLog> log(new EventLog(store, options, *extent));
  log->trimmer_ = std::thread([l = log.get()] { l->TrimLoop(); });
  return log;
}

EventLog::EventLog(storage::Store* store, LogOptions options, LogExtent extent)
    : store_(store), options_(options), extent_(extent), visible_(extent.head), window_floor_(extent.head) {}

EventLog::~EventLog() {
  {
    std::lock_guard lock(trim_mu_);
    stopping_ = true;
  }
  trim_cv_.notify_all();
  if (trimmer_.joinable()) trimmer_.join();
}

absl::StatusOr<uint64_t> EventLog::Append(storage::Txn& txn, std::vector<StoredEvent> events) {
  std::vector<Prepared> prepared;
  prepared.reserve(events.size());
  for (StoredEvent& ev : events) {
    Prepared p;
    ev.SerializeToString(&p.encoded);
    auto le = MakeLogEvent(0, std::move(ev), p.encoded);
    if (!le.ok()) return le.status();
    p.event = std::move(*le);
    prepared.push_back(std::move(p));
  }
  return Append(txn, std::move(prepared));
}

absl::StatusOr<uint64_t> EventLog::Append(storage::Txn& txn, std::vector<Prepared> events) {
  auto raw = txn.Get(Cf::kMeta, storage::kEventsExtentKey);
  if (!raw.ok()) return raw.status();
  auto extent = DecodeExtent(*raw);
  if (!extent.ok()) return extent.status();
  LogExtent e = *extent;
  uint64_t first = e.head + 1;
  std::vector<LogEventPtr> appended;
  appended.reserve(events.size());
  for (Prepared& p : events) {
    p.event->offset = ++e.head;
    e.bytes += p.encoded.size();
    txn.Put(Cf::kEvents, storage::U64Key(e.head), std::move(p.encoded));
    appended.push_back(std::move(p.event));
  }
  txn.Put(Cf::kMeta, storage::kEventsExtentKey, EncodeExtent(e));
  txn.AfterCommit([this, e, appended = std::move(appended)]() mutable {
    {
      std::lock_guard lock(mu_);
      extent_ = e;
    }
    Publish(std::move(appended));
    if (options_.retention_bytes != 0 && e.bytes > options_.retention_bytes) {
      std::lock_guard lock(trim_mu_);
      trim_wanted_ = true;
      trim_cv_.notify_one();
    }
  });
  return first;
}

void EventLog::Publish(std::vector<LogEventPtr> events) {
  if (events.empty()) return;
  std::lock_guard lock(mu_);
  visible_ = events.back()->offset;
  for (LogEventPtr& ev : events) {
    window_bytes_ += ev->bytes;
    window_.push_back(std::move(ev));
  }
  while (!window_.empty() &&
         (window_.size() > options_.tail_buffer_events || window_bytes_ > kMemoryWindowBytes)) {
    window_floor_ = window_.front()->offset;
    window_bytes_ -= window_.front()->bytes;
    window_.pop_front();
  }
  // Wake while holding mu_ so a tail cannot be destroyed (Detach takes mu_) meanwhile;
  // wake functions only schedule work and never call back into the log.
  for (Tail* t : tails_) {
    if (!t->waiting_) continue;
    t->waiting_ = false;
    t->wake_();
  }
}

absl::StatusOr<std::unique_ptr<Tail>> EventLog::OpenTail(uint64_t cursor,
                                                        std::function<void()> wake) {
  std::lock_guard lock(mu_);
  if (cursor < extent_.oldest_cursor()) return OutOfRange(cursor, extent_);
  std::unique_ptr<Tail> tail(new Tail(this, cursor, std::move(wake)));
  tails_.insert(tail.get());
  return tail;
}

absl::Status EventLog::CheckCursor(uint64_t cursor) const {
  std::lock_guard lock(mu_);
  if (cursor < extent_.oldest_cursor()) return OutOfRange(cursor, extent_);
  if (cursor > extent_.head) {
    return absl::OutOfRangeError(Cat("cursor ", cursor, " is past the end of the event log (newest offset ",
                                     extent_.head, "); resume from a cursor this hub returned"));
  }
  return absl::OkStatus();
}

void EventLog::Detach(Tail* tail) {
  std::lock_guard lock(mu_);
  tails_.erase(tail);
}

LogExtent EventLog::extent() const {
  std::lock_guard lock(mu_);
  return extent_;
}

size_t EventLog::tails_behind() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (Tail* t : tails_) n += t->cursor_ < window_floor_ ? 1 : 0;
  return n;
}

uint64_t EventLog::visible_head() const {
  std::lock_guard lock(mu_);
  return visible_;
}

absl::StatusOr<std::vector<LogEventPtr>> EventLog::Read(uint64_t after, size_t max) const {
  uint64_t limit;
  {
    std::lock_guard lock(mu_);
    if (after < extent_.oldest_cursor()) return OutOfRange(after, extent_);
    limit = visible_;
  }
  std::vector<LogEventPtr> out;
  if (after >= limit || max == 0) return out;
  absl::Status parse_error;
  absl::Status s = store_->Scan(Cf::kEvents, "", storage::U64Key(after + 1),
                                [&](std::string_view key, std::string_view value) {
                                  uint64_t offset = *storage::ReadU64BE(key);
                                  if (offset > limit) return false;
                                  StoredEvent stored;
                                  absl::StatusOr<std::shared_ptr<LogEvent>> ev =
                                      absl::DataLossError("does not parse");
                                  if (stored.ParseFromArray(value.data(), value.size())) {
                                    ev = MakeLogEvent(offset, std::move(stored), value);
                                  }
                                  if (!ev.ok()) {
                                    parse_error = absl::DataLossError(
                                        Cat("event ", offset, " cannot be decoded (", ev.status().message(),
                                            "); the data directory is damaged"));
                                    return false;
                                  }
                                  out.push_back(std::move(*ev));
                                  return out.size() < max;
                                });
  if (!s.ok()) return s;
  if (!parse_error.ok()) return parse_error;
  // Trimming may have removed events between the check above and the scan.
  std::lock_guard lock(mu_);
  if (after < extent_.oldest_cursor()) return OutOfRange(after, extent_);
  return out;
}

absl::StatusOr<LogExtent> EventLog::ExtentAt(const storage::Snapshot& snapshot) {
  auto raw = snapshot.Get(Cf::kMeta, storage::kEventsExtentKey);
  if (!raw.ok()) return raw.status();
  return DecodeExtent(*raw);
}

void EventLog::TrimLoop() {
  std::unique_lock lock(trim_mu_);
  while (!stopping_) {
    trim_cv_.wait_for(lock, std::chrono::microseconds(options_.trim_interval_micros),
                      [&] { return stopping_ || trim_wanted_; });
    if (stopping_) return;
    trim_wanted_ = false;
    lock.unlock();
    // A failure (disk) is retried at the next interval; appends are unaffected.
    (void)TrimNow();
    lock.lock();
  }
}

absl::StatusOr<uint64_t> EventLog::TrimNow() {
  static std::mutex one_trimmer;
  std::lock_guard guard(one_trimmer);
  uint64_t total = 0;
  bool more = true;
  while (more) {
    auto n = TrimChunk(storage::NowMicros(), &more);
    if (!n.ok()) return n.status();
    total += *n;
  }
  return total;
}

// Removes up to kTrimChunk of the oldest events that retention no longer covers, with
// their event-id records, in one transaction. Only the trimmer moves `first`, so the
// events chosen from committed state are still the oldest when the transaction runs.
absl::StatusOr<uint64_t> EventLog::TrimChunk(int64_t now, bool* more) {
  *more = false;
  LogExtent e = extent();
  const int64_t cutoff = options_.retention_micros > 0 ? now - options_.retention_micros : INT64_MIN;
  struct Victim {
    uint64_t offset;
    size_t bytes;
    std::string id_key;
  };
  std::vector<Victim> victims;
  uint64_t bytes = e.bytes;
  absl::Status s = store_->Scan(Cf::kEvents, "", storage::U64Key(e.first), [&](std::string_view key,
                                                                              std::string_view value) {
    StoredEvent ev;
    if (!ev.ParseFromArray(value.data(), value.size())) return false;
    bool too_big = options_.retention_bytes != 0 && bytes > options_.retention_bytes;
    if (!too_big && ev.published_at_micros() >= cutoff) return false;
    victims.push_back({*storage::ReadU64BE(key), value.size(),
                       ev.has_erasure() ? std::string()
                                        : storage::EventIdKey(ev.publisher_platform_id(), ev.event_id())});
    bytes -= std::min<uint64_t>(bytes, value.size());
    return victims.size() < kTrimChunk;
  });
  if (!s.ok()) return s;
  if (victims.empty()) return 0;
  *more = victims.size() == kTrimChunk;
  s = store_->Commit([&](storage::Txn& txn) -> absl::Status {
    auto raw = txn.Get(Cf::kMeta, storage::kEventsExtentKey);
    if (!raw.ok()) return raw.status();
    auto cur = DecodeExtent(*raw);
    if (!cur.ok()) return cur.status();
    LogExtent next = *cur;
    for (const Victim& v : victims) {
      txn.Delete(Cf::kEvents, storage::U64Key(v.offset));
      if (!v.id_key.empty()) {
        auto id = txn.Get(Cf::kEventIds, v.id_key);
        if (!id.ok()) return id.status();
        fedhub::storage::v1::EventIdRecord rec;
        if (*id && rec.ParseFromString(**id) && rec.offset() == v.offset) txn.Delete(Cf::kEventIds, v.id_key);
      }
      next.bytes -= std::min<uint64_t>(next.bytes, v.bytes);
      next.first = v.offset + 1;
    }
    txn.Put(Cf::kMeta, storage::kEventsExtentKey, EncodeExtent(next));
    txn.AfterCommit([this, next] {
      std::lock_guard lock(mu_);
      extent_.first = next.first;
      extent_.bytes = next.bytes;
    });
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return victims.size();
}

}  // namespace fedhub::stream
