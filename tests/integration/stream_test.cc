// Profile sync over real gRPC: what a subscriber receives is what consent allows, named
// as the subscriber knows the person; batches are atomic and idempotent; cursors resume
// exactly; retention is enforced with OUT_OF_RANGE.
#include "it_util.h"
#include "stream_util.h"

namespace fedhub::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class StreamTest : public HubTest {
 protected:
  // course's user `user` consents to `categories` going to `target` for SYNC.
  std::string Consent(const std::string& user, const std::string& target,
                      std::vector<v1::DataCategory> categories) {
    ConsentGrant g = Grant(user, target);
    g.categories = std::move(categories);
    auto r = course().GrantConsent(g);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->consent().consent_id() : "";
  }

  v1::GetStreamInfoResponse Info(const std::string& platform = "course") {
    auto stub = hub_->StubFor<v1::StreamService>(platform);
    grpc::ClientContext ctx;
    v1::GetStreamInfoResponse r;
    grpc::Status s = stub->GetStreamInfo(&ctx, {}, &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return r;
  }
};

TEST_F(StreamTest, ProfileChangeIsNarrowedToConsentedCategoriesAndNamedByPseudonym) {
  const std::string consent = Consent("u-1", "store", {v1::DATA_CATEGORY_PROFILE, v1::DATA_CATEGORY_INTERESTS});
  RawSubscriber at_store(*hub_, "store", SubscribeAfter(0));
  RawSubscriber at_books(*hub_, "books", SubscribeAfter(0));
  RawPublisher pub(*hub_, "course");
  auto ack = pub.Send(Batch(7, {ProfileEvent("e-1", "u-1")}));
  ASSERT_TRUE(ack.has_accepted()) << ack.DebugString();
  EXPECT_EQ(ack.batch_id(), 7u);
  ASSERT_THAT(ack.accepted().offsets(), SizeIs(1));
  const uint64_t offset = ack.accepted().offsets(0);

  ASSERT_TRUE(at_store.WaitForEvents(1));
  auto events = at_store.events();
  ASSERT_THAT(events, SizeIs(1));
  const v1::DeliveredEvent& e = events[0];
  EXPECT_EQ(e.offset(), offset);
  EXPECT_EQ(e.event_id(), "e-1");
  EXPECT_EQ(e.publisher_platform_id(), "course");
  ASSERT_TRUE(e.has_profile());
  const v1::ProfileUpdate& u = e.profile();
  EXPECT_FALSE(u.has_user()) << "store has no account for the person";
  EXPECT_FALSE(u.pairwise_pseudonym().empty());
  EXPECT_THAT(u.categories(), ElementsAre(v1::DATA_CATEGORY_PROFILE, v1::DATA_CATEGORY_INTERESTS));
  EXPECT_THAT(u.consent_ids(), ElementsAre(consent, consent));
  EXPECT_EQ(u.fields().display_name(), "Ada e-1");
  EXPECT_THAT(u.fields().interest_tags(), ElementsAre("rust"));
  EXPECT_EQ(u.fields().email(), "") << "CONTACT was not consented";
  EXPECT_EQ(u.version(), 1);
  EXPECT_GE(at_store.messages().back().cursor(), offset);

  // books has no consent: it sees nothing of the person, only its cursor moving past it.
  ASSERT_TRUE(at_books.WaitForCursor(offset));
  EXPECT_THAT(at_books.events(), SizeIs(0));

  // The delivery was audited before it was sent, naming the consent, never the person.
  auto entries = AllVerified(v1::CHAIN_AUDIT);
  int deliveries = 0;
  for (const auto& entry : entries) {
    if (entry.audit().action() != "stream.deliver") continue;
    ++deliveries;
    EXPECT_EQ(entry.audit().actor_id(), "store");
    ASSERT_THAT(entry.audit().accesses(), SizeIs(1));
    const v1::AuditAccess& a = entry.audit().accesses(0);
    EXPECT_EQ(a.consent_id(), consent);
    EXPECT_EQ(a.source_platform_id(), "course");
    EXPECT_EQ(a.first_offset(), offset);
    EXPECT_EQ(a.events(), 1u);
    EXPECT_THAT(a.categories(), ElementsAre(v1::DATA_CATEGORY_PROFILE, v1::DATA_CATEGORY_INTERESTS));
    EXPECT_EQ(a.subject().size(), 32u);
    EXPECT_EQ(entry.encoded().find("u-1"), std::string::npos);
  }
  EXPECT_EQ(deliveries, 1);
}

TEST_F(StreamTest, LinkedPersonIsNamedByTheSubscribersOwnId) {
  Consent("u-1", "store", {v1::DATA_CATEGORY_PROFILE});
  auto ticket = course().CreateLinkTicket("u-1");
  ASSERT_TRUE(ticket.ok()) << ticket.status();
  FEDHUB_ASSERT_OK(store().RedeemLinkTicket(ticket->ticket(), "s-77"));
  RawSubscriber at_store(*hub_, "store", SubscribeAfter(0));
  RawPublisher pub(*hub_, "course");
  ASSERT_TRUE(pub.Send(Batch(1, {ProfileEvent("e-1", "u-1")})).has_accepted());
  ASSERT_TRUE(at_store.WaitForEvents(1));
  EXPECT_EQ(at_store.events()[0].profile().user().local_user_id(), "s-77");
  EXPECT_TRUE(at_store.events()[0].profile().pairwise_pseudonym().empty());
}

TEST_F(StreamTest, ResentBatchIsAcknowledgedAgainAndStoredOnce) {
  Consent("u-1", "store", {v1::DATA_CATEGORY_PROFILE});
  RawPublisher pub(*hub_, "course");
  auto batch = Batch(1, {ProfileEvent("e-1", "u-1"), ProfileEvent("e-2", "u-1", 2)});
  auto first = pub.Send(batch);
  ASSERT_TRUE(first.has_accepted()) << first.DebugString();
  auto again = pub.Send(batch);
  ASSERT_TRUE(again.has_accepted()) << again.DebugString();
  EXPECT_THAT(again.accepted().offsets(), ElementsAre(first.accepted().offsets(0), first.accepted().offsets(1)));
  EXPECT_EQ(again.accepted().duplicates(), 2u);
  EXPECT_EQ(Info().retained_events(), 2u);

  // The same id for different content is refused, and nothing of that batch is stored.
  auto changed = pub.Send(Batch(2, {ProfileEvent("e-3", "u-1"), ProfileEvent("e-1", "u-1", 9)}));
  ASSERT_TRUE(changed.has_refused()) << changed.DebugString();
  EXPECT_EQ(changed.refused().code(), static_cast<int>(grpc::StatusCode::ALREADY_EXISTS));
  ASSERT_THAT(changed.refused().errors(), SizeIs(1));
  EXPECT_EQ(changed.refused().errors(0).index(), 1u);
  EXPECT_THAT(changed.refused().errors(0).message(), HasSubstr("already used for a different event"));
  EXPECT_EQ(Info().retained_events(), 2u);

  RawSubscriber at_store(*hub_, "store", SubscribeAfter(0));
  ASSERT_TRUE(at_store.WaitForCursor(first.accepted().offsets(1)));
  EXPECT_THAT(at_store.events(), SizeIs(2));
}

TEST_F(StreamTest, BadEventRefusesTheWholeBatchWithEveryReasonAndTheStreamGoesOn) {
  Consent("u-1", "store", {v1::DATA_CATEGORY_PROFILE});
  RawPublisher pub(*hub_, "course");
  v1::PublishEvent miscategorised = ProfileEvent("e-2", "u-1");
  miscategorised.mutable_profile()->clear_categories();
  miscategorised.mutable_profile()->add_categories(v1::DATA_CATEGORY_PROFILE);  // email set, CONTACT not listed
  v1::PublishEvent bad_currency = ItemEvent("e-3", "i-1", v1::ITEM_KIND_COURSE);
  bad_currency.mutable_catalogue()->mutable_item()->set_currency("EURO");
  const uint64_t audit_before = Head(v1::CHAIN_AUDIT).size();
  auto ack = pub.Send(Batch(5, {ProfileEvent("e-1", "u-1"), miscategorised, bad_currency,
                               ProfileEvent("e-4", "nobody")}));
  ASSERT_TRUE(ack.has_refused()) << ack.DebugString();
  EXPECT_EQ(ack.batch_id(), 5u);
  EXPECT_EQ(ack.refused().code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(ack.refused().message(), HasSubstr("events[1]"));
  EXPECT_THAT(ack.refused().message(), HasSubstr("nothing of the batch was stored"));
  ASSERT_THAT(ack.refused().errors(), SizeIs(3));
  EXPECT_EQ(ack.refused().errors(0).index(), 1u);
  EXPECT_THAT(ack.refused().errors(0).message(), HasSubstr("profile.fields.email"));
  EXPECT_EQ(ack.refused().errors(1).index(), 2u);
  EXPECT_THAT(ack.refused().errors(1).message(), HasSubstr("catalogue.item.currency"));
  EXPECT_EQ(ack.refused().errors(2).index(), 3u);
  EXPECT_EQ(ack.refused().errors(2).code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_THAT(ack.refused().errors(2).message(), HasSubstr("never named"));
  // The platform is told every value; the audit entry keeps codes and positions only.
  ExpectRefusalAudited("course", "stream.publish", absl::StatusCode::kInvalidArgument, audit_before,
                       {"nobody", "u-1", "e-4", "EURO", "email"});
  EXPECT_EQ(Info().retained_events(), 0u);

  auto good = pub.Send(Batch(6, {ProfileEvent("e-1", "u-1")}));
  EXPECT_TRUE(good.has_accepted()) << good.DebugString();
  EXPECT_EQ(Info().retained_events(), 1u);
}

TEST_F(StreamTest, BatchSizeAndSubscribeRequestAreChecked) {
  RawPublisher pub(*hub_, "course");
  auto empty = pub.Send(Batch(1, {}));
  ASSERT_TRUE(empty.has_refused());
  EXPECT_THAT(empty.refused().message(), HasSubstr("1 to 1000 events"));

  v1::SubscribeRequest bad;
  bad.add_kinds(v1::STREAM_KIND_PROFILE);
  bad.set_catalogue_snapshot(true);
  RawSubscriber s(*hub_, "store", bad);
  grpc::Status st = s.WaitForEnd();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("catalogue_snapshot"));

  RawSubscriber future(*hub_, "store", SubscribeAfter(99));
  st = future.WaitForEnd();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_THAT(st.error_message(), HasSubstr("past the end of the event log"));

  RawSubscriber auditor(*hub_, "auditor", SubscribeAfter(0));
  EXPECT_EQ(auditor.WaitForEnd().error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(StreamTest, ResumingAfterACursorMissesNothingAndRepeatsNothing) {
  Consent("u-1", "store", {v1::DATA_CATEGORY_PROFILE});
  RawPublisher pub(*hub_, "course");
  std::vector<v1::PublishEvent> first, second;
  for (int i = 0; i < 30; ++i) first.push_back(ProfileEvent("a-" + std::to_string(i), "u-1", i + 1));
  for (int i = 0; i < 30; ++i) second.push_back(ProfileEvent("b-" + std::to_string(i), "u-1", i + 31));
  ASSERT_TRUE(pub.Send(Batch(1, first)).has_accepted());

  v1::SubscribeRequest req = SubscribeAfter(0);
  req.set_max_events_per_message(7);
  uint64_t cursor;
  {
    RawSubscriber s(*hub_, "store", req);
    ASSERT_TRUE(s.WaitForEvents(14));
    auto ms = s.messages();
    cursor = ms[1].cursor();  // processed two messages, then the connection dropped
    EXPECT_EQ(ms[0].events_size(), 7);
  }
  ASSERT_TRUE(pub.Send(Batch(2, second)).has_accepted());
  RawSubscriber s(*hub_, "store", SubscribeAfter(cursor));
  ASSERT_TRUE(s.WaitForEvents(46));
  auto events = s.events();
  ASSERT_THAT(events, SizeIs(46));
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].profile().version(), static_cast<int64_t>(i + 15)) << "event " << i;
  }
}

class RetentionTest : public StreamTest {
 protected:
  TestHubOptions Options() override {
    TestHubOptions o;
    o.configure = [](config::HubConfig& c) { c.stream_retention_mb = 1; };
    return o;
  }
};

TEST_F(RetentionTest, CursorOlderThanRetentionIsOutOfRangeNamingTheOldestValidCursor) {
  Consent("u-1", "store", {v1::DATA_CATEGORY_PROFILE});
  RawPublisher pub(*hub_, "course");
  const std::string padding(120, 'x');
  for (int b = 0; b < 3; ++b) {
    std::vector<v1::PublishEvent> events;
    for (int i = 0; i < 500; ++i) {
      auto e = ProfileEvent(Cat("e-", b, "-", i), "u-1", b * 500 + i + 1);
      for (int k = 0; k < 8; ++k) e.mutable_profile()->mutable_fields()->add_wish_list(padding);
      events.push_back(std::move(e));
    }
    ASSERT_TRUE(pub.Send(Batch(b, events)).has_accepted());
  }
  auto trimmed = hub_->hub()->event_log().TrimNow();
  ASSERT_TRUE(trimmed.ok()) << trimmed.status();
  auto info = Info();
  EXPECT_GT(info.oldest_cursor(), 0u);
  EXPECT_LE(info.retained_bytes(), 1u << 20);
  EXPECT_EQ(info.head_cursor(), 1500u);

  RawSubscriber old(*hub_, "store", SubscribeAfter(1));
  grpc::Status s = old.WaitForEnd();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_THAT(s.error_message(), HasSubstr(Cat("oldest valid cursor is ", info.oldest_cursor())));

  RawSubscriber ok(*hub_, "store", SubscribeAfter(info.oldest_cursor()));
  ASSERT_TRUE(ok.WaitForCursor(1500));
  EXPECT_EQ(ok.events().front().offset(), info.oldest_cursor() + 1);
}

}  // namespace
}  // namespace fedhub::testing
