// The delay schedule of RetryPolicy (see fedhub/options.h for the formula).
//
// Not thread-safe: one Backoff per call, which is also what keeps one caller's retries
// from stretching another's.
#ifndef FEDHUB_SDK_CLIENT_BACKOFF_H_
#define FEDHUB_SDK_CLIENT_BACKOFF_H_

#include <chrono>
#include <functional>

#include "fedhub/options.h"

namespace fedhub::client {

// The policy with every field clamped into its documented range, so the schedule below
// never divides by zero, shrinks, or sleeps a negative time.
RetryPolicy Normalized(const RetryPolicy& policy);

// A uniform random number in [0, 1) from a per-thread generator seeded by the OS.
double UniformRandom01();

class Backoff {
 public:
  // `uniform01` returns numbers in [0, 1); tests pass a fixed sequence.
  Backoff(const RetryPolicy& policy, std::function<double()> uniform01);

  // min(max_backoff, initial_backoff * multiplier^(retry - 1)) for retry >= 1.
  std::chrono::milliseconds NominalDelay(int retry) const;

  // The jittered delay before the next retry, in [nominal * (1 - jitter), nominal].
  std::chrono::milliseconds NextDelay();

  // Retries handed out so far.
  int retries() const { return retries_; }

 private:
  RetryPolicy policy_;
  std::function<double()> uniform01_;
  int retries_ = 0;
};

}  // namespace fedhub::client

#endif  // FEDHUB_SDK_CLIENT_BACKOFF_H_
