// WatchConsents over real gRPC: a change reaches the platforms it involves, in ledger
// order, naming the person for each reader, and never reaches an uninvolved platform.
#include <stop_token>

#include "it_util.h"

namespace fedhub::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;

v1::WatchConsentsRequest After(uint64_t sequence) {
  v1::WatchConsentsRequest r;
  r.set_after_sequence(sequence);
  return r;
}

v1::WatchConsentsRequest FromNow() {
  v1::WatchConsentsRequest r;
  r.set_from_now(true);
  return r;
}

class WatchTest : public HubTest {};

TEST_F(WatchTest, GrantAndRevokeReachTheTargetLiveAndNotAnUninvolvedPlatform) {
  // A change before the streams open, which none of them may replay.
  FEDHUB_ASSERT_OK(store().GrantConsent(Grant("s-before", "")));
  const uint64_t cursor = Head(v1::CHAIN_LEDGER).size();
  WatchCollector at_store(store().WatchConsents(After(cursor)));
  WatchCollector at_books(books().WatchConsents(After(cursor)));
  WatchCollector at_course(course().WatchConsents(After(cursor)));

  auto granted = course().GrantConsent(Grant("u-1", "store"));
  ASSERT_TRUE(granted.ok()) << granted.status();
  const std::string id = granted->consent().consent_id();
  auto revoked = course().RevokeConsent(id, "u-1");
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  // A last change that involves books, so books' stream proves it skipped the two above.
  auto last = course().GrantConsent(Grant("u-2", "books"));
  ASSERT_TRUE(last.ok()) << last.status();

  ASSERT_TRUE(at_store.WaitFor(2));
  auto s = at_store.changes();
  ASSERT_THAT(s, SizeIs(2));
  EXPECT_EQ(s[0].kind(), v1::CONSENT_CHANGE_KIND_GRANTED);
  EXPECT_EQ(s[0].consent().consent_id(), id);
  EXPECT_EQ(s[0].sequence(), granted->consent().grant_ledger_sequence());
  EXPECT_EQ(s[1].kind(), v1::CONSENT_CHANGE_KIND_REVOKED);
  EXPECT_EQ(s[1].consent().consent_id(), id);
  EXPECT_EQ(s[1].sequence(), s[0].sequence() + 1);
  // store has no account for the person: it sees its pairwise pseudonym, never course's id.
  EXPECT_FALSE(s[0].consent().has_user());
  EXPECT_FALSE(s[0].consent().pairwise_pseudonym().empty());

  // books' first change is the last grant: the two before it were not for books.
  ASSERT_TRUE(at_books.WaitFor(1));
  auto b = at_books.changes();
  ASSERT_THAT(b, SizeIs(1));
  EXPECT_EQ(b[0].consent().consent_id(), last->consent().consent_id());
  EXPECT_EQ(b[0].sequence(), last->consent().grant_ledger_sequence());

  ASSERT_TRUE(at_course.WaitFor(3));
  auto c = at_course.changes();
  ASSERT_THAT(c, SizeIs(3));
  EXPECT_EQ(c[0].consent().user().local_user_id(), "u-1");
  EXPECT_EQ(c[2].consent().user().local_user_id(), "u-2");
}

TEST_F(WatchTest, FromNowSkipsHistoryAndDeliversNewChanges) {
  FEDHUB_ASSERT_OK(course().GrantConsent(Grant("u-old", "store")));
  WatchCollector at_store(store().WatchConsents(FromNow()));
  // The hub fixes the stream's start when it opens it; wait for that, not for a time.
  ASSERT_TRUE(hub_->WaitForOpenStreams(1));
  auto granted = course().GrantConsent(Grant("u-new", "store"));
  ASSERT_TRUE(granted.ok()) << granted.status();
  ASSERT_TRUE(at_store.WaitFor(1));
  EXPECT_EQ(at_store.changes()[0].consent().consent_id(), granted->consent().consent_id());
  EXPECT_EQ(at_store.changes()[0].sequence(), 2u);
}

TEST_F(WatchTest, ReplaysFromACursorInLedgerOrder) {
  auto g1 = course().GrantConsent(Grant("u-1", "store"));
  ASSERT_TRUE(g1.ok()) << g1.status();
  auto g2 = course().GrantConsent(Grant("u-2", "books"));
  ASSERT_TRUE(g2.ok()) << g2.status();
  auto r1 = course().RevokeConsent(g1->consent().consent_id(), "u-1");
  ASSERT_TRUE(r1.ok()) << r1.status();
  auto g3 = course().GrantConsent(Grant("u-3", "store"));
  ASSERT_TRUE(g3.ok()) << g3.status();

  {
    WatchCollector all(store().WatchConsents(After(0)));
    ASSERT_TRUE(all.WaitFor(3));
    std::vector<uint64_t> seqs;
    for (const auto& ch : all.changes()) seqs.push_back(ch.sequence());
    EXPECT_THAT(seqs, ElementsAre(1u, 3u, 4u));
    EXPECT_EQ(all.changes()[1].kind(), v1::CONSENT_CHANGE_KIND_REVOKED);
  }
  {
    WatchCollector from_cursor(store().WatchConsents(After(3)));
    ASSERT_TRUE(from_cursor.WaitFor(1));
    EXPECT_EQ(from_cursor.changes()[0].sequence(), 4u);
    EXPECT_EQ(from_cursor.changes()[0].consent().consent_id(), g3->consent().consent_id());
  }
}

TEST_F(WatchTest, LinkedTargetSeesItsOwnLocalId) {
  auto ticket = course().CreateLinkTicket("u-1");
  ASSERT_TRUE(ticket.ok()) << ticket.status();
  FEDHUB_ASSERT_OK(store().RedeemLinkTicket(ticket->ticket(), "s-1"));
  auto granted = course().GrantConsent(Grant("u-1", "store"));
  ASSERT_TRUE(granted.ok()) << granted.status();

  WatchCollector at_store(store().WatchConsents(After(0)));
  ASSERT_TRUE(at_store.WaitFor(1));
  EXPECT_EQ(at_store.changes()[0].consent().user().local_user_id(), "s-1");
  EXPECT_TRUE(at_store.changes()[0].consent().pairwise_pseudonym().empty());
}

TEST_F(WatchTest, PairwisePseudonymsDifferPerPlatformAndStayStable) {
  auto granted = course().GrantConsent(Grant("u-1", ""));
  ASSERT_TRUE(granted.ok()) << granted.status();
  auto for_store = store().ListAllConsents("anything");  // store cannot name the person
  ASSERT_TRUE(for_store.ok());
  EXPECT_TRUE(for_store->empty());

  WatchCollector at_store(store().WatchConsents(After(0)));
  WatchCollector at_books(books().WatchConsents(After(0)));
  ASSERT_TRUE(at_store.WaitFor(1));
  ASSERT_TRUE(at_books.WaitFor(1));
  std::string p_store = at_store.changes()[0].consent().pairwise_pseudonym();
  std::string p_books = at_books.changes()[0].consent().pairwise_pseudonym();
  EXPECT_FALSE(p_store.empty());
  EXPECT_FALSE(p_books.empty());
  EXPECT_NE(p_store, p_books);

  WatchCollector again(store().WatchConsents(After(0)));
  ASSERT_TRUE(again.WaitFor(1));
  EXPECT_EQ(again.changes()[0].consent().pairwise_pseudonym(), p_store);
}

TEST_F(WatchTest, ASuspendedPlatformsOpenStreamDeliversNothingMore) {
  WatchCollector at_store(store().WatchConsents(After(0)));
  ASSERT_TRUE(hub_->WaitForOpenStreams(1));
  FEDHUB_ASSERT_OK(admin().SuspendPrincipal("store", "breach under investigation"));
  // A change store would otherwise receive: a consent for any member platform.
  FEDHUB_ASSERT_OK(course().GrantConsent(Grant("u-1", "")));
  auto end = at_store.WaitEnd();
  ASSERT_TRUE(end.has_value());
  EXPECT_THAT(*end, StatusIs(absl::StatusCode::kUnauthenticated,
                             ::testing::HasSubstr("platform store is suspended (breach under investigation)")));
  EXPECT_TRUE(at_store.changes().empty());
}

TEST_F(WatchTest, FollowConsentsDeliversUntilTheCallbackStops) {
  auto g1 = course().GrantConsent(Grant("u-1", "store"));
  ASSERT_TRUE(g1.ok()) << g1.status();
  auto g2 = course().GrantConsent(Grant("u-2", "store"));
  ASSERT_TRUE(g2.ok()) << g2.status();

  std::vector<uint64_t> seen;
  absl::Status s = store().FollowConsents({}, [&](const v1::WatchConsentsResponse& change) {
    seen.push_back(change.sequence());
    return seen.size() < 2;
  });
  FEDHUB_ASSERT_OK(s);
  EXPECT_THAT(seen, ElementsAre(1u, 2u));
}

TEST_F(WatchTest, FollowConsentsReportsARefusal) {
  absl::Status s = auditor().FollowConsents({}, [](const v1::WatchConsentsResponse&) { return true; });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied, ::testing::HasSubstr("ROLE_PLATFORM")));
}

}  // namespace
}  // namespace fedhub::testing
