// Client::FollowConsents: resuming from the cursor after drops, giving up after
// total_timeout, returning the hub's refusals, and stopping.
#include "client/follow_consents.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <stop_token>
#include <thread>
#include <vector>

#include "fake_connection.h"
#include "fedhub/client.h"

namespace fedhub::client {
namespace {

using std::chrono::milliseconds;
using testing::FakeClock;
using testing::FakeConnection;
using testing::StreamScript;
using ::testing::ElementsAre;

RetryPolicy Reconnect(int total_timeout_ms) {
  RetryPolicy p;
  p.initial_backoff = milliseconds(100);
  p.multiplier = 2.0;
  p.max_backoff = milliseconds(1000);
  p.jitter = 0.0;
  p.total_timeout = milliseconds(total_timeout_ms);
  return p;
}

class FollowTest : public ::testing::Test {
 protected:
  // Runs FollowConsents on the fake; on_change records each sequence and stops after
  // `stop_after` changes (0: never).
  absl::Status Follow(FollowConsentsOptions options, RetryPolicy policy, size_t stop_after = 0) {
    FollowEnvironment env{
        .now = [this] { return clock_.Now(); },
        .sleep =
            [this](milliseconds d, std::stop_token stop) {
              clock_.Sleep(d);
              return !stop.stop_requested();
            },
        .uniform01 = [] { return 0.0; }};
    return FollowConsents(
        fake_, policy, env, options,
        [&](const v1::WatchConsentsResponse& change) {
          delivered_.push_back(change.sequence());
          return stop_after == 0 || delivered_.size() < stop_after;
        },
        stop_.get_token());
  }

  std::vector<uint64_t> AfterSequences() const {
    std::vector<uint64_t> out;
    for (const auto& r : fake_.watch_requests()) out.push_back(r.from_now() ? 999 : r.after_sequence());
    return out;
  }

  FakeClock clock_;
  FakeConnection fake_;
  std::stop_source stop_;
  std::vector<uint64_t> delivered_;
};

// Suites are named sdk* so that `ctest -R sdk` selects them.
using sdkFollow = FollowTest;

TEST_F(sdkFollow, ResumesFromTheLastDeliveredSequence) {
  fake_.AddStream({.sequences = {3, 4}, .end = absl::UnavailableError("goaway")});
  fake_.AddStream({.sequences = {4, 5}, .end = absl::AbortedError("hub shutting down")});
  fake_.AddStream({.sequences = {5, 6, 7}, .end = absl::OkStatus()});
  EXPECT_TRUE(Follow({.after_sequence = 2}, Reconnect(10000), /*stop_after=*/5).ok());
  // 4 and 5 were replayed by the hub but delivered only once.
  EXPECT_THAT(delivered_, ElementsAre(3, 4, 5, 6, 7));
  EXPECT_THAT(AfterSequences(), ElementsAre(2, 4, 5));
}

TEST_F(sdkFollow, EveryResumableEndReconnects) {
  fake_.AddStream({.sequences = {1}, .end = absl::UnavailableError("a")});
  fake_.AddStream({.sequences = {2}, .end = absl::DeadlineExceededError("b")});
  fake_.AddStream({.sequences = {3}, .end = absl::CancelledError("proxy cancelled")});
  fake_.AddStream({.sequences = {4}, .end = absl::OkStatus()});
  fake_.AddStream({.sequences = {5}, .end = absl::AbortedError("c")});
  fake_.AddStream({.sequences = {6}, .end = absl::OkStatus()});
  EXPECT_TRUE(Follow({}, Reconnect(10000), 6).ok());
  EXPECT_THAT(delivered_, ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_THAT(AfterSequences(), ElementsAre(0, 1, 2, 3, 4, 5));
  // Each stream delivered something, so every wait is the first step again.
  EXPECT_THAT(clock_.sleeps(), ::testing::Each(milliseconds(100)));
}

TEST_F(sdkFollow, RefusalsAreReturnedWithoutReconnecting) {
  fake_.AddStream({.sequences = {1}, .end = absl::PermissionDeniedError("principal suspended")});
  const absl::Status s = Follow({}, Reconnect(10000));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "principal suspended");
  EXPECT_EQ(fake_.calls("WatchConsents"), 1);
  EXPECT_THAT(delivered_, ElementsAre(1));
}

TEST_F(sdkFollow, ResourceExhaustedIsARefusal) {
  fake_.AddStream({.sequences = {}, .end = absl::ResourceExhaustedError("too many watches")});
  EXPECT_EQ(Follow({}, Reconnect(10000)).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(fake_.calls("WatchConsents"), 1);
}

TEST_F(sdkFollow, GivesUpWithTheLastFailureAfterTotalTimeout) {
  // Every stream fails at once (the fake's default): 100, 200, 400, 800, 1000 ms waits
  // (2500 ms), and the next 1000 ms wait would pass 3000 ms.
  const absl::Status s = Follow({.after_sequence = 9}, Reconnect(3000));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "hub unreachable");
  EXPECT_THAT(clock_.sleeps(), ElementsAre(milliseconds(100), milliseconds(200),
                                           milliseconds(400), milliseconds(800),
                                           milliseconds(1000)));
  EXPECT_EQ(fake_.calls("WatchConsents"), 6);
  EXPECT_THAT(AfterSequences(), ::testing::Each(9u));
  EXPECT_TRUE(delivered_.empty());
}

TEST_F(sdkFollow, HubThatKeepsClosingCleanlyIsReportedUnavailable) {
  for (int i = 0; i < 50; ++i) fake_.AddStream({.sequences = {}, .end = absl::OkStatus()});
  const absl::Status s = Follow({.after_sequence = 12}, Reconnect(1000));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("resume from sequence 12"));
}

TEST_F(sdkFollow, ADeliveringStreamResetsTheBackoff) {
  fake_.AddStream({.sequences = {}, .end = absl::UnavailableError("down")});
  fake_.AddStream({.sequences = {}, .end = absl::UnavailableError("down")});
  fake_.AddStream({.sequences = {1}, .end = absl::UnavailableError("dropped")});
  fake_.AddStream({.sequences = {}, .end = absl::UnavailableError("down")});
  fake_.AddStream({.sequences = {2}, .end = absl::OkStatus()});
  EXPECT_TRUE(Follow({}, Reconnect(10000), 2).ok());
  EXPECT_THAT(clock_.sleeps(), ElementsAre(milliseconds(100), milliseconds(200),
                                           milliseconds(100), milliseconds(200)));
}

TEST_F(sdkFollow, ALongLivedStreamResetsTheBackoff) {
  fake_.AddStream({.sequences = {}, .end = absl::UnavailableError("down")});
  fake_.AddStream({.sequences = {}, .end = absl::UnavailableError("down")});
  // Open for 5 s without a change, then dropped: a healthy stream, not a failed attempt.
  fake_.AddStream({.sequences = {},
                   .end = absl::UnavailableError("idle drop"),
                   .on_end = [this] { clock_.Advance(milliseconds(5000)); }});
  fake_.AddStream({.sequences = {}, .end = absl::UnavailableError("down")});
  fake_.AddStream({.sequences = {1}, .end = absl::OkStatus()});
  EXPECT_TRUE(Follow({}, Reconnect(10000), 1).ok());
  EXPECT_THAT(clock_.sleeps(), ElementsAre(milliseconds(100), milliseconds(200),
                                           milliseconds(100), milliseconds(200)));
}

TEST_F(sdkFollow, AShortStreamIsAFailedAttemptEvenWithTinyBackoff) {
  // max_backoff 50 ms, but a stream that lived 500 ms and delivered nothing is still part
  // of the failing streak, so the 2 s budget runs out.
  RetryPolicy p = Reconnect(2000);
  p.initial_backoff = milliseconds(50);
  p.max_backoff = milliseconds(50);
  for (int i = 0; i < 100; ++i) {
    fake_.AddStream({.sequences = {},
                     .end = absl::UnavailableError("refused"),
                     .on_end = [this] { clock_.Advance(milliseconds(500)); }});
  }
  EXPECT_EQ(Follow({}, p).code(), absl::StatusCode::kUnavailable);
  // Streams end at 500, 1050, 1600, 2150 and 2700 ms; after the fifth, the next attempt
  // would start more than 2000 ms after the first failure.
  EXPECT_EQ(fake_.calls("WatchConsents"), 5);
}

TEST_F(sdkFollow, FromNowHasNoCursorUntilTheFirstChange) {
  fake_.AddStream({.sequences = {}, .end = absl::UnavailableError("down")});
  fake_.AddStream({.sequences = {40}, .end = absl::UnavailableError("down")});
  fake_.AddStream({.sequences = {41}, .end = absl::OkStatus()});
  EXPECT_TRUE(Follow({.after_sequence = 7, .from_now = true}, Reconnect(10000), 2).ok());
  EXPECT_THAT(delivered_, ElementsAre(40, 41));
  ASSERT_EQ(fake_.watch_requests().size(), 3u);
  EXPECT_TRUE(fake_.watch_requests()[0].from_now());
  EXPECT_TRUE(fake_.watch_requests()[1].from_now());
  EXPECT_FALSE(fake_.watch_requests()[2].from_now());
  EXPECT_EQ(fake_.watch_requests()[2].after_sequence(), 40u);
}

TEST_F(sdkFollow, OnChangeReturningFalseEndsWithOk) {
  fake_.AddStream({.sequences = {1, 2, 3}, .end = absl::OkStatus()});
  EXPECT_TRUE(Follow({}, Reconnect(10000), 2).ok());
  EXPECT_THAT(delivered_, ElementsAre(1, 2));
  EXPECT_EQ(fake_.calls("WatchConsents"), 1);
}

TEST_F(sdkFollow, StopBeforeStartOpensNothing) {
  stop_.request_stop();
  EXPECT_TRUE(Follow({}, Reconnect(10000)).ok());
  EXPECT_EQ(fake_.calls("WatchConsents"), 0);
}

TEST_F(sdkFollow, StopDuringOnChangeDeliversNothingMore) {
  fake_.AddStream({.sequences = {1, 2, 3}, .end = absl::OkStatus()});
  FollowEnvironment env = {.now = [this] { return clock_.Now(); },
                           .sleep = [](milliseconds, std::stop_token) { return true; },
                           .uniform01 = [] { return 0.0; }};
  EXPECT_TRUE(FollowConsents(fake_, Reconnect(10000), env, {},
                             [&](const v1::WatchConsentsResponse& c) {
                               delivered_.push_back(c.sequence());
                               stop_.request_stop();
                               return true;
                             },
                             stop_.get_token())
                  .ok());
  EXPECT_THAT(delivered_, ElementsAre(1));
  EXPECT_EQ(fake_.calls("WatchConsents"), 1);
}

TEST_F(sdkFollow, StopDuringTheBackoffWaitReturnsOk) {
  FollowEnvironment env = {.now = [this] { return clock_.Now(); },
                           .sleep =
                               [this](milliseconds, std::stop_token) {
                                 stop_.request_stop();
                                 return false;
                               },
                           .uniform01 = [] { return 0.0; }};
  EXPECT_TRUE(FollowConsents(fake_, Reconnect(10000), env, {},
                             [](const v1::WatchConsentsResponse&) { return true; },
                             stop_.get_token())
                  .ok());
  EXPECT_EQ(fake_.calls("WatchConsents"), 1);
}

TEST(sdkClientFollow, StopFromAnotherThreadCancelsABlockedRead) {
  auto fake = std::make_shared<FakeConnection>();
  fake->AddStream({.sequences = {1}, .end = absl::OkStatus(), .block_until_cancelled = true});
  Client client(fake, RetryPolicy{});
  std::stop_source stop;
  std::vector<uint64_t> delivered;
  absl::Status result = absl::UnknownError("not run");
  std::thread stopper;
  std::thread follower([&] {
    result = client.FollowConsents(
        {},
        [&](const v1::WatchConsentsResponse& c) {
          delivered.push_back(c.sequence());
          // Ask for the stop from another thread; the follower then blocks in Read until
          // the stream is cancelled.
          stopper = std::thread([&stop] { stop.request_stop(); });
          return true;
        },
        stop.get_token());
  });
  follower.join();
  stopper.join();
  EXPECT_TRUE(result.ok()) << result;
  EXPECT_THAT(delivered, ElementsAre(1));
  EXPECT_EQ(fake->calls("WatchConsents"), 1);
}

TEST(sdkClientFollow, ReconnectsThroughThePublicApi) {
  auto fake = std::make_shared<FakeConnection>();
  fake->AddStream({.sequences = {1, 2}, .end = absl::UnavailableError("dropped")});
  fake->AddStream({.sequences = {2, 3}, .end = absl::OkStatus()});
  RetryPolicy immediate;
  immediate.initial_backoff = milliseconds(0);
  Client client(fake, immediate);
  std::vector<uint64_t> delivered;
  EXPECT_TRUE(client
                  .FollowConsents({},
                                  [&](const v1::WatchConsentsResponse& c) {
                                    delivered.push_back(c.sequence());
                                    return c.sequence() < 3;
                                  })
                  .ok());
  EXPECT_THAT(delivered, ElementsAre(1, 2, 3));
  EXPECT_EQ(fake->calls("WatchConsents"), 2);
}

TEST(sdkClientFollow, ZeroBackoffStillGivesUp) {
  // With no delay between attempts, an unreachable hub must still end the call once
  // total_timeout has passed rather than spin forever. A 0 ms budget allows a retry only
  // if it starts at the very instant of the first failure.
  auto fake = std::make_shared<FakeConnection>();
  RetryPolicy immediate;
  immediate.initial_backoff = milliseconds(0);
  immediate.max_backoff = milliseconds(0);
  immediate.total_timeout = milliseconds(0);
  Client client(fake, immediate);
  const absl::Status s =
      client.FollowConsents({}, [](const v1::WatchConsentsResponse&) { return true; });
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_LE(fake->calls("WatchConsents"), 2);
}

}  // namespace
}  // namespace fedhub::client
