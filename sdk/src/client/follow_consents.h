// The loop behind Client::FollowConsents, with its clock, sleep and randomness injectable
// so the reconnection schedule can be checked without waiting.
#ifndef FEDHUB_SDK_CLIENT_FOLLOW_CONSENTS_H_
#define FEDHUB_SDK_CLIENT_FOLLOW_CONSENTS_H_

#include <chrono>
#include <functional>
#include <stop_token>

#include "absl/status/status.h"
#include "fedhub/client.h"
#include "fedhub/connection.h"
#include "fedhub/options.h"

namespace fedhub::client {

struct FollowEnvironment {
  std::function<std::chrono::steady_clock::time_point()> now;
  // Waits `delay` unless `stop` is requested first; true if the whole delay passed.
  std::function<bool(std::chrono::milliseconds, std::stop_token)> sleep;
  std::function<double()> uniform01;  // uniform in [0, 1)

  // steady_clock, a condition-variable wait that a stop request ends, UniformRandom01.
  static FollowEnvironment Real();
};

// A stream shorter than this that delivered nothing counts as a failed attempt even when
// the policy's max_backoff is smaller, so a policy with tiny delays still gives up after
// total_timeout instead of treating every immediate failure as a healthy connection.
inline constexpr std::chrono::milliseconds kMinHealthyStream{1000};

// Client::FollowConsents over `connection` (see fedhub/client.h for the contract).
// `reconnect` is used as given; Client normalises it.
absl::Status FollowConsents(Connection& connection, const RetryPolicy& reconnect,
                            const FollowEnvironment& env, const FollowConsentsOptions& options,
                            const std::function<bool(const v1::WatchConsentsResponse&)>& on_change,
                            std::stop_token stop);

}  // namespace fedhub::client

#endif  // FEDHUB_SDK_CLIENT_FOLLOW_CONSENTS_H_
