// fedhub::Subscription against a fake connection whose Subscribe calls the test plays:
// handler order, cursor commits, snapshots, resumption, deduplication and how it ends.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/strings.h"
#include "fake_connection.h"
#include "fedhub/client.h"
#include "fedhub/subscription.h"

namespace fedhub {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using testing::FakeConnection;
using testing::FakeSubscribeCall;
using testing::kFakeStreamWait;

// What the handler and the hook saw, in order: "h<cursor>:<offsets>" and "c<cursor>".
class Recorder {
 public:
  Subscription::Handler Handler(absl::Status fail_at_cursor_status = absl::OkStatus(),
                                uint64_t fail_at_cursor = 0) {
    return [this, fail_at_cursor_status, fail_at_cursor](const v1::SubscribeResponse& m) {
      std::string entry = Cat("h", m.cursor(), ":");
      for (const v1::DeliveredEvent& e : m.events()) entry += Cat(e.offset(), ",");
      if (m.snapshot()) entry += m.snapshot_complete() ? "snapshot-complete" : "snapshot";
      Add(entry);
      if (fail_at_cursor != 0 && m.cursor() == fail_at_cursor) return fail_at_cursor_status;
      return absl::OkStatus();
    };
  }
  Subscription::CursorHook Hook(absl::Status result = absl::OkStatus()) {
    return [this, result](uint64_t cursor) {
      Add(Cat("c", cursor));
      return result;
    };
  }
  // Waits until `n` entries were recorded; false if that took too long.
  bool WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kFakeStreamWait, [&] { return log_.size() >= n; });
  }
  std::vector<std::string> log() {
    std::lock_guard lock(mu_);
    return log_;
  }

 private:
  void Add(std::string entry) {
    std::lock_guard lock(mu_);
    log_.push_back(std::move(entry));
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> log_;
};

class SubscriptionTest : public ::testing::Test {
 protected:
  SubscriptionOptions After(uint64_t cursor) {
    SubscriptionOptions o;
    o.request.set_after_cursor(cursor);
    o.reconnect.initial_backoff = milliseconds(1);
    o.reconnect.jitter = 0;
    return o;
  }
  SubscriptionOptions Snapshot() {
    SubscriptionOptions o = After(0);
    o.request.set_catalogue_snapshot(true);
    return o;
  }

  std::shared_ptr<FakeConnection> fake_ = std::make_shared<FakeConnection>();
  Recorder rec_;
};

using sdkSubscription = SubscriptionTest;

TEST_F(sdkSubscription, HandlerSeesMessagesInOrderAndTheHookCommitsAfterEach) {
  auto call = fake_->AddSubscribeCall();
  call->Send({1, 2}, 2);
  call->Send({}, 4);  // only advances the cursor
  call->Send({5}, 5);
  auto sub = Client(fake_).Subscribe(After(0), rec_.Handler(), rec_.Hook());
  ASSERT_TRUE(rec_.WaitFor(6));
  EXPECT_THAT(rec_.log(), ElementsAre("h2:1,2,", "c2", "h4:", "c4", "h5:5,", "c5"));
  sub->Stop();
  EXPECT_TRUE(sub->Wait().ok());
  // A commit is complete once the hook has returned.
  EXPECT_EQ(sub->committed_cursor(), 5u);
}

TEST_F(sdkSubscription, NothingIsCommittedDuringASnapshotUntilItCompletes) {
  auto call = fake_->AddSubscribeCall();
  call->Send({40, 12}, 50, /*snapshot=*/true);
  call->Send({31}, 50, /*snapshot=*/true, /*snapshot_complete=*/true);
  call->Send({51}, 51);
  auto sub = Subscription::Start(fake_, Snapshot(), rec_.Handler(), rec_.Hook());
  ASSERT_TRUE(rec_.WaitFor(5));
  EXPECT_THAT(rec_.log(), ElementsAre("h50:40,12,snapshot", "h50:31,snapshot-complete", "c50",
                                      "h51:51,", "c51"));
  v1::SubscribeRequest sent;
  ASSERT_NE(fake_->OpenedSubscribeCall(0, &sent), nullptr);
  EXPECT_TRUE(sent.catalogue_snapshot());
  sub->Stop();
  EXPECT_TRUE(sub->Wait().ok());
  EXPECT_EQ(sub->committed_cursor(), 51u);
}

TEST_F(sdkSubscription, ResumesAfterTheLastCommittedCursorWithTheSameRequest) {
  SubscriptionOptions o = After(5);
  o.request.add_kinds(v1::STREAM_KIND_CATALOGUE);
  o.request.mutable_catalogue_filter()->add_tags("c++");
  o.request.set_max_events_per_message(10);
  auto first = fake_->AddSubscribeCall();
  first->Send({6, 7}, 7);
  first->End(absl::UnavailableError("hub restarting"));
  auto sub = Subscription::Start(fake_, o, rec_.Handler(), rec_.Hook());
  v1::SubscribeRequest resumed;
  auto second = fake_->OpenedSubscribeCall(1, &resumed);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(resumed.start_case(), v1::SubscribeRequest::kAfterCursor);
  EXPECT_EQ(resumed.after_cursor(), 7u);
  EXPECT_THAT(resumed.kinds(), ElementsAre(v1::STREAM_KIND_CATALOGUE));
  EXPECT_THAT(resumed.catalogue_filter().tags(), ElementsAre("c++"));
  EXPECT_EQ(resumed.max_events_per_message(), 10u);
  v1::SubscribeRequest initial;
  fake_->OpenedSubscribeCall(0, &initial);
  EXPECT_EQ(initial.after_cursor(), 5u);
  sub->Stop();
  EXPECT_TRUE(sub->Wait().ok());
}

TEST_F(sdkSubscription, ASnapshotThatBreaksOffStartsOver) {
  auto first = fake_->AddSubscribeCall();
  first->Send({3}, 9, /*snapshot=*/true);
  first->End(absl::UnavailableError("connection reset"));
  auto sub = Subscription::Start(fake_, Snapshot(), rec_.Handler(), rec_.Hook());
  v1::SubscribeRequest again;
  auto second = fake_->OpenedSubscribeCall(1, &again);
  ASSERT_NE(second, nullptr);
  EXPECT_TRUE(again.catalogue_snapshot());
  second->Send({3}, 9, /*snapshot=*/true, /*snapshot_complete=*/true);
  ASSERT_TRUE(rec_.WaitFor(3));
  EXPECT_THAT(rec_.log(), ElementsAre("h9:3,snapshot", "h9:3,snapshot-complete", "c9"));
  sub->Stop();
  EXPECT_TRUE(sub->Wait().ok());
}

TEST_F(sdkSubscription, RedeliveredEventsAtOrBeforeTheCommittedCursorAreDropped) {
  auto first = fake_->AddSubscribeCall();
  first->Send({1, 2}, 2);
  first->End(absl::AbortedError("hub failing over"));
  auto second = fake_->AddSubscribeCall();
  second->Send({1}, 1);     // wholly old: skipped
  second->Send({2, 3}, 3);  // 2 again: dropped
  second->Send({4}, 4);
  auto sub = Subscription::Start(fake_, After(0), rec_.Handler(), rec_.Hook());
  ASSERT_TRUE(rec_.WaitFor(6));
  EXPECT_THAT(rec_.log(), ElementsAre("h2:1,2,", "c2", "h3:3,", "c3", "h4:4,", "c4"));
  sub->Stop();
  EXPECT_TRUE(sub->Wait().ok());
}

TEST_F(sdkSubscription, StartingCursorAlsoDeduplicates) {
  auto call = fake_->AddSubscribeCall();
  call->Send({10, 11}, 11);
  auto sub = Subscription::Start(fake_, After(10), rec_.Handler(), rec_.Hook());
  ASSERT_TRUE(rec_.WaitFor(2));
  EXPECT_THAT(rec_.log(), ElementsAre("h11:11,", "c11"));
  sub->Stop();
  EXPECT_TRUE(sub->Wait().ok());
}

TEST_F(sdkSubscription, OutOfRangeEndsItWithTheHubsMessage) {
  const std::string message =
      "cursor 5 is older than the oldest retained cursor 120; subscribe after 120 or from a "
      "catalogue snapshot";
  fake_->AddSubscribeCall()->End(absl::OutOfRangeError(message));
  auto sub = Subscription::Start(fake_, After(5), rec_.Handler(), rec_.Hook());
  const absl::Status ended = sub->Wait();
  EXPECT_EQ(ended.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(std::string(ToStd(ended.message())), message);
  EXPECT_EQ(fake_->subscribe_calls(), 1u);
  EXPECT_TRUE(rec_.log().empty());
}

TEST_F(sdkSubscription, RefusalsEndItWithoutReconnecting) {
  for (absl::StatusCode code :
       {absl::StatusCode::kPermissionDenied, absl::StatusCode::kUnauthenticated,
        absl::StatusCode::kInvalidArgument}) {
    fake_ = std::make_shared<FakeConnection>();
    fake_->AddSubscribeCall()->End(absl::Status(code, "no"));
    auto sub = Subscription::Start(fake_, After(0), rec_.Handler(), rec_.Hook());
    EXPECT_EQ(sub->Wait().code(), code);
    EXPECT_EQ(fake_->subscribe_calls(), 1u);
  }
}

TEST_F(sdkSubscription, StopFromAnotherThreadCancelsTheOpenStream) {
  auto call = fake_->AddSubscribeCall();
  auto sub = Subscription::Start(fake_, After(0), rec_.Handler(), rec_.Hook());
  ASSERT_NE(fake_->OpenedSubscribeCall(0), nullptr);
  std::thread stopper([&] { sub->Stop(); });
  EXPECT_TRUE(call->WaitCancelled());
  stopper.join();
  EXPECT_TRUE(sub->Wait().ok());
  EXPECT_EQ(fake_->subscribe_calls(), 1u);
}

TEST_F(sdkSubscription, StopEndsTheWaitBeforeReconnecting) {
  SubscriptionOptions o = After(0);
  o.reconnect.initial_backoff = std::chrono::hours(1);
  o.reconnect.max_backoff = std::chrono::hours(1);
  o.reconnect.total_timeout = std::chrono::hours(2);
  fake_->AddSubscribeCall()->End(absl::UnavailableError("hub restarting"));
  auto sub = Subscription::Start(fake_, o, rec_.Handler(), rec_.Hook());
  ASSERT_NE(fake_->OpenedSubscribeCall(0), nullptr);
  sub->Stop();
  EXPECT_TRUE(sub->Wait().ok());
  EXPECT_EQ(fake_->subscribe_calls(), 1u);
}

TEST_F(sdkSubscription, HandlerErrorEndsItWithoutCommitting) {
  auto call = fake_->AddSubscribeCall();
  call->Send({1}, 1);
  call->Send({2}, 2);
  auto sub = Subscription::Start(
      fake_, After(0), rec_.Handler(absl::FailedPreconditionError("disk full"), 2), rec_.Hook());
  const absl::Status ended = sub->Wait();
  EXPECT_EQ(ended.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ended.message(), "disk full");
  EXPECT_THAT(rec_.log(), ElementsAre("h1:1,", "c1", "h2:2,"));
  EXPECT_EQ(sub->committed_cursor(), 1u);
  EXPECT_TRUE(call->WaitCancelled());
}

TEST_F(sdkSubscription, HookErrorEndsItAndTheCursorStaysUncommitted) {
  fake_->AddSubscribeCall()->Send({3}, 3);
  auto sub = Subscription::Start(fake_, After(2), rec_.Handler(),
                                 rec_.Hook(absl::UnavailableError("database down")));
  const absl::Status ended = sub->Wait();
  EXPECT_EQ(ended.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ended.message(), "database down");
  EXPECT_EQ(sub->committed_cursor(), 2u);
  EXPECT_EQ(fake_->subscribe_calls(), 1u);
}

TEST_F(sdkSubscription, WithoutAHookTheHandlersCursorCountsAsCommitted) {
  auto first = fake_->AddSubscribeCall();
  first->Send({4}, 4);
  first->End(absl::OkStatus());
  auto sub = Subscription::Start(fake_, After(0), rec_.Handler());
  v1::SubscribeRequest resumed;
  ASSERT_NE(fake_->OpenedSubscribeCall(1, &resumed), nullptr);
  EXPECT_EQ(resumed.after_cursor(), 4u);
  EXPECT_EQ(sub->committed_cursor(), 4u);
  sub->Stop();
  EXPECT_TRUE(sub->Wait().ok());
}

TEST_F(sdkSubscription, GivesUpWhenTheHubStaysAway) {
  SubscriptionOptions o = After(0);
  o.reconnect.total_timeout = milliseconds(0);
  fake_->AddSubscribeCall()->End(absl::UnavailableError("hub unreachable"));
  auto sub = Subscription::Start(fake_, o, rec_.Handler(), rec_.Hook());
  const absl::Status ended = sub->Wait();
  EXPECT_EQ(ended.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ended.message(), "hub unreachable");
}

TEST_F(sdkSubscription, BadArgumentsEndItAtOnce) {
  auto no_handler = Subscription::Start(fake_, After(0), nullptr);
  EXPECT_EQ(no_handler->Wait().code(), absl::StatusCode::kInvalidArgument);
  SubscriptionOptions o = After(0);
  o.request.set_max_events_per_message(5000);
  auto too_many = Subscription::Start(fake_, o, rec_.Handler());
  EXPECT_EQ(too_many->Wait().code(), absl::StatusCode::kInvalidArgument);
  auto no_connection = Subscription::Start(nullptr, After(0), rec_.Handler());
  EXPECT_EQ(no_connection->Wait().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fake_->subscribe_calls(), 0u);
}

}  // namespace
}  // namespace fedhub
