// RetryPolicy's delay schedule (fedhub/options.h) and its total_timeout budget.
#include "client/backoff.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "client/retry_connection.h"
#include "fake_connection.h"

namespace fedhub::client {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;

RetryPolicy Policy(int initial_ms, double multiplier, int max_ms, double jitter) {
  RetryPolicy p;
  p.initial_backoff = milliseconds(initial_ms);
  p.multiplier = multiplier;
  p.max_backoff = milliseconds(max_ms);
  p.jitter = jitter;
  return p;
}

std::function<double()> Fixed(double u) {
  return [u] { return u; };
}

// Suites are named sdk* so that `ctest -R sdk` selects them.
TEST(sdkBackoff, NominalDelayFollowsTheFormula) {
  Backoff b(Policy(50, 2.0, 2000, 0.2), Fixed(0));
  std::vector<int64_t> got;
  for (int n = 1; n <= 8; ++n) got.push_back(b.NominalDelay(n).count());
  EXPECT_THAT(got, ElementsAre(50, 100, 200, 400, 800, 1600, 2000, 2000));
}

TEST(sdkBackoff, NonIntegerMultiplier) {
  Backoff b(Policy(100, 1.5, 10000, 0), Fixed(0));
  EXPECT_EQ(b.NominalDelay(1), milliseconds(100));
  EXPECT_EQ(b.NominalDelay(2), milliseconds(150));
  EXPECT_EQ(b.NominalDelay(3), milliseconds(225));
}

TEST(sdkBackoff, ZeroJitterIsDeterministic) {
  // Whatever the random source says, jitter 0 gives exactly the nominal delay.
  for (double u : {0.0, 0.3, 0.999999}) {
    Backoff b(Policy(50, 2.0, 300, 0.0), Fixed(u));
    std::vector<int64_t> got;
    for (int i = 0; i < 6; ++i) got.push_back(b.NextDelay().count());
    EXPECT_THAT(got, ElementsAre(50, 100, 200, 300, 300, 300)) << "u=" << u;
    EXPECT_EQ(b.retries(), 6);
  }
}

TEST(sdkBackoff, JitteredDelayStaysWithinBounds) {
  for (double jitter : {0.1, 0.2, 0.5, 0.9, 1.0}) {
    for (double u : {0.0, 0.01, 0.25, 0.5, 0.75, 0.99, 0.999999}) {
      const RetryPolicy policy = Policy(37, 1.7, 1500, jitter);
      Backoff b(policy, Fixed(u));
      for (int n = 1; n <= 12; ++n) {
        const double nominal = static_cast<double>(b.NominalDelay(n).count());
        const double delay = static_cast<double>(b.NextDelay().count());
        EXPECT_GE(delay, nominal * (1 - jitter) - 1e-6) << "jitter=" << jitter << " u=" << u;
        EXPECT_LE(delay, nominal) << "jitter=" << jitter << " u=" << u;
        EXPECT_LE(delay, 1500);
      }
    }
  }
}

TEST(sdkBackoff, RandomValueMapsOntoTheJitterRange) {
  // u = 0 keeps the nominal delay; u -> 1 removes the jitter fraction.
  EXPECT_EQ(Backoff(Policy(1000, 2, 5000, 0.2), Fixed(0.0)).NextDelay(), milliseconds(1000));
  EXPECT_EQ(Backoff(Policy(1000, 2, 5000, 0.2), Fixed(0.5)).NextDelay(), milliseconds(900));
  EXPECT_EQ(Backoff(Policy(1000, 2, 5000, 0.2), Fixed(0.999999)).NextDelay(), milliseconds(800));
  // Full jitter spans [0, nominal].
  EXPECT_LE(Backoff(Policy(1000, 2, 5000, 1.0), Fixed(0.999999)).NextDelay(), milliseconds(1));
}

TEST(sdkBackoff, OutOfRangeRandomValuesAreClamped) {
  EXPECT_EQ(Backoff(Policy(100, 2, 500, 0.5), Fixed(-3)).NextDelay(), milliseconds(100));
  EXPECT_EQ(Backoff(Policy(100, 2, 500, 0.5), Fixed(7)).NextDelay(), milliseconds(50));
  EXPECT_EQ(Backoff(Policy(100, 2, 500, 0.5), Fixed(std::nan(""))).NextDelay(),
            milliseconds(100));
}

TEST(sdkBackoff, MaxBackoffCapsLongStreaksWithoutOverflow) {
  Backoff b(Policy(50, 10.0, 2000, 0), Fixed(0));
  for (int i = 0; i < 5000; ++i) {
    ASSERT_LE(b.NextDelay(), milliseconds(2000));
  }
  EXPECT_EQ(b.NominalDelay(100000), milliseconds(2000));
  EXPECT_EQ(b.NominalDelay(std::numeric_limits<int>::max()), milliseconds(2000));
}

TEST(sdkBackoff, MaxBackoffCapsEvenTheFirstDelay) {
  // nominal_1 = min(max_backoff, initial_backoff): an initial delay above the cap is capped.
  Backoff b(Policy(500, 2.0, 200, 0), Fixed(0));
  EXPECT_EQ(b.NextDelay(), milliseconds(200));
  EXPECT_EQ(b.NextDelay(), milliseconds(200));
}

TEST(sdkBackoff, ZeroInitialBackoffStaysZero) {
  Backoff b(Policy(0, 2.0, 2000, 0.5), Fixed(0.5));
  for (int i = 0; i < 3000; ++i) ASSERT_EQ(b.NextDelay(), milliseconds(0));
}

TEST(sdkBackoff, NormalizedClampsEveryField) {
  RetryPolicy p;
  p.max_attempts = -2;
  p.initial_backoff = milliseconds(-5);
  p.max_backoff = milliseconds(-1);
  p.multiplier = 0.5;
  p.jitter = 3.0;
  p.total_timeout = milliseconds(-10);
  RetryPolicy n = Normalized(p);
  EXPECT_EQ(n.max_attempts, 1);
  EXPECT_EQ(n.initial_backoff, milliseconds(0));
  EXPECT_EQ(n.max_backoff, milliseconds(0));
  EXPECT_EQ(n.multiplier, 1.0);
  EXPECT_EQ(n.jitter, 1.0);
  EXPECT_EQ(n.total_timeout, milliseconds(0));

  p.multiplier = std::nan("");
  p.jitter = std::nan("");
  n = Normalized(p);
  EXPECT_EQ(n.multiplier, 1.0);
  EXPECT_EQ(n.jitter, 0.0);
  p.jitter = -0.5;
  EXPECT_EQ(Normalized(p).jitter, 0.0);
}

TEST(sdkBackoff, DefaultsAreTheDocumentedOnes) {
  const RetryPolicy n = Normalized(RetryPolicy{});
  EXPECT_EQ(n.max_attempts, 4);
  EXPECT_EQ(n.initial_backoff, milliseconds(50));
  EXPECT_EQ(n.max_backoff, milliseconds(2000));
  EXPECT_EQ(n.multiplier, 2.0);
  EXPECT_EQ(n.jitter, 0.2);
  EXPECT_EQ(n.total_timeout, milliseconds(15000));
}

TEST(sdkBackoff, MultiplierBelowOneMeansConstantDelay) {
  Backoff b(Policy(80, 0.25, 1000, 0), Fixed(0));
  EXPECT_EQ(b.NextDelay(), milliseconds(80));
  EXPECT_EQ(b.NextDelay(), milliseconds(80));
  EXPECT_EQ(b.NextDelay(), milliseconds(80));
}

TEST(sdkBackoff, UniformRandomIsInUnitInterval) {
  for (int i = 0; i < 10000; ++i) {
    const double u = UniformRandom01();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

// --- total_timeout, through the retrying connection with a fake clock --------------------

struct Harness {
  explicit Harness(RetryPolicy policy, double u = 0.0) {
    conn = MakeRetryingConnection(
        fake, policy,
        RetryEnvironment{.now = [this] { return clock.Now(); },
                         .sleep = [this](milliseconds d) { clock.Sleep(d); },
                         .uniform01 = Fixed(u)});
  }
  testing::FakeClock clock;
  std::shared_ptr<testing::FakeConnection> fake = std::make_shared<testing::FakeConnection>();
  std::shared_ptr<Connection> conn;
};

TEST(sdkBackoffTotalTimeout, SleepsFollowTheScheduleUntilAttemptsRunOut) {
  RetryPolicy p = Policy(50, 2.0, 2000, 0);
  p.max_attempts = 6;
  Harness h(p);
  h.fake->FailNext(-1, absl::StatusCode::kUnavailable);
  EXPECT_EQ(h.conn->GetHubInfo({}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(h.fake->calls("GetHubInfo"), 6);
  EXPECT_THAT(h.clock.sleeps(), ElementsAre(milliseconds(50), milliseconds(100),
                                            milliseconds(200), milliseconds(400),
                                            milliseconds(800)));
}

TEST(sdkBackoffTotalTimeout, NoRetryStartsPastTheBudget) {
  RetryPolicy p = Policy(50, 2.0, 2000, 0);
  p.max_attempts = 100;
  p.total_timeout = milliseconds(1000);
  Harness h(p);
  h.fake->FailNext(-1, absl::StatusCode::kUnavailable);
  EXPECT_FALSE(h.conn->GetHubInfo({}).ok());
  // Retries start at 50, 150, 350, 750; the next would start at 1550 > 1000.
  EXPECT_THAT(h.clock.sleeps(), ElementsAre(milliseconds(50), milliseconds(100),
                                            milliseconds(200), milliseconds(400)));
  EXPECT_EQ(h.fake->calls("GetHubInfo"), 5);
  EXPECT_LE(h.clock.Elapsed(), p.total_timeout);
}

TEST(sdkBackoffTotalTimeout, ARetryExactlyAtTheBudgetStillRuns) {
  RetryPolicy p = Policy(50, 2.0, 2000, 0);
  p.max_attempts = 100;
  p.total_timeout = milliseconds(150);
  Harness h(p);
  h.fake->FailNext(-1, absl::StatusCode::kAborted);
  EXPECT_FALSE(h.conn->GetHubInfo({}).ok());
  EXPECT_THAT(h.clock.sleeps(), ElementsAre(milliseconds(50), milliseconds(100)));
  EXPECT_EQ(h.fake->calls("GetHubInfo"), 3);
}

TEST(sdkBackoffTotalTimeout, TimeSpentInAttemptsCountsAgainstTheBudget) {
  RetryPolicy p = Policy(50, 2.0, 2000, 0);
  p.max_attempts = 100;
  p.total_timeout = milliseconds(2500);
  Harness h(p);
  // Each attempt runs into a 1 s deadline.
  h.fake->on_call = [&h] { h.clock.Advance(milliseconds(1000)); };
  h.fake->FailNext(-1, absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(h.conn->GetHubInfo({}).status().code(), absl::StatusCode::kDeadlineExceeded);
  // Attempts end at 1000, 2050, 3150; a third retry would start at 3350 > 2500.
  EXPECT_EQ(h.fake->calls("GetHubInfo"), 3);
  EXPECT_THAT(h.clock.sleeps(), ElementsAre(milliseconds(50), milliseconds(100)));
}

TEST(sdkBackoffTotalTimeout, ZeroBudgetMeansASingleAttempt) {
  RetryPolicy p = Policy(50, 2.0, 2000, 0);
  p.total_timeout = milliseconds(0);
  Harness h(p);
  h.fake->FailNext(-1, absl::StatusCode::kUnavailable);
  EXPECT_FALSE(h.conn->GetHubInfo({}).ok());
  EXPECT_EQ(h.fake->calls("GetHubInfo"), 1);
  EXPECT_TRUE(h.clock.sleeps().empty());
}

TEST(sdkBackoffTotalTimeout, JitteredSleepsAreUsed) {
  RetryPolicy p = Policy(100, 2.0, 2000, 0.2);
  p.max_attempts = 3;
  Harness h(p, 0.5);
  h.fake->FailNext(-1, absl::StatusCode::kUnavailable);
  EXPECT_FALSE(h.conn->GetHubInfo({}).ok());
  EXPECT_THAT(h.clock.sleeps(), ElementsAre(milliseconds(90), milliseconds(180)));
}

TEST(sdkBackoffTotalTimeout, EachCallHasItsOwnSchedule) {
  RetryPolicy p = Policy(50, 2.0, 2000, 0);
  p.max_attempts = 2;
  Harness h(p);
  h.fake->FailNext(-1, absl::StatusCode::kUnavailable);
  EXPECT_FALSE(h.conn->GetHubInfo({}).ok());
  EXPECT_FALSE(h.conn->GetChainHead({}).ok());
  EXPECT_THAT(h.clock.sleeps(), ElementsAre(milliseconds(50), milliseconds(50)));
}

}  // namespace
}  // namespace fedhub::client
