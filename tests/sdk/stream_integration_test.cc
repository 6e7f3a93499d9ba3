// The SDK's Publisher, Subscription and catalogue calls against a real hub (TestHub: the
// hub's domain and gRPC server in process, mutual TLS on loopback, a temporary RocksDB).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/strings.h"
#include "fedhub/client.h"
#include "fedhub/publisher.h"
#include "fedhub/subscription.h"
#include "test_hub.h"

namespace fedhub {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TestHub;
using ::testing::UnorderedElementsAre;

constexpr std::chrono::seconds kWait{20};

v1::PublishEvent Item(const std::string& id, const std::string& currency = "EUR") {
  v1::PublishEvent e;
  e.set_event_id("ev-" + id);
  v1::CatalogueItem* item = e.mutable_catalogue()->mutable_item();
  item->set_item_id(id);
  item->set_kind(v1::ITEM_KIND_TEMPLATE);
  item->set_title("Template " + id);
  item->add_tags("design");
  item->set_price_minor(1999);
  item->set_currency(currency);
  item->set_language("en");
  return e;
}

absl::StatusOr<uint64_t> Get(std::future<absl::StatusOr<uint64_t>>& f) {
  if (f.wait_for(kWait) != std::future_status::ready) {
    return absl::DeadlineExceededError("the event was not acknowledged in time");
  }
  return f.get();
}

// What a subscription handed over: events by id and offset, committed cursors.
class Received {
 public:
  Subscription::Handler Handler(std::function<absl::Status(const v1::DeliveredEvent&)> also = {}) {
    return [this, also](const v1::SubscribeResponse& m) -> absl::Status {
      for (const v1::DeliveredEvent& e : m.events()) {
        if (also) {
          absl::Status s = also(e);
          if (!s.ok()) return s;
        }
        std::lock_guard lock(mu_);
        events_.push_back(e);
        cv_.notify_all();
      }
      return absl::OkStatus();
    };
  }
  Subscription::CursorHook Hook() {
    return [this](uint64_t cursor) {
      std::lock_guard lock(mu_);
      cursors_.push_back(cursor);
      return absl::OkStatus();
    };
  }
  bool WaitForEvents(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return events_.size() >= n; });
  }
  std::vector<v1::DeliveredEvent> events() {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::vector<std::string> event_ids() {
    std::vector<std::string> ids;
    for (const auto& e : events()) ids.push_back(e.event_id());
    return ids;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<v1::DeliveredEvent> events_;
  std::vector<uint64_t> cursors_;
};

class sdkStreamIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    auto hub = TestHub::Start();
    ASSERT_TRUE(hub.ok()) << hub.status();
    hub_ = *std::move(hub);
  }

  SubscriptionOptions Catalogue() {
    SubscriptionOptions o;
    o.request.set_after_cursor(0);
    o.request.add_kinds(v1::STREAM_KIND_CATALOGUE);
    o.reconnect.initial_backoff = milliseconds(20);
    o.reconnect.max_backoff = milliseconds(200);
    return o;
  }

  std::unique_ptr<TestHub> hub_;
};

TEST_F(sdkStreamIntegration, PublishedCatalogueReachesTheSubscriberAndTheListings) {
  Client store = hub_->ClientFor("store");
  Client course = hub_->ClientFor("course");
  v1::SharingPolicy policy;
  policy.add_platform_ids("course");
  auto set = store.SetSharingPolicy(policy);
  ASSERT_TRUE(set.ok()) << set.status();
  auto got = store.GetSharingPolicy();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->platform_ids(), ElementsAre("course"));

  PublisherOptions options;
  options.max_batch_events = 10;
  options.linger = std::chrono::hours(1);  // one batch, sent by Flush
  auto publisher = store.NewPublisher(options);
  ASSERT_TRUE(publisher.ok()) << publisher.status();
  std::vector<std::future<absl::StatusOr<uint64_t>>> futures;
  for (const char* id : {"t-1", "t-2", "t-3"}) futures.push_back((*publisher)->Publish(Item(id)));
  futures.push_back((*publisher)->Publish(Item("t-bad", "XXX")));  // no such currency
  futures.push_back((*publisher)->Publish(Item("t-4")));
  ASSERT_TRUE((*publisher)->Flush().ok());

  std::vector<uint64_t> offsets;
  for (size_t i : {0, 1, 2, 4}) {
    auto offset = Get(futures[i]);
    ASSERT_TRUE(offset.ok()) << offset.status();
    offsets.push_back(*offset);
  }
  EXPECT_TRUE(std::is_sorted(offsets.begin(), offsets.end()));
  const absl::Status bad = Get(futures[3]).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument) << bad;
  EXPECT_THAT(std::string(ToStd(bad.message())), HasSubstr("currency"));
  EXPECT_EQ((*publisher)->stats().batches_refused, 1u);
  ASSERT_TRUE((*publisher)->Close().ok());

  Received received;
  auto sub = course.Subscribe(Catalogue(), received.Handler(), received.Hook());
  ASSERT_TRUE(received.WaitForEvents(4));
  EXPECT_THAT(received.event_ids(), ElementsAre("ev-t-1", "ev-t-2", "ev-t-3", "ev-t-4"));
  sub->Stop();
  EXPECT_TRUE(sub->Wait().ok());
  EXPECT_GE(sub->committed_cursor(), offsets.back());

  auto shared = course.ListAllCatalogue();
  ASSERT_TRUE(shared.ok()) << shared.status();
  std::vector<std::string> ids;
  for (const v1::SharedItem& s : *shared) ids.push_back(s.item().item_id());
  EXPECT_THAT(ids, ElementsAre("t-1", "t-2", "t-3", "t-4"));
  auto own = store.ListAllCatalogue({}, /*own=*/true);
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(own->size(), 4u);
  auto info = course.GetStreamInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_GE(info->head_cursor(), offsets.back());
}

TEST_F(sdkStreamIntegration, PublisherAndSubscriptionCarryOnAcrossAHubRestart) {
  Client store = hub_->ClientFor("store");
  Client course = hub_->ClientFor("course");
  v1::SharingPolicy policy;
  policy.set_all_members(true);
  ASSERT_TRUE(store.SetSharingPolicy(policy).ok());

  PublisherOptions options;
  options.linger = milliseconds(1);
  options.reconnect.initial_backoff = milliseconds(20);
  auto publisher = store.NewPublisher(options);
  ASSERT_TRUE(publisher.ok()) << publisher.status();
  Received received;
  auto sub = course.Subscribe(Catalogue(), received.Handler(), received.Hook());

  std::vector<std::future<absl::StatusOr<uint64_t>>> before;
  for (const char* id : {"a", "b", "c"}) before.push_back((*publisher)->Publish(Item(id)));
  for (auto& f : before) ASSERT_TRUE(Get(f).ok());
  ASSERT_TRUE(received.WaitForEvents(3));

  // Open streams end with UNAVAILABLE; both resume on their own.
  ASSERT_TRUE(hub_->Restart().ok());
  std::vector<std::future<absl::StatusOr<uint64_t>>> after;
  for (const char* id : {"d", "e", "f"}) after.push_back((*publisher)->Publish(Item(id)));
  for (auto& f : after) {
    auto offset = Get(f);
    ASSERT_TRUE(offset.ok()) << offset.status();
  }
  ASSERT_TRUE(received.WaitForEvents(6));
  EXPECT_THAT(received.event_ids(), ElementsAre("ev-a", "ev-b", "ev-c", "ev-d", "ev-e", "ev-f"));
  EXPECT_GE((*publisher)->stats().reconnects, 1u);
  sub->Stop();
  EXPECT_TRUE(sub->Wait().ok());
  EXPECT_TRUE((*publisher)->Close().ok());
}

TEST_F(sdkStreamIntegration, RevocationReachesTheSubscriberAsAnErasureNoticeItAcknowledges) {
  Client course = hub_->ClientFor("course");
  Client store = hub_->ClientFor("store");
  ConsentGrant grant{.local_user_id = "u-7",
                     .target_platform_id = "store",
                     .categories = {v1::DATA_CATEGORY_PROFILE},
                     .purposes = {v1::PURPOSE_SYNC},
                     .evidence_method = "web-form"};
  auto granted = course.GrantConsent(grant);
  ASSERT_TRUE(granted.ok()) << granted.status();
  const std::string consent_id = granted->consent().consent_id();

  std::mutex mu;
  std::map<std::string, v1::AcknowledgeErasureResponse> acks;
  Received received;
  SubscriptionOptions options;
  options.request.set_from_now(true);
  options.request.add_kinds(v1::STREAM_KIND_PROFILE);
  auto sub =
      store.Subscribe(options, received.Handler([&](const v1::DeliveredEvent& e) -> absl::Status {
        if (!e.has_erasure()) return absl::OkStatus();
        auto ack = store.AcknowledgeErasure(e.erasure().notice_id());
        if (!ack.ok()) return ack.status();
        std::lock_guard lock(mu);
        acks[e.erasure().notice_id()] = *ack;
        return absl::OkStatus();
      }));
  ASSERT_TRUE(hub_->WaitForOpenStreams(1));

  auto revoked = course.RevokeConsent(consent_id, "u-7");
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  ASSERT_TRUE(received.WaitForEvents(1));
  const v1::DeliveredEvent notice = received.events().front();
  ASSERT_TRUE(notice.has_erasure());
  EXPECT_EQ(notice.erasure().consent_id(), consent_id);
  EXPECT_EQ(notice.erasure().notice_id(), "erasure-" + consent_id);
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(acks.count(notice.erasure().notice_id()), 1u);
    EXPECT_FALSE(acks[notice.erasure().notice_id()].already_acknowledged());
  }
  auto again = store.AcknowledgeErasure(notice.erasure().notice_id());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->already_acknowledged());
  EXPECT_EQ(store.AcknowledgeErasure("erasure-nonsense").status().code(),
            absl::StatusCode::kInvalidArgument);
  sub->Stop();
  EXPECT_TRUE(sub->Wait().ok());
}

TEST_F(sdkStreamIntegration, CursorOutsideTheLogEndsTheSubscriptionWithTheHubsMessage) {
  Client course = hub_->ClientFor("course");
  SubscriptionOptions options = Catalogue();
  options.request.set_after_cursor(1'000'000);  // past the end of an empty log
  Received received;
  auto sub = course.Subscribe(options, received.Handler());
  const absl::Status ended = sub->Wait();
  EXPECT_EQ(ended.code(), absl::StatusCode::kOutOfRange) << ended;
  EXPECT_THAT(std::string(ToStd(ended.message())), HasSubstr("cursor 1000000"));
  EXPECT_TRUE(received.events().empty());
}

}  // namespace
}  // namespace fedhub
