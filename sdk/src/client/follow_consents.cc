#include "client/follow_consents.h"

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

#include "client/backoff.h"
#include "core/strings.h"

namespace fedhub::client {
namespace {

using Clock = std::chrono::steady_clock;

// How a watch stream may end and still be resumed from its cursor: the connection dropped
// or the hub closed the stream (shutdown, GOAWAY, a proxy's timeout). Anything else is the
// hub's answer to this caller and is returned.
bool IsResumableEnd(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
      return true;
    default:
      return false;
  }
}

// Sleeps `delay` unless `stop` is requested first. True if it slept the whole time.
bool SleepUnlessStopped(std::chrono::milliseconds delay, std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  cv.wait_for(lock, stop, delay, [] { return false; });
  return !stop.stop_requested();
}

}  // namespace

FollowEnvironment FollowEnvironment::Real() {
  return FollowEnvironment{
      .now = [] { return Clock::now(); },
      .sleep = SleepUnlessStopped,
      .uniform01 = UniformRandom01,
  };
}

absl::Status FollowConsents(Connection& connection, const RetryPolicy& reconnect,
                            const FollowEnvironment& env, const FollowConsentsOptions& options,
                            const std::function<bool(const v1::WatchConsentsResponse&)>& on_change,
                            std::stop_token stop) {
  // Invariant: once have_cursor, every change up to `cursor` was passed to on_change.
  bool have_cursor = !options.from_now;
  uint64_t cursor = options.after_sequence;
  Backoff backoff(reconnect, env.uniform01);
  std::optional<Clock::time_point> failing_since;
  const std::chrono::milliseconds healthy_after = std::max(reconnect.max_backoff,
                                                           kMinHealthyStream);

  while (!stop.stop_requested()) {
    v1::WatchConsentsRequest request;
    if (have_cursor) {
      request.set_after_sequence(cursor);
    } else {
      request.set_from_now(true);
    }
    std::unique_ptr<ConsentWatchStream> stream = connection.WatchConsents(request);
    const Clock::time_point opened = env.now();
    bool delivered = false;
    {
      // Declared after `stream`, so it is gone before the stream is.
      std::stop_callback cancel_on_stop(stop, [&stream] { stream->Cancel(); });
      v1::WatchConsentsResponse change;
      while (stream->Read(&change)) {
        if (stop.stop_requested()) break;  // nothing more is delivered once stop is asked
        if (have_cursor && change.sequence() <= cursor) continue;  // already delivered
        have_cursor = true;
        cursor = change.sequence();
        delivered = true;
        if (!on_change(change)) {
          stream->Cancel();
          while (stream->Read(&change)) {
          }
          stream->Finish().IgnoreError();
          return absl::OkStatus();
        }
      }
    }
    if (stop.stop_requested()) {
      stream->Cancel();
      v1::WatchConsentsResponse discard;
      while (stream->Read(&discard)) {
      }
      stream->Finish().IgnoreError();
      break;
    }
    absl::Status ended = stream->Finish();
    if (!IsResumableEnd(ended)) return ended;

    // A stream that delivered something, or stayed up longer than any backoff step, was
    // healthy: the next failure starts a new streak with the shortest delay.
    const Clock::time_point closed = env.now();
    if (delivered || closed - opened >= healthy_after) {
      backoff = Backoff(reconnect, env.uniform01);
      failing_since.reset();
    }
    if (!failing_since) failing_since = closed;
    const std::chrono::milliseconds delay = backoff.NextDelay();
    if (closed + delay - *failing_since > reconnect.total_timeout) {
      if (!ended.ok()) return ended;
      return absl::UnavailableError(
          Cat("the hub kept closing the consent watch for ", reconnect.total_timeout.count(),
              " ms; resume from sequence ", cursor, " later"));
    }
    if (!env.sleep(delay, stop)) break;
  }
  return absl::OkStatus();
}

}  // namespace fedhub::client
