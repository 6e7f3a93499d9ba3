// fedhub::Publisher against a fake connection whose Publish calls the test answers: batching,
// acknowledgements, refusals, reconnection, flow control and failures.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "core/strings.h"
#include "fake_connection.h"
#include "fedhub/client.h"
#include "fedhub/publisher.h"

namespace fedhub {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using testing::FakeConnection;
using testing::FakePublishCall;
using ::testing::HasSubstr;
using testing::kFakeStreamWait;
using Result = absl::StatusOr<uint64_t>;

v1::PublishEvent Event(const std::string& id) {
  v1::PublishEvent e;
  e.set_event_id(id);
  e.mutable_catalogue()->mutable_item()->set_item_id("item-" + id);
  e.mutable_catalogue()->mutable_item()->set_kind(v1::ITEM_KIND_COURSE);
  e.mutable_catalogue()->set_removed(true);
  return e;
}

std::vector<std::string> Ids(const v1::PublishRequest& batch) {
  std::vector<std::string> ids;
  for (const v1::PublishEvent& e : batch.events()) ids.push_back(e.event_id());
  return ids;
}

// The future's value, or DEADLINE_EXCEEDED if it did not resolve in time.
Result Get(std::future<Result>& f) {
  if (f.wait_for(kFakeStreamWait) != std::future_status::ready) {
    return absl::DeadlineExceededError("the future did not resolve");
  }
  return f.get();
}

class PublisherTest : public ::testing::Test {
 protected:
  // Batches of up to `batch` events that never leave on a timer (only full, or on Flush
  // and Close), so what goes into each batch is deterministic.
  PublisherOptions Options(size_t batch) {
    PublisherOptions o;
    o.max_batch_events = batch;
    o.linger = std::chrono::hours(1);
    o.reconnect.initial_backoff = milliseconds(1);
    o.reconnect.jitter = 0;
    return o;
  }

  std::unique_ptr<Publisher> Start(const PublisherOptions& options) {
    auto publisher = Publisher::Start(fake_, options);
    EXPECT_TRUE(publisher.ok()) << publisher.status();
    return publisher.ok() ? *std::move(publisher) : nullptr;
  }

  std::vector<std::future<Result>> PublishAll(Publisher& p, const std::vector<std::string>& ids) {
    std::vector<std::future<Result>> futures;
    for (const std::string& id : ids) futures.push_back(p.Publish(Event(id)));
    return futures;
  }

  std::shared_ptr<FakeConnection> fake_ = std::make_shared<FakeConnection>();
};

using sdkPublisher = PublisherTest;

TEST_F(sdkPublisher, BatchesHoldUpToTheLimitAndFlushSendsTheRest) {
  auto publisher = Start(Options(3));
  auto futures = PublishAll(*publisher, {"e0", "e1", "e2", "e3", "e4", "e5", "e6"});
  auto call = fake_->OpenedPublishCall(0);
  ASSERT_NE(call, nullptr);
  auto b1 = call->NextBatch();
  auto b2 = call->NextBatch();
  ASSERT_TRUE(b1 && b2);
  EXPECT_THAT(Ids(*b1), ElementsAre("e0", "e1", "e2"));
  EXPECT_THAT(Ids(*b2), ElementsAre("e3", "e4", "e5"));
  EXPECT_LT(b1->batch_id(), b2->batch_id());
  // e6 waits for a full batch until Flush sends it.
  auto flushed = std::async(std::launch::async, [&] { return publisher->Flush(); });
  auto b3 = call->NextBatch();
  ASSERT_TRUE(b3);
  EXPECT_THAT(Ids(*b3), ElementsAre("e6"));
  call->Accept(*b1, 1);
  call->Accept(*b2, 4);
  call->Accept(*b3, 7);
  EXPECT_TRUE(flushed.get().ok());
  for (auto& f : futures) EXPECT_TRUE(f.wait_for(milliseconds(0)) == std::future_status::ready);
  EXPECT_EQ(publisher->stats().batches_sent, 3u);
}

TEST_F(sdkPublisher, BatchesAlsoStopAtTheByteLimit) {
  PublisherOptions o = Options(10);
  o.max_batch_bytes = 1024;
  auto publisher = Start(o);
  std::vector<std::future<Result>> futures;
  for (const char* id : {"e0", "e1", "e2", "e3", "e4"}) {
    v1::PublishEvent e = Event(id);
    e.mutable_catalogue()->mutable_item()->set_description(std::string(400, 'd'));
    futures.push_back(publisher->Publish(std::move(e)));
  }
  auto call = fake_->OpenedPublishCall(0);
  ASSERT_NE(call, nullptr);
  auto b1 = call->NextBatch();
  auto b2 = call->NextBatch();
  ASSERT_TRUE(b1 && b2);
  EXPECT_THAT(Ids(*b1), ElementsAre("e0", "e1"));
  EXPECT_THAT(Ids(*b2), ElementsAre("e2", "e3"));
  EXPECT_LE(b1->ByteSizeLong(), 1024u);
  auto flushed = std::async(std::launch::async, [&] { return publisher->Flush(); });
  auto b3 = call->NextBatch();
  ASSERT_TRUE(b3);
  EXPECT_THAT(Ids(*b3), ElementsAre("e4"));
  call->Accept(*b1, 1);
  call->Accept(*b2, 3);
  call->Accept(*b3, 5);
  EXPECT_TRUE(flushed.get().ok());
}

TEST_F(sdkPublisher, AcknowledgementsResolveFuturesWithOffsetsInOrder) {
  auto publisher = Start(Options(2));
  auto futures = PublishAll(*publisher, {"a", "b", "c", "d"});
  auto call = fake_->OpenedPublishCall(0);
  ASSERT_NE(call, nullptr);
  auto b1 = call->NextBatch();
  auto b2 = call->NextBatch();
  ASSERT_TRUE(b1 && b2);
  call->Accept(*b1, 100);
  call->Accept(*b2, 200, /*duplicates=*/1);
  std::vector<uint64_t> offsets;
  for (auto& f : futures) {
    Result r = Get(f);
    ASSERT_TRUE(r.ok()) << r.status();
    offsets.push_back(*r);
  }
  EXPECT_THAT(offsets, ElementsAre(100, 101, 200, 201));
  const PublisherStats stats = publisher->stats();
  EXPECT_EQ(stats.events_acknowledged, 4u);
  EXPECT_EQ(stats.events_duplicate, 1u);
  EXPECT_EQ(stats.events_failed, 0u);
  EXPECT_EQ(stats.reconnects, 0u);
}

TEST_F(sdkPublisher, RefusedBatchFailsOnlyTheListedEventsAndResendsTheRestFirst) {
  PublisherOptions o = Options(4);
  o.max_in_flight_batches = 1;
  auto publisher = Start(o);
  auto first = PublishAll(*publisher, {"e0", "e1", "e2", "e3"});
  auto call = fake_->OpenedPublishCall(0);
  ASSERT_NE(call, nullptr);
  auto refused = call->NextBatch();
  ASSERT_TRUE(refused);
  // A full newer batch is ready but must not overtake the refused batch's good events.
  auto newer = PublishAll(*publisher, {"e4", "e5", "e6", "e7"});
  call->Refuse(*refused,
               {{1, absl::StatusCode::kInvalidArgument}, {3, absl::StatusCode::kNotFound}});
  auto resent = call->NextBatch();
  ASSERT_TRUE(resent);
  EXPECT_THAT(Ids(*resent), ElementsAre("e0", "e2"));
  EXPECT_NE(resent->batch_id(), refused->batch_id());
  call->Accept(*resent, 10);
  auto next = call->NextBatch();
  ASSERT_TRUE(next);
  EXPECT_THAT(Ids(*next), ElementsAre("e4", "e5", "e6", "e7"));
  call->Accept(*next, 12);

  EXPECT_EQ(Get(first[0]).value(), 10u);
  EXPECT_EQ(Get(first[2]).value(), 11u);
  const Result bad1 = Get(first[1]);
  EXPECT_EQ(bad1.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad1.status().message(), "event e1 is bad");
  EXPECT_EQ(Get(first[3]).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Get(newer[0]).value(), 12u);
  const PublisherStats stats = publisher->stats();
  EXPECT_EQ(stats.batches_refused, 1u);
  EXPECT_EQ(stats.events_failed, 2u);
  EXPECT_EQ(stats.events_acknowledged, 6u);
}

TEST_F(sdkPublisher, RefusalThatNamesNoEventFailsTheWholeBatch) {
  auto publisher = Start(Options(2));
  auto futures = PublishAll(*publisher, {"e0", "e1"});
  auto call = fake_->OpenedPublishCall(0);
  ASSERT_NE(call, nullptr);
  auto batch = call->NextBatch();
  ASSERT_TRUE(batch);
  v1::PublishResponse refusal;
  refusal.set_batch_id(batch->batch_id());
  refusal.mutable_refused()->set_code(static_cast<int32_t>(absl::StatusCode::kInvalidArgument));
  refusal.mutable_refused()->set_message("batch has 2 events over the limit");
  call->Answer(refusal);
  for (auto& f : futures) {
    const Result r = Get(f);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), "batch has 2 events over the limit");
  }
  EXPECT_TRUE(publisher->Flush().ok());
  EXPECT_EQ(publisher->stats().batches_sent, 1u);
}

TEST_F(sdkPublisher, BrokenStreamResendsUnacknowledgedBatchesWithTheSameIds) {
  auto publisher = Start(Options(2));
  auto futures = PublishAll(*publisher, {"e0", "e1", "e2", "e3", "e4", "e5"});
  auto first = fake_->OpenedPublishCall(0);
  ASSERT_NE(first, nullptr);
  auto b1 = first->NextBatch();
  auto b2 = first->NextBatch();
  auto b3 = first->NextBatch();
  ASSERT_TRUE(b1 && b2 && b3);
  first->Accept(*b1, 1);
  first->End(absl::UnavailableError("connection reset"));

  auto second = fake_->OpenedPublishCall(1);
  ASSERT_NE(second, nullptr);
  auto r2 = second->NextBatch();
  auto r3 = second->NextBatch();
  ASSERT_TRUE(r2 && r3);
  EXPECT_THAT(Ids(*r2), ElementsAre("e2", "e3"));
  EXPECT_THAT(Ids(*r3), ElementsAre("e4", "e5"));
  EXPECT_EQ(r2->batch_id(), b2->batch_id());
  EXPECT_EQ(r3->batch_id(), b3->batch_id());
  // The hub had stored b2 before the break: it answers with the first offsets.
  second->Accept(*r2, 3, /*duplicates=*/2);
  second->Accept(*r3, 5);
  std::vector<uint64_t> offsets;
  for (auto& f : futures) offsets.push_back(Get(f).value());
  EXPECT_THAT(offsets, ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_EQ(publisher->stats().reconnects, 1u);
  EXPECT_EQ(publisher->stats().batches_sent, 5u);
}

TEST_F(sdkPublisher, CleanEndItDidNotAskForIsResumed) {
  auto publisher = Start(Options(1));
  auto futures = PublishAll(*publisher, {"e0"});
  auto first = fake_->OpenedPublishCall(0);
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->NextBatch());
  first->End(absl::OkStatus());
  auto second = fake_->OpenedPublishCall(1);
  ASSERT_NE(second, nullptr);
  auto again = second->NextBatch();
  ASSERT_TRUE(again);
  EXPECT_THAT(Ids(*again), ElementsAre("e0"));
  second->Accept(*again, 9);
  EXPECT_EQ(Get(futures[0]).value(), 9u);
}

TEST_F(sdkPublisher, PublishBlocksWhileMaxBufferedEventsAreOutstanding) {
  PublisherOptions o = Options(2);
  o.max_buffered_events = 4;
  auto publisher = Start(o);
  auto futures = PublishAll(*publisher, {"e0", "e1", "e2", "e3"});
  auto call = fake_->OpenedPublishCall(0);
  ASSERT_NE(call, nullptr);
  auto b1 = call->NextBatch();
  auto b2 = call->NextBatch();
  ASSERT_TRUE(b1 && b2);

  std::atomic<bool> returned{false};
  auto fifth = std::async(std::launch::async, [&] {
    auto f = publisher->Publish(Event("e4"));
    returned = true;
    return f;
  });
  // Nothing has been acknowledged, so the fifth Publish cannot have returned. (If it did not
  // block this check may still pass, but it can never fail spuriously; the ack below must
  // then release it.)
  EXPECT_EQ(fifth.wait_for(milliseconds(50)), std::future_status::timeout);
  EXPECT_FALSE(returned);
  call->Accept(*b1, 1);
  ASSERT_EQ(fifth.wait_for(kFakeStreamWait), std::future_status::ready);
  std::future<Result> e4 = fifth.get();
  auto flushed = std::async(std::launch::async, [&] { return publisher->Flush(); });
  call->Accept(*b2, 3);
  auto b3 = call->NextBatch();
  ASSERT_TRUE(b3);
  EXPECT_THAT(Ids(*b3), ElementsAre("e4"));
  call->Accept(*b3, 5);
  EXPECT_TRUE(flushed.get().ok());
  EXPECT_EQ(Get(e4).value(), 5u);
}

TEST_F(sdkPublisher, NonRetryableStreamErrorFailsEveryPendingEventAndLaterPublishes) {
  auto publisher = Start(Options(2));
  auto futures = PublishAll(*publisher, {"e0", "e1", "e2"});
  auto call = fake_->OpenedPublishCall(0);
  ASSERT_NE(call, nullptr);
  ASSERT_TRUE(call->NextBatch());
  call->End(absl::PermissionDeniedError("platform store is suspended"));
  for (auto& f : futures) {
    const Result r = Get(f);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(r.status().message(), "platform store is suspended");
  }
  auto later = publisher->Publish(Event("e3"));
  EXPECT_EQ(Get(later).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(publisher->Flush().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(publisher->Close().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(fake_->publish_calls(), 1u);
  EXPECT_EQ(publisher->stats().events_failed, 4u);
}

TEST_F(sdkPublisher, PendingEventsFailWhenTheHubStaysAwayButThePublisherRecovers) {
  PublisherOptions o = Options(1);
  o.reconnect.total_timeout = milliseconds(0);
  auto publisher = Start(o);
  auto lost = PublishAll(*publisher, {"e0"});
  auto first = fake_->OpenedPublishCall(0);
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->NextBatch());
  first->End(absl::UnavailableError("hub unreachable"));
  const Result r = Get(lost[0]);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(), "hub unreachable");

  auto next = PublishAll(*publisher, {"e0"});
  auto second = fake_->OpenedPublishCall(1);
  ASSERT_NE(second, nullptr);
  auto batch = second->NextBatch();
  ASSERT_TRUE(batch);
  second->Accept(*batch, 1);
  EXPECT_EQ(Get(next[0]).value(), 1u);
}

TEST_F(sdkPublisher, AnswerForTheWrongBatchStopsThePublisher) {
  auto publisher = Start(Options(1));
  auto futures = PublishAll(*publisher, {"e0"});
  auto call = fake_->OpenedPublishCall(0);
  ASSERT_NE(call, nullptr);
  auto batch = call->NextBatch();
  ASSERT_TRUE(batch);
  v1::PublishRequest other = *batch;
  other.set_batch_id(batch->batch_id() + 7);
  call->Accept(other, 1);
  const Result r = Get(futures[0]);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(ToStd(r.status().message())), HasSubstr("was sent before it"));
  EXPECT_TRUE(call->cancelled());
}

TEST_F(sdkPublisher, BadEventsFailAtOnceWithoutAStream) {
  auto publisher = Start(Options(10));
  v1::PublishEvent no_payload;
  no_payload.set_event_id("ok-id");
  std::vector<v1::PublishEvent> bad = {Event(""),          Event(std::string(129, 'x')),
                                       Event("has space"), Event("tab\tin"),
                                       Event("\x7f"),      no_payload};
  for (v1::PublishEvent& e : bad) {
    auto f = publisher->Publish(e);
    ASSERT_EQ(f.wait_for(milliseconds(0)), std::future_status::ready);
    const Result r = f.get();
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << e.event_id();
  }
  EXPECT_TRUE(publisher->Flush().ok());
  EXPECT_TRUE(publisher->Close().ok());
  EXPECT_EQ(fake_->publish_calls(), 0u);
  EXPECT_EQ(publisher->stats().events_failed, bad.size());
}

TEST_F(sdkPublisher, OversizedEventIsRefusedLocally) {
  PublisherOptions o = Options(10);
  o.max_batch_bytes = 1024;
  auto publisher = Start(o);
  v1::PublishEvent big = Event("big");
  big.mutable_catalogue()->mutable_item()->set_description(std::string(2000, 'd'));
  auto f = publisher->Publish(big);
  const Result r = Get(f);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(ToStd(r.status().message())), HasSubstr("max_batch_bytes"));
}

TEST_F(sdkPublisher, CloseFlushesEndsTheStreamAndRefusesLaterEvents) {
  auto publisher = Start(Options(10));
  auto futures = PublishAll(*publisher, {"e0"});
  auto closed = std::async(std::launch::async, [&] { return publisher->Close(); });
  auto call = fake_->OpenedPublishCall(0);
  ASSERT_NE(call, nullptr);
  auto batch = call->NextBatch();
  ASSERT_TRUE(batch);
  call->Accept(*batch, 1);
  EXPECT_TRUE(call->WaitWritesDone());
  EXPECT_TRUE(closed.get().ok());
  EXPECT_EQ(Get(futures[0]).value(), 1u);
  auto late = publisher->Publish(Event("e1"));
  EXPECT_EQ(Get(late).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(publisher->Close().ok());
}

TEST_F(sdkPublisher, StartChecksItsOptions) {
  auto bad = [&](auto edit) {
    PublisherOptions o;
    edit(o);
    return Publisher::Start(fake_, o).status();
  };
  EXPECT_EQ(bad([](PublisherOptions& o) { o.max_batch_events = 0; }).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](PublisherOptions& o) { o.max_batch_events = 1001; }).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](PublisherOptions& o) { o.max_in_flight_batches = 0; }).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](PublisherOptions& o) { o.max_buffered_events = 10; }).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](PublisherOptions& o) { o.linger = std::chrono::microseconds(-1); }).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](PublisherOptions& o) { o.linger = std::chrono::hours(2); }).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](PublisherOptions& o) { o.max_batch_bytes = 100; }).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Publisher::Start(nullptr).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Client(fake_).NewPublisher().ok());
}

}  // namespace
}  // namespace fedhub
