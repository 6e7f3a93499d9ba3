// Publisher: Publish queues events in a PublishBook; a sender thread cuts them into batches
// and writes them to the Publish stream, reopening it after a failure; a reader thread (one
// per stream) hands the acknowledgements to the book, which resolves the events' futures.
#include "fedhub/publisher.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "client/backoff.h"
#include "client/follow_consents.h"
#include "client/publish_book.h"
#include "core/strings.h"

namespace fedhub {
namespace {

using Clock = std::chrono::steady_clock;
using Result = client::PublishResult;

// The hub's limits on one batch and one event id (stream.proto).
constexpr size_t kMaxBatchEvents = 1000;
constexpr size_t kMaxEventIdBytes = 128;
// A repeated message field's tag and length prefix, beyond the event's own bytes.
constexpr size_t kEventFramingBytes = 8;

absl::Status CheckEvent(const v1::PublishEvent& event, size_t max_bytes, size_t* bytes) {
  const std::string& id = event.event_id();
  if (id.empty() || id.size() > kMaxEventIdBytes) {
    return absl::InvalidArgumentError(Cat("event_id is ", id.size(),
                                          " bytes long; use 1 to 128 printable ASCII characters ",
                                          "without spaces, unique among your events"));
  }
  for (size_t i = 0; i < id.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(id[i]);
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(
          Cat("event_id has ", c == ' ' ? "a space" : "a byte that is not printable ASCII",
              " at position ", i, "; use 1 to 128 printable ASCII characters without spaces"));
    }
  }
  if (event.payload_case() == v1::PublishEvent::PAYLOAD_NOT_SET) {
    return absl::InvalidArgumentError(
        Cat("event \"", id, "\" has no payload; set `profile` or `catalogue`"));
  }
  *bytes = event.ByteSizeLong() + kEventFramingBytes;
  if (*bytes > max_bytes) {
    return absl::InvalidArgumentError(
        Cat("event \"", id, "\" is ", *bytes, " bytes; a batch carries at most ", max_bytes,
            " (PublisherOptions.max_batch_bytes), so shorten the event or raise the limit "
            "within the hub's message size limit"));
  }
  return absl::OkStatus();
}

// Stream ends after which the publisher reconnects and re-sends: the connection dropped,
// the hub went away or shed load, or a proxy ended the call. Anything else is the hub's
// answer to this publisher.
bool IsRetryableEnd(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kCancelled:
      return true;
    default:
      return false;
  }
}

}  // namespace

// Thread-safety: every public method may be called from any thread; the sender and reader
// threads share the state below under mu_.
class Publisher::Impl {
 public:
  Impl(std::shared_ptr<Connection> connection, const PublisherOptions& options)
      : connection_(std::move(connection)),
        options_(options),
        reconnect_(client::Normalized(options.reconnect)),
        book_(options.max_batch_events, options.max_batch_bytes) {}

  ~Impl() { Close().IgnoreError(); }

  void StartSender() {
    sender_ = std::thread([this] { RunSender(); });
  }

  std::future<Result> Publish(v1::PublishEvent event);
  absl::Status Flush();
  absl::Status Close();
  PublisherStats stats() const {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  struct StreamEnd {
    absl::Status status;
    bool asked = false;    // the publisher ended it (Close, with nothing outstanding)
    bool healthy = false;  // it carried an acknowledgement
  };

  void RunSender();
  StreamEnd Serve(PublishStream& stream);
  // Waits for the next batch to write and puts it in flight. Null when the stream must stop:
  // it ended, or Close found nothing outstanding (then *close is set).
  std::shared_ptr<const v1::PublishRequest> NextBatch(std::unique_lock<std::mutex>& lock,
                                                      bool* close)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReadAcks(PublishStream& stream);
  void FailOutstanding(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool HasUnsent() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return book_.HasResend() || !book_.QueueEmpty();
  }

  const std::shared_ptr<Connection> connection_;
  const PublisherOptions options_;
  const RetryPolicy reconnect_;
  std::thread sender_;
  std::mutex join_mu_;  // one Close joins the sender; the others wait for it

  mutable std::mutex mu_;
  std::condition_variable sender_cv_;  // the sender waits for work, room or the stream's end
  std::condition_variable state_cv_;   // Publish waits for room, Flush for resolution
  client::PublishBook book_ ABSL_GUARDED_BY(mu_);
  uint64_t flush_through_ ABSL_GUARDED_BY(mu_) = 0;  // send events up to this seq at once
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status failed_ ABSL_GUARDED_BY(mu_);  // the stream error that ended the publisher
  // The open stream's reader: it has stopped; the protocol breach it found; whether an
  // acknowledgement arrived.
  bool reader_ended_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status protocol_error_ ABSL_GUARDED_BY(mu_);
  bool answered_ ABSL_GUARDED_BY(mu_) = false;
  PublisherStats stats_ ABSL_GUARDED_BY(mu_);
};

std::future<Result> Publisher::Impl::Publish(v1::PublishEvent event) {
  std::promise<Result> promise;
  std::future<Result> future = promise.get_future();
  size_t bytes = 0;
  absl::Status invalid = CheckEvent(event, options_.max_batch_bytes, &bytes);
  std::unique_lock lock(mu_);
  if (invalid.ok()) {
    state_cv_.wait(lock, [this] {
      return book_.outstanding() < options_.max_buffered_events || !failed_.ok() || closing_;
    });
    if (!failed_.ok()) {
      invalid = failed_;
    } else if (closing_) {
      invalid = absl::FailedPreconditionError(
          "Publish was called after Close started; start a new Publisher to publish more");
    }
  }
  if (!invalid.ok()) {
    ++stats_.events_failed;
    promise.set_value(std::move(invalid));
    return future;
  }
  book_.Add(std::move(event), bytes, Clock::now(), std::move(promise));
  sender_cv_.notify_one();
  return future;
}

absl::Status Publisher::Impl::Flush() {
  std::unique_lock lock(mu_);
  const uint64_t through = book_.last_seq();
  flush_through_ = std::max(flush_through_, through);
  sender_cv_.notify_one();
  state_cv_.wait(lock, [&] { return !failed_.ok() || book_.OldestUnresolved() > through; });
  return failed_;
}

absl::Status Publisher::Impl::Close() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  sender_cv_.notify_all();
  state_cv_.notify_all();
  {
    std::lock_guard join(join_mu_);
    if (sender_.joinable()) sender_.join();
  }
  std::lock_guard lock(mu_);
  return failed_;
}

void Publisher::Impl::RunSender() {
  client::Backoff backoff(reconnect_, client::UniformRandom01);
  // Start of the current streak of failed streams; time_point::max() when there is none.
  Clock::time_point failing_since = Clock::time_point::max();
  const auto healthy_after =
      std::max<Clock::duration>(reconnect_.max_backoff, client::kMinHealthyStream);
  bool reconnecting = false;
  while (true) {
    {
      std::unique_lock lock(mu_);
      sender_cv_.wait(lock, [this] { return HasUnsent() || closing_; });
      // Nothing to send and Close asked: nothing is outstanding either (no stream is open).
      if (!HasUnsent()) return;
      if (reconnecting) ++stats_.reconnects;
      reader_ended_ = false;
      protocol_error_ = absl::OkStatus();
      answered_ = false;
    }
    std::unique_ptr<PublishStream> stream = connection_->Publish();
    const Clock::time_point opened = Clock::now();
    const StreamEnd end = Serve(*stream);
    stream.reset();
    if (end.asked) return;

    const Clock::time_point closed = Clock::now();
    bool pending = false;
    {
      std::lock_guard lock(mu_);
      absl::Status fatal = !protocol_error_.ok() ? protocol_error_ : end.status;
      if (!protocol_error_.ok() || !IsRetryableEnd(end.status)) {
        failed_ = fatal;
        FailOutstanding(fatal);
        return;
      }
      // Unanswered batches go back, in publishing order, ahead of the queue.
      book_.ReturnInFlight();
      pending = book_.outstanding() > 0;
    }
    reconnecting = true;
    // A stream that was answered, or stayed up longer than any backoff step, was healthy;
    // one that ends while nothing is pending lost nothing. Either way the next failure
    // starts a new streak with the shortest delay.
    if (!pending || end.healthy || closed - opened >= healthy_after) {
      backoff = client::Backoff(reconnect_, client::UniformRandom01);
      failing_since = Clock::time_point::max();
    }
    if (!pending) continue;  // the next event opens a stream
    failing_since = std::min(failing_since, closed);
    const std::chrono::milliseconds delay = backoff.NextDelay();
    if (closed + delay - failing_since > reconnect_.total_timeout) {
      // Give up on what is pending, not on the publisher: the next event tries again.
      absl::Status gave_up = end.status;
      if (gave_up.ok()) {
        gave_up = absl::UnavailableError(Cat("the hub kept ending the publish stream for ",
                                             reconnect_.total_timeout.count(),
                                             " ms; publish these events again (same ids) later"));
      }
      std::lock_guard lock(mu_);
      FailOutstanding(gave_up);
      backoff = client::Backoff(reconnect_, client::UniformRandom01);
      failing_since = Clock::time_point::max();
      continue;
    }
    std::this_thread::sleep_for(delay);
  }
}

Publisher::Impl::StreamEnd Publisher::Impl::Serve(PublishStream& stream) {
  std::thread reader([this, &stream] { ReadAcks(stream); });
  StreamEnd end;
  while (true) {
    std::shared_ptr<const v1::PublishRequest> request;
    {
      std::unique_lock lock(mu_);
      request = NextBatch(lock, &end.asked);
      if (request == nullptr) break;
      ++stats_.batches_sent;
    }
    if (!stream.Write(*request)) break;  // the reader sees the end and why
  }
  if (end.asked) stream.WritesDone();
  reader.join();
  end.status = stream.Finish();
  std::lock_guard lock(mu_);
  end.healthy = answered_;
  return end;
}

std::shared_ptr<const v1::PublishRequest> Publisher::Impl::NextBatch(
    std::unique_lock<std::mutex>& lock, bool* close) {
  while (true) {
    if (reader_ended_) return nullptr;
    if (closing_ && book_.outstanding() == 0) {
      *close = true;
      return nullptr;
    }
    if (book_.in_flight() < options_.max_in_flight_batches) {
      if (book_.HasResend()) return book_.SendNext();
      if (!book_.QueueEmpty()) {
        const Clock::time_point due =
            book_.oldest_queued_at() + std::chrono::duration_cast<Clock::duration>(options_.linger);
        if (book_.QueueFull() || closing_ || book_.oldest_queued_seq() <= flush_through_ ||
            Clock::now() >= due) {
          return book_.SendNext();
        }
        sender_cv_.wait_until(lock, due);
        continue;
      }
    }
    sender_cv_.wait(lock);
  }
}

void Publisher::Impl::ReadAcks(PublishStream& stream) {
  v1::PublishResponse ack;
  while (stream.Read(&ack)) {
    std::unique_lock lock(mu_);
    absl::Status breach = book_.Answer(ack, stats_);
    if (!breach.ok()) {
      protocol_error_ = std::move(breach);
      lock.unlock();
      stream.Cancel();
      while (stream.Read(&ack)) {
      }
      break;
    }
    answered_ = true;
    lock.unlock();
    state_cv_.notify_all();
    sender_cv_.notify_one();
  }
  {
    std::lock_guard lock(mu_);
    reader_ended_ = true;
  }
  sender_cv_.notify_one();
}

void Publisher::Impl::FailOutstanding(const absl::Status& status) {
  book_.FailAll(status, stats_);
  state_cv_.notify_all();
}

// --- Publisher ---------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Publisher>> Publisher::Start(std::shared_ptr<Connection> connection,
                                                            PublisherOptions options) {
  if (connection == nullptr) {
    return absl::InvalidArgumentError("Publisher::Start needs a connection; got null");
  }
  if (options.max_batch_events < 1 || options.max_batch_events > kMaxBatchEvents) {
    return absl::InvalidArgumentError(Cat("PublisherOptions.max_batch_events is ",
                                          options.max_batch_events,
                                          "; use 1 to 1000 (the hub's limit per batch)"));
  }
  if (options.max_batch_bytes < 1024) {
    return absl::InvalidArgumentError(Cat("PublisherOptions.max_batch_bytes is ",
                                          options.max_batch_bytes, "; use at least 1024"));
  }
  if (options.linger < std::chrono::microseconds(0) || options.linger > std::chrono::hours(1)) {
    return absl::InvalidArgumentError(
        Cat("PublisherOptions.linger is ", options.linger.count(), " us; use 0 to 1 hour"));
  }
  if (options.max_in_flight_batches < 1) {
    return absl::InvalidArgumentError("PublisherOptions.max_in_flight_batches is 0; use 1 or more");
  }
  if (options.max_buffered_events < options.max_batch_events) {
    return absl::InvalidArgumentError(
        Cat("PublisherOptions.max_buffered_events (", options.max_buffered_events,
            ") is below max_batch_events (", options.max_batch_events,
            "), so no batch could fill; raise it or lower max_batch_events"));
  }
  auto impl = std::make_unique<Impl>(std::move(connection), options);
  impl->StartSender();
  return std::unique_ptr<Publisher>(new Publisher(std::move(impl)));
}

Publisher::Publisher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Publisher::~Publisher() = default;  // Impl's destructor closes

std::future<absl::StatusOr<uint64_t>> Publisher::Publish(v1::PublishEvent event) {
  return impl_->Publish(std::move(event));
}

absl::Status Publisher::Flush() { return impl_->Flush(); }

absl::Status Publisher::Close() { return impl_->Close(); }

PublisherStats Publisher::stats() const { return impl_->stats(); }

}  // namespace fedhub
