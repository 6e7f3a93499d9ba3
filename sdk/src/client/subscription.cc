// Subscription: one thread reads the Subscribe stream, hands each message to the handler,
// commits its cursor, and after a dropped stream subscribes again after the last committed
// cursor, dropping what it redelivers at or before that cursor.
#include "fedhub/subscription.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "client/backoff.h"
#include "client/follow_consents.h"
#include "core/strings.h"

namespace fedhub {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kMaxEventsPerMessage = 1000;

// How a stream may end and still be resumed from the cursor: the connection dropped, the
// hub went away or shed load, a proxy ended the call, or the hub closed the stream. Anything
// else is the hub's answer to this subscriber.
bool IsResumableEnd(const absl::Status& status) {
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

absl::Status CheckArguments(const Connection* connection, const Subscription::Handler& handler,
                            const v1::SubscribeRequest& request) {
  if (connection == nullptr) {
    return absl::InvalidArgumentError("Subscription::Start needs a connection; got null");
  }
  if (!handler) {
    return absl::InvalidArgumentError(
        "Subscription::Start needs a handler; pass a function that processes each message");
  }
  if (request.max_events_per_message() > kMaxEventsPerMessage) {
    return absl::InvalidArgumentError(Cat("SubscriptionOptions.request.max_events_per_message is ",
                                          request.max_events_per_message(),
                                          "; use 1 to 1000 (0 means 500)"));
  }
  return absl::OkStatus();
}

}  // namespace

// Thread-safety: Stop, Wait and committed_cursor from any thread; everything else runs on
// the subscription's own thread.
class Subscription::Impl {
 public:
  Impl(std::shared_ptr<Connection> connection, SubscriptionOptions options, Handler handler,
       CursorHook commit_cursor)
      : connection_(std::move(connection)),
        options_(std::move(options)),
        reconnect_(client::Normalized(options_.reconnect)),
        handler_(std::move(handler)),
        commit_cursor_(std::move(commit_cursor)) {
    const v1::SubscribeRequest& r = options_.request;
    have_cursor_ = r.start_case() == v1::SubscribeRequest::kAfterCursor ||
                   r.start_case() == v1::SubscribeRequest::START_NOT_SET;
    committed_.store(have_cursor_ ? r.after_cursor() : 0);
  }

  ~Impl() {
    Stop();
    if (thread_.joinable()) thread_.join();
  }

  void Begin() {
    thread_ = std::thread([this] { End(Run()); });
  }

  void End(absl::Status result) {
    std::lock_guard lock(mu_);
    done_ = true;
    result_ = std::move(result);
    cv_.notify_all();
  }

  absl::Status Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return done_; });
    return result_;
  }

  void Stop() {
    std::lock_guard lock(mu_);
    stop_ = true;
    if (open_stream_ != nullptr) open_stream_->Cancel();
    cv_.notify_all();
  }

  uint64_t committed_cursor() const { return committed_.load(); }

 private:
  absl::Status Run();
  // Hands `message` to the handler (without events at or before the committed cursor) and
  // commits its cursor. False, with *failure set, on a handler or hook error.
  bool Deliver(const v1::SubscribeResponse& message, bool* delivered, absl::Status* failure);
  bool Stopping() const {
    std::lock_guard lock(mu_);
    return stop_;
  }
  // Publishes `stream` for Stop to cancel (null: none open). False if Stop came first.
  bool SetOpenStream(SubscribeStream* stream) {
    std::lock_guard lock(mu_);
    open_stream_ = stream;
    return !stop_;
  }

  const std::shared_ptr<Connection> connection_;
  const SubscriptionOptions options_;
  const RetryPolicy reconnect_;
  const Handler handler_;
  const CursorHook commit_cursor_;
  std::thread thread_;
  std::atomic<uint64_t> committed_{0};
  // The subscription thread's own: whether committed_ holds a cursor to resume after.
  bool have_cursor_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // done_ and stop_ changes
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  SubscribeStream* open_stream_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status result_ ABSL_GUARDED_BY(mu_);
};

absl::Status Subscription::Impl::Run() {
  client::Backoff backoff(reconnect_, client::UniformRandom01);
  std::optional<Clock::time_point> failing_since;
  const auto healthy_after =
      std::max<Clock::duration>(reconnect_.max_backoff, client::kMinHealthyStream);
  while (!Stopping()) {
    v1::SubscribeRequest request = options_.request;
    if (have_cursor_) request.set_after_cursor(committed_.load());
    std::unique_ptr<SubscribeStream> stream = connection_->Subscribe(request);
    if (!SetOpenStream(stream.get())) stream->Cancel();
    const Clock::time_point opened = Clock::now();
    bool delivered = false;
    absl::Status failure;
    v1::SubscribeResponse message;
    while (stream->Read(&message)) {
      if (Stopping()) break;
      if (!Deliver(message, &delivered, &failure)) break;
    }
    SetOpenStream(nullptr);
    if (!failure.ok() || Stopping()) {
      stream->Cancel();
      stream->Finish().IgnoreError();
      return failure;  // OK after Stop
    }
    const absl::Status ended = stream->Finish();
    if (!IsResumableEnd(ended)) return ended;

    // A stream that delivered something, or stayed up longer than any backoff step, was
    // healthy: the next failure starts a new streak with the shortest delay.
    const Clock::time_point closed = Clock::now();
    if (delivered || closed - opened >= healthy_after) {
      backoff = client::Backoff(reconnect_, client::UniformRandom01);
      failing_since.reset();
    }
    if (!failing_since) failing_since = closed;
    const std::chrono::milliseconds delay = backoff.NextDelay();
    if (closed + delay - *failing_since > reconnect_.total_timeout) {
      if (!ended.ok()) return ended;
      return absl::UnavailableError(
          Cat("the hub kept ending the subscription for ", reconnect_.total_timeout.count(),
              " ms; subscribe again after cursor ", committed_.load(), " later"));
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, delay, [this] { return stop_; });
  }
  return absl::OkStatus();
}

bool Subscription::Impl::Deliver(const v1::SubscribeResponse& message, bool* delivered,
                                 absl::Status* failure) {
  const uint64_t committed = committed_.load();
  // Snapshot items carry the offsets of older changes; only live messages are deduplicated.
  const bool dedupe = have_cursor_ && !message.snapshot();
  const v1::SubscribeResponse* to_handler = &message;
  v1::SubscribeResponse fresh;
  if (dedupe) {
    const bool any_old =
        std::any_of(message.events().begin(), message.events().end(),
                    [committed](const v1::DeliveredEvent& e) { return e.offset() <= committed; });
    if (any_old) {
      fresh = message;
      fresh.clear_events();
      for (const v1::DeliveredEvent& e : message.events()) {
        if (e.offset() > committed) *fresh.add_events() = e;
      }
      to_handler = &fresh;
    }
    // Wholly redelivered: nothing new and no cursor progress.
    if (to_handler->events().empty() && message.cursor() <= committed) return true;
  }

  absl::Status handled = handler_(*to_handler);
  if (!handled.ok()) {
    *failure = std::move(handled);
    return false;
  }
  *delivered = true;
  const bool storable = !message.snapshot() || message.snapshot_complete();
  if (!storable || (have_cursor_ && message.cursor() <= committed)) return true;
  if (commit_cursor_) {
    absl::Status stored = commit_cursor_(message.cursor());
    if (!stored.ok()) {
      *failure = std::move(stored);
      return false;
    }
  }
  committed_.store(message.cursor());
  have_cursor_ = true;
  return true;
}

// --- Subscription ------------------------------------------------------------------------

std::unique_ptr<Subscription> Subscription::Start(std::shared_ptr<Connection> connection,
                                                  SubscriptionOptions options, Handler handler,
                                                  CursorHook commit_cursor) {
  const absl::Status invalid = CheckArguments(connection.get(), handler, options.request);
  auto impl = std::make_unique<Impl>(std::move(connection), std::move(options), std::move(handler),
                                     std::move(commit_cursor));
  if (invalid.ok()) {
    impl->Begin();
  } else {
    impl->End(invalid);
  }
  return std::unique_ptr<Subscription>(new Subscription(std::move(impl)));
}

Subscription::Subscription(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Subscription::~Subscription() = default;  // Impl's destructor stops and joins

absl::Status Subscription::Wait() { return impl_->Wait(); }

void Subscription::Stop() { impl_->Stop(); }

uint64_t Subscription::committed_cursor() const { return impl_->committed_cursor(); }

}  // namespace fedhub
