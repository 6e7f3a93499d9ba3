#include "client/backoff.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

namespace fedhub::client {

RetryPolicy Normalized(const RetryPolicy& policy) {
  using std::chrono::milliseconds;
  RetryPolicy p = policy;
  p.max_attempts = std::max(1, p.max_attempts);
  p.initial_backoff = std::max(milliseconds(0), p.initial_backoff);
  p.max_backoff = std::max(p.initial_backoff, p.max_backoff);
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
  const double cap = static_cast<double>(policy_.max_backoff.count());
  // pow() may overflow to +inf for long retry streaks; min() with the cap absorbs that.
  const double grown = static_cast<double>(policy_.initial_backoff.count()) *
                       std::pow(policy_.multiplier, std::max(0, retry - 1));
  return std::chrono::milliseconds(static_cast<int64_t>(std::min(cap, grown)));
}

std::chrono::milliseconds Backoff::NextDelay() {
  ++retries_;
  const double nominal = static_cast<double>(NominalDelay(retries_).count());
  const double u = std::clamp(uniform01_(), 0.0, 1.0);
  // u = 0 gives the nominal delay, u -> 1 gives nominal * (1 - jitter).
  const double delay = nominal * (1.0 - policy_.jitter * u);
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(delay)));
}

}  // namespace fedhub::client
