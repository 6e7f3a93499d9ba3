// Durability across a restart of the hub on the same data directory: principals and their
// status, links, tickets, consents, both chains, the signing key (old receipts still
// verify), pseudonyms and the watch cursor all survive, and streams resume.
#include <stop_token>
#include <thread>

#include "it_util.h"

namespace fedhub::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Code = absl::StatusCode;

std::vector<std::string> Serialized(const std::vector<v1::Consent>& consents) {
  std::vector<std::string> out;
  for (const auto& c : consents) {
    v1::Consent copy = c;
    copy.clear_state();  // computed at read time
    out.push_back(copy.SerializeAsString());
  }
  return out;
}

std::vector<std::pair<uint64_t, std::string>> Changes(WatchCollector& w) {
  std::vector<std::pair<uint64_t, std::string>> out;
  for (const auto& c : w.changes()) out.emplace_back(c.sequence(), c.consent().SerializeAsString());
  return out;
}

class RestartTest : public HubTest {};

TEST_F(RestartTest, EverythingSurvivesARestart) {
  v1::Principal media;
  media.set_id("media");
  media.set_role(v1::ROLE_PLATFORM);
  FEDHUB_ASSERT_OK(admin().RegisterPrincipal(media));
  FEDHUB_ASSERT_OK(admin().SuspendPrincipal("books", "audit pending"));

  auto ticket = course().CreateLinkTicket("u-1");
  ASSERT_TRUE(ticket.ok()) << ticket.status();
  FEDHUB_ASSERT_OK(store().RedeemLinkTicket(ticket->ticket(), "s-1"));
  auto kept = course().GrantConsent(Grant("u-1", "store"));
  ASSERT_TRUE(kept.ok()) << kept.status();
  auto ended = course().GrantConsent(Grant("u-1", ""));
  ASSERT_TRUE(ended.ok()) << ended.status();
  auto revoked = store().RevokeConsent(ended->consent().consent_id(), "s-1");
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  auto any_member = course().GrantConsent(Grant("u-3", ""));
  ASSERT_TRUE(any_member.ok()) << any_member.status();
  auto pending_ticket = course().CreateLinkTicket("u-2");
  ASSERT_TRUE(pending_ticket.ok());

  const std::string key = HubKey();
  const v1::ChainHead ledger = Head(v1::CHAIN_LEDGER);
  const v1::ChainHead audit = Head(v1::CHAIN_AUDIT);
  auto listed = course().ListAllConsents("u-1", true);
  ASSERT_TRUE(listed.ok());
  std::vector<std::pair<uint64_t, std::string>> watched;
  {
    WatchCollector w(store().WatchConsents(v1::WatchConsentsRequest()));
    ASSERT_TRUE(w.WaitFor(4));
    watched = Changes(w);
  }

  ASSERT_TRUE(hub_->Restart().ok());

  // The signing key, so receipts issued before still verify with what the hub reports now.
  EXPECT_EQ(HubKey(), key);
  for (const auto* receipt : {&kept->receipt(), &ended->receipt(), &revoked->receipt()}) {
    auto body = VerifyReceipt(*receipt, HubKey());
    EXPECT_TRUE(body.ok()) << body.status();
  }
  // Principals and their status.
  auto got = admin().GetPrincipal("media");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->status(), v1::PRINCIPAL_STATUS_ACTIVE);
  EXPECT_THAT(books().GetHubInfo(), StatusIs(Code::kUnauthenticated, HasSubstr("suspended (audit pending)")));
  // Chains: same heads, and they verify on the hub and offline.
  EXPECT_EQ(Head(v1::CHAIN_LEDGER).SerializeAsString(), ledger.SerializeAsString());
  EXPECT_EQ(Head(v1::CHAIN_AUDIT).size(), audit.size() + 1);  // + books' refused call above
  for (v1::Chain chain : {v1::CHAIN_LEDGER, v1::CHAIN_AUDIT}) {
    auto v = auditor().VerifyChain(chain);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_TRUE(v->ok()) << v->problem();
    EXPECT_EQ(AllVerified(chain).size(), v->head().size());
  }
  // Consents, their state in the index, and the link that lets store name the person.
  auto relisted = course().ListAllConsents("u-1", true);
  ASSERT_TRUE(relisted.ok());
  EXPECT_EQ(Serialized(*relisted), Serialized(*listed));
  auto d = store().CheckConsent("s-1", "course", "store", v1::DATA_CATEGORY_LEARNING, v1::PURPOSE_SYNC);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->allowed());
  EXPECT_EQ(d->consent_id(), kept->consent().consent_id());
  auto gone = course().CheckConsent("u-1", "course", "books", v1::DATA_CATEGORY_LEARNING, v1::PURPOSE_SYNC);
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->allowed());
  EXPECT_THAT(gone->reason(), HasSubstr("was revoked"));
  // The same changes, in the same order, with the same pseudonyms.
  {
    WatchCollector w(store().WatchConsents(v1::WatchConsentsRequest()));
    ASSERT_TRUE(w.WaitFor(4));
    EXPECT_EQ(Changes(w), watched);
  }
  {
    v1::WatchConsentsRequest from_cursor;
    from_cursor.set_after_sequence(watched[1].first);
    WatchCollector w(store().WatchConsents(from_cursor));
    ASSERT_TRUE(w.WaitFor(2));
    auto after = Changes(w);
    EXPECT_EQ(after, std::vector(watched.begin() + 2, watched.end()));
  }
  // A ticket issued before the restart is still good, once.
  FEDHUB_ASSERT_OK(store().RedeemLinkTicket(pending_ticket->ticket(), "s-2"));
  EXPECT_THAT(store().RedeemLinkTicket(pending_ticket->ticket(), "s-3"),
              StatusIs(Code::kFailedPrecondition, HasSubstr("already used")));
  // New changes continue the chains.
  auto next = course().GrantConsent(Grant("u-4", "store"));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->consent().grant_ledger_sequence(), ledger.size() + 1);
  auto v = auditor().VerifyChain(v1::CHAIN_LEDGER);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok());
}

TEST_F(RestartTest, AnOpenStreamEndsWithUnavailable) {
  WatchCollector w(store().WatchConsents(v1::WatchConsentsRequest()));
  ASSERT_TRUE(hub_->WaitForOpenStreams(1));
  ASSERT_TRUE(hub_->Restart().ok());
  auto end = w.WaitEnd();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->code(), Code::kUnavailable) << *end;
}

TEST_F(RestartTest, FollowConsentsResumesAcrossARestartWithoutGapsOrRepeats) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<uint64_t> seen;
  absl::Status result;
  std::stop_source stop;
  std::thread follower([&] {
    absl::Status s = store().FollowConsents(
        {},
        [&](const v1::WatchConsentsResponse& change) {
          std::lock_guard lock(mu);
          seen.push_back(change.sequence());
          cv.notify_all();
          return true;
        },
        stop.get_token());
    std::lock_guard lock(mu);
    result = s;
  });
  auto wait_for = [&](size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(15), [&] { return seen.size() >= n; });
  };

  FEDHUB_ASSERT_OK(course().GrantConsent(Grant("u-1", "store")));
  EXPECT_TRUE(wait_for(1));
  ASSERT_TRUE(hub_->Restart().ok());
  FEDHUB_ASSERT_OK(course().GrantConsent(Grant("u-2", "store")));
  FEDHUB_ASSERT_OK(course().GrantConsent(Grant("u-3", "books")));  // not for store
  FEDHUB_ASSERT_OK(course().GrantConsent(Grant("u-4", "store")));
  EXPECT_TRUE(wait_for(3));
  stop.request_stop();
  follower.join();
  FEDHUB_ASSERT_OK(result);
  EXPECT_THAT(seen, ElementsAre(1u, 2u, 4u));
}

}  // namespace
}  // namespace fedhub::testing
