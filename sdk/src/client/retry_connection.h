// The retrying Connection decorator, with its clock, sleep and randomness injectable so
// tests can check the schedule without waiting.
#ifndef FEDHUB_SDK_CLIENT_RETRY_CONNECTION_H_
#define FEDHUB_SDK_CLIENT_RETRY_CONNECTION_H_

#include <chrono>
#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "fedhub/connection.h"
#include "fedhub/options.h"

namespace fedhub::client {

// What the retry loop needs from the outside world. Every member must be safe to call
// from several threads at once (the decorator is shared by all of a client's callers).
struct RetryEnvironment {
  std::function<std::chrono::steady_clock::time_point()> now;
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<double()> uniform01;  // uniform in [0, 1)

  // steady_clock, std::this_thread::sleep_for and UniformRandom01.
  static RetryEnvironment Real();
};

enum class Idempotency { kIdempotent, kNonIdempotent };

// Whether a failed attempt may be repeated. Only idempotent calls are ever retried, and only
// after codes that say the request may not have been served: UNAVAILABLE, ABORTED and
// DEADLINE_EXCEEDED.
bool IsRetryable(const absl::Status& status, Idempotency idempotency);

std::shared_ptr<Connection> MakeRetryingConnection(std::shared_ptr<Connection> inner,
                                                   RetryPolicy policy, RetryEnvironment env);

}  // namespace fedhub::client

#endif  // FEDHUB_SDK_CLIENT_RETRY_CONNECTION_H_
