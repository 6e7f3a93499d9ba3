#include "client/backoff.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <utility>

namespace fedhub::client {

RetryPolicy Normalized(const RetryPolicy& policy) {
  using std::chrono::milliseconds;
  RetryPolicy p = policy;
  p.max_attempts = std::max(1, p.max_attempts);
  p.initial_backoff = std::max(milliseconds(0), p.initial_backoff);
  // max_backoff bounds every delay, including the first: an initial_backoff above it is
  // capped by the formula, never the other way round.
  p.max_backoff = std::max(milliseconds(0), p.max_backoff);
  // NaN fails every comparison; both fall back to the documented defaults' meaning.
  if (!(p.multiplier >= 1.0)) p.multiplier = 1.0;
  if (!(p.jitter >= 0.0)) p.jitter = 0.0;
  p.jitter = std::min(1.0, p.jitter);
  p.total_timeout = std::max(milliseconds(0), p.total_timeout);
  return p;
}

double UniformRandom01() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

Backoff::Backoff(const RetryPolicy& policy, std::function<double()> uniform01)
    : policy_(Normalized(policy)), uniform01_(std::move(uniform01)) {}

std::chrono::milliseconds Backoff::NominalDelay(int retry) const {
  // A zero initial delay stays zero (0 * inf would be NaN below).
  if (policy_.initial_backoff.count() == 0) return std::chrono::milliseconds(0);
  const double cap = static_cast<double>(policy_.max_backoff.count());
  // pow() may overflow to +inf for long retry streaks; min() with the cap absorbs that.
  const double grown = static_cast<double>(policy_.initial_backoff.count()) *
                       std::pow(policy_.multiplier, std::max(0, retry - 1));
  return std::chrono::milliseconds(static_cast<int64_t>(std::min(cap, grown)));
}

std::chrono::milliseconds Backoff::NextDelay() {
  ++retries_;
  const double nominal = static_cast<double>(NominalDelay(retries_).count());
  double u = uniform01_();
  if (!(u >= 0.0)) u = 0.0;  // also NaN
  u = std::min(u, 1.0);
  // u = 0 gives the nominal delay, u -> 1 gives nominal * (1 - jitter). The whole-millisecond
  // result is kept inside [nominal * (1 - jitter), nominal] (the epsilon absorbs the
  // rounding error of 1 - jitter).
  const double delay = nominal * (1.0 - policy_.jitter * u);
  const double lowest = std::ceil(nominal * (1.0 - policy_.jitter) - 1e-9);
  return std::chrono::milliseconds(
      static_cast<int64_t>(std::clamp(std::round(delay), std::max(0.0, lowest), nominal)));
}

}  // namespace fedhub::client
