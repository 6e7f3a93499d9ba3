// Consent at delivery over real gRPC: a revocation stops delivery at once (queued, in
// flight or published later), the target receives an erasure notice whose acknowledgement
// is audited, and a subscriber that stops reading stalls only itself.
#include <atomic>
#include <set>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "it_util.h"
#include "stream_util.h"

namespace fedhub::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class StreamConsentTest : public HubTest {
 protected:
  std::string Consent(const std::string& user, const std::string& target) {
    ConsentGrant g = Grant(user, target);
    g.categories = {v1::DATA_CATEGORY_PROFILE, v1::DATA_CATEGORY_INTERESTS};
    auto r = course().GrantConsent(g);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->consent().consent_id() : "";
  }

  grpc::Status Ack(const std::string& platform, const std::string& notice,
                   v1::AcknowledgeErasureResponse* resp) {
    auto stub = hub_->StubFor<v1::StreamService>(platform);
    grpc::ClientContext ctx;
    v1::AcknowledgeErasureRequest req;
    req.set_notice_id(notice);
    return stub->AcknowledgeErasure(&ctx, req, resp);
  }

  // The person behind each profile event, as the subscriber names them.
  static std::string PersonOf(const v1::DeliveredEvent& e) {
    if (e.has_profile()) return e.profile().has_user() ? e.profile().user().local_user_id() : e.profile().pairwise_pseudonym();
    if (e.has_erasure()) return e.erasure().has_user() ? e.erasure().user().local_user_id() : e.erasure().pairwise_pseudonym();
    return "";
  }
};

TEST_F(StreamConsentTest, RevocationSendsAnErasureNoticeAndStopsDelivery) {
  const std::string consent = Consent("u-1", "store");
  RawSubscriber at_store(*hub_, "store", SubscribeAfter(0));
  RawPublisher pub(*hub_, "course");
  ASSERT_TRUE(pub.Send(Batch(1, {ProfileEvent("e-1", "u-1")})).has_accepted());
  ASSERT_TRUE(at_store.WaitForEvents(1));

  auto revoked = course().RevokeConsent(consent, "u-1");
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  ASSERT_TRUE(at_store.WaitForEvents(2));
  const v1::DeliveredEvent notice = at_store.events()[1];
  ASSERT_TRUE(notice.has_erasure()) << notice.DebugString();
  EXPECT_EQ(notice.erasure().notice_id(), "erasure-" + consent);
  EXPECT_EQ(notice.erasure().consent_id(), consent);
  EXPECT_EQ(notice.erasure().source_platform_id(), "course");
  EXPECT_EQ(notice.erasure().pairwise_pseudonym(), at_store.events()[0].profile().pairwise_pseudonym());
  EXPECT_THAT(notice.erasure().categories(), ElementsAre(v1::DATA_CATEGORY_PROFILE, v1::DATA_CATEGORY_INTERESTS));

  // Published after the revocation: stored, never delivered.
  auto later = pub.Send(Batch(2, {ProfileEvent("e-2", "u-1", 2)}));
  ASSERT_TRUE(later.has_accepted());
  ASSERT_TRUE(at_store.WaitForCursor(later.accepted().offsets(0)));
  EXPECT_THAT(at_store.events(), SizeIs(2));

  // Acknowledging: audited once as done, idempotent, and only by the addressee.
  v1::AcknowledgeErasureResponse first, second, other;
  ASSERT_TRUE(Ack("store", notice.erasure().notice_id(), &first).ok());
  EXPECT_FALSE(first.already_acknowledged());
  ASSERT_TRUE(Ack("store", notice.erasure().notice_id(), &second).ok());
  EXPECT_TRUE(second.already_acknowledged());
  EXPECT_EQ(second.acknowledged_at().seconds(), first.acknowledged_at().seconds());
  grpc::Status s = Ack("books", notice.erasure().notice_id(), &other);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("addressed to platform 'books'"));
  s = Ack("store", "erasure-nonsense", &other);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  int acks = 0, notices = 0;
  for (const auto& e : AllVerified(v1::CHAIN_AUDIT)) {
    if (e.audit().action() == "stream.erasure_notice") ++notices;
    if (e.audit().action() != "stream.erasure_ack") continue;
    if (e.audit().outcome() != v1::AUDIT_OUTCOME_ALLOWED) continue;
    ++acks;
    EXPECT_EQ(e.audit().actor_id(), "store");
    EXPECT_EQ(e.audit().consent_id(), consent);
  }
  EXPECT_EQ(acks, 2);
  EXPECT_EQ(notices, 1);
}

// A publisher streams continuously for two people while one of them revokes: after the
// revocation returned, nothing of that person is sent, and delivery of the other goes on.
TEST_F(StreamConsentTest, RevocationRaceNothingOfThePersonIsSentAfterTheRevokeReturned) {
  const std::string revoked_consent = Consent("u-1", "store");
  Consent("u-2", "store");
  RawSubscriber at_store(*hub_, "store", SubscribeAfter(0));
  std::atomic<bool> stop{false};
  std::atomic<int> batches{0};
  std::thread publisher([&] {
    RawPublisher pub(*hub_, "course");
    for (int b = 0; !stop.load(); ++b) {
      std::vector<v1::PublishEvent> events;
      for (int i = 0; i < 20; ++i) {
        events.push_back(ProfileEvent(Cat("e-", b, "-", i), i % 2 == 0 ? "u-1" : "u-2", b * 20 + i + 1));
      }
      if (!pub.Send(Batch(b, events)).has_accepted()) return;
      batches.fetch_add(1);
    }
  });
  ASSERT_TRUE(at_store.WaitForEvents(200));
  auto revoked = course().RevokeConsent(revoked_consent, "u-1");
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  const int after_revoke = batches.load();
  // Let the publisher go on well past the revocation, then stop it.
  ASSERT_TRUE(at_store.WaitUntil([&](const auto&) { return batches.load() >= after_revoke + 20; }) ||
              batches.load() >= after_revoke + 20);
  stop = true;
  publisher.join();
  auto info_stub = hub_->StubFor<v1::StreamService>("course");
  grpc::ClientContext ctx;
  v1::GetStreamInfoResponse info;
  ASSERT_TRUE(info_stub->GetStreamInfo(&ctx, {}, &info).ok());
  ASSERT_TRUE(at_store.WaitForCursor(info.head_cursor()));

  auto events = at_store.events();
  std::string revoked_person;
  size_t notice_at = events.size();
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].has_erasure()) {
      notice_at = i;
      revoked_person = PersonOf(events[i]);
    }
  }
  ASSERT_LT(notice_at, events.size()) << "no erasure notice";
  size_t other_after = 0;
  for (size_t i = notice_at + 1; i < events.size(); ++i) {
    EXPECT_NE(PersonOf(events[i]), revoked_person) << "event " << events[i].offset() << " after the notice";
    ++other_after;
  }
  EXPECT_GT(other_after, 0u) << "delivery of the other person went on";

  // Every delivery under the revoked consent audited after the revocation was withdrawn
  // before sending (the delivery gate), and recorded so.
  uint64_t revoke_seq = 0;
  std::multiset<std::string> allowed_after, withdrawn;
  for (const auto& e : AllVerified(v1::CHAIN_AUDIT)) {
    const auto& a = e.audit();
    if (a.action() == "consent.revoke" && a.consent_id() == revoked_consent) revoke_seq = e.sequence();
    if (a.action() != "stream.deliver") continue;
    for (const auto& access : a.accesses()) {
      if (access.consent_id() != revoked_consent) continue;
      if (a.outcome() == v1::AUDIT_OUTCOME_ALLOWED && revoke_seq != 0) allowed_after.insert(access.subject());
      if (a.outcome() == v1::AUDIT_OUTCOME_DENIED) withdrawn.insert(access.subject());
    }
  }
  ASSERT_NE(revoke_seq, 0u);
  EXPECT_GE(withdrawn.size(), allowed_after.size());
}

class StalledSubscriberTest : public StreamConsentTest {
 protected:
  TestHubOptions Options() override {
    TestHubOptions o;
    o.configure = [](config::HubConfig& c) { c.stream_subscriber_buffer_events = 50; };
    return o;
  }
};

TEST_F(StalledSubscriberTest, StalledSubscriberFallsBackToTheLogWhileOthersKeepUp) {
  Consent("u-1", "");  // any member: store and books both receive
  RawSubscriber stalled(*hub_, "store", SubscribeAfter(0), /*start_reading=*/false);
  RawSubscriber active(*hub_, "books", SubscribeAfter(0));
  ASSERT_TRUE(hub_->WaitForOpenStreams(2));
  RawPublisher pub(*hub_, "course");
  // Publish until the stalled reader has filled gRPC's flow-control windows and its buffer
  // and is served from the durable log (known as soon as a batch is acknowledged).
  constexpr int kPerBatch = 200, kMaxBatches = 400;
  int batches = 0;
  while (true) {
    // Once the active subscriber has everything, only the stalled one can be behind.
    ASSERT_TRUE(active.WaitForEvents(static_cast<size_t>(batches) * kPerBatch));
    if (hub_->hub()->event_log().tails_behind() == 1) break;
    ASSERT_LT(batches, kMaxBatches) << "the stalled subscriber never fell behind";
    std::vector<v1::PublishEvent> events;
    for (int i = 0; i < kPerBatch; ++i) {
      events.push_back(ProfileEvent(Cat("e-", batches, "-", i), "u-1", batches * kPerBatch + i + 1));
    }
    ASSERT_TRUE(pub.Send(Batch(batches, events)).has_accepted());
    ++batches;
  }
  const size_t total = static_cast<size_t>(batches) * kPerBatch;
  // The other subscriber kept up meanwhile; the stalled one holds at most its buffer.

  stalled.StartReading();
  ASSERT_TRUE(stalled.WaitForEvents(total));
  auto events = stalled.events();
  ASSERT_THAT(events, SizeIs(total));
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i].profile().version(), static_cast<int64_t>(i + 1)) << "event " << i;
  }
  EXPECT_EQ(hub_->hub()->event_log().tails_behind(), 0u);
}

}  // namespace
}  // namespace fedhub::testing
