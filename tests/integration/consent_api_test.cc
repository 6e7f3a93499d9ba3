// ConsentService and HubService happy paths over mutual TLS: grant, check, list, revoke,
// receipts verified offline with the key GetHubInfo reports, and the ledger and audit
// entries each change leaves.
#include <google/protobuf/util/time_util.h>

#include <set>
#include <thread>

#include "it_util.h"

namespace fedhub::testing {
namespace {

using google::protobuf::util::TimeUtil;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class ConsentApiTest : public HubTest {};

TEST_F(ConsentApiTest, GetHubInfoNamesEachCallerAndTheSigningKey) {
  struct Want {
    std::string id;
    v1::Role role;
  };
  for (const Want& w : {Want{"course", v1::ROLE_PLATFORM}, Want{"recs", v1::ROLE_RECOMMENDER},
                        Want{"auditor", v1::ROLE_AUDITOR}, Want{"operator", v1::ROLE_ADMIN}}) {
    auto info = hub_->ClientFor(w.id).GetHubInfo();
    ASSERT_TRUE(info.ok()) << w.id << ": " << info.status();
    EXPECT_EQ(info->caller_id(), w.id);
    EXPECT_EQ(info->caller_role(), w.role);
    EXPECT_FALSE(info->version().empty());
    EXPECT_EQ(info->signing_public_key(), hub_->signing_public_key());
    EXPECT_EQ(info->signing_key_id(), HubKeyId(info->signing_public_key()));
    auto from_pem = HubPublicKeyFromPem(info->signing_public_key_pem());
    ASSERT_TRUE(from_pem.ok()) << from_pem.status();
    EXPECT_EQ(*from_pem, info->signing_public_key());
  }
}

TEST_F(ConsentApiTest, GrantRecordsTheConsentWithAReceiptThatVerifiesOffline) {
  ConsentGrant g = Grant("u-1", "store");
  auto granted = course().GrantConsent(g);
  ASSERT_TRUE(granted.ok()) << granted.status();
  const v1::Consent& c = granted->consent();
  EXPECT_TRUE(c.consent_id().starts_with("c-")) << c.consent_id();
  EXPECT_EQ(c.consent_id().size(), 34u);
  EXPECT_EQ(c.user().local_user_id(), "u-1");
  EXPECT_TRUE(c.pairwise_pseudonym().empty());
  EXPECT_EQ(c.source_platform_id(), "course");
  EXPECT_EQ(c.target_platform_id(), "store");
  EXPECT_THAT(c.categories(), ElementsAre(v1::DATA_CATEGORY_LEARNING, v1::DATA_CATEGORY_PROFILE));
  EXPECT_THAT(c.purposes(), ElementsAre(v1::PURPOSE_SYNC));
  EXPECT_EQ(c.state(), v1::CONSENT_STATE_ACTIVE);
  EXPECT_EQ(c.evidence().method(), "web-form");
  EXPECT_EQ(c.evidence().reference(), "form-4711");
  // No expiry asked for: the hub's maximum lifetime (730 days by default).
  EXPECT_EQ(TimeUtil::TimestampToMicroseconds(c.expires_at()) -
                TimeUtil::TimestampToMicroseconds(c.granted_at()),
            int64_t{730} * 24 * 3600 * 1000000);

  v1::ChainHead ledger = Head(v1::CHAIN_LEDGER);
  EXPECT_EQ(c.grant_ledger_sequence(), ledger.size());

  auto body = VerifyReceipt(granted->receipt(), HubKey());
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(body->action(), v1::RECEIPT_ACTION_GRANT);
  EXPECT_EQ(body->issued_to_platform_id(), "course");
  EXPECT_EQ(body->consent().consent_id(), c.consent_id());
  EXPECT_EQ(body->consent().user().local_user_id(), "u-1");
  EXPECT_EQ(body->ledger_sequence(), c.grant_ledger_sequence());
  EXPECT_EQ(body->ledger_entry_hash(), ledger.head_hash());
  EXPECT_EQ(body->signing_key_id(), granted->receipt().signing_key_id());

  // The receipt binds its bytes: an altered body, or another key, does not verify.
  v1::ConsentReceipt altered = granted->receipt();
  altered.mutable_body()->back() ^= 1;
  EXPECT_THAT(VerifyReceipt(altered, HubKey()), StatusIs(absl::StatusCode::kUnauthenticated, ::testing::_));
  std::string other_key = HubKey();
  other_key[0] ^= 0x55;
  EXPECT_FALSE(VerifyReceipt(granted->receipt(), other_key).ok());
}

TEST_F(ConsentApiTest, GrantWritesOneLedgerEntryAndOneAuditEntryWithoutLocalIds) {
  v1::ChainHead audit_before = Head(v1::CHAIN_AUDIT);
  v1::ChainHead ledger_before = Head(v1::CHAIN_LEDGER);
  auto granted = course().GrantConsent(Grant("u-private-17", "store"));
  ASSERT_TRUE(granted.ok()) << granted.status();

  auto ledger = Last(v1::CHAIN_LEDGER);
  ASSERT_TRUE(ledger.has_value());
  EXPECT_EQ(ledger->sequence(), ledger_before.size() + 1);
  EXPECT_EQ(ledger->ledger().action(), v1::LEDGER_ACTION_GRANT);
  EXPECT_EQ(ledger->ledger().consent_id(), granted->consent().consent_id());
  EXPECT_EQ(ledger->ledger().source_platform_id(), "course");
  EXPECT_EQ(ledger->ledger().target_platform_id(), "store");
  EXPECT_EQ(ledger->ledger().actor_platform_id(), "course");
  EXPECT_EQ(ledger->ledger().evidence_method(), "web-form");
  EXPECT_EQ(ledger->ledger().subject().size(), 32u);

  auto audit = Last(v1::CHAIN_AUDIT);
  ASSERT_TRUE(audit.has_value());
  EXPECT_EQ(audit->sequence(), audit_before.size() + 1);
  EXPECT_EQ(audit->audit().action(), "consent.grant");
  EXPECT_EQ(audit->audit().actor_id(), "course");
  EXPECT_EQ(audit->audit().actor_role(), v1::ROLE_PLATFORM);
  EXPECT_EQ(audit->audit().outcome(), v1::AUDIT_OUTCOME_ALLOWED);
  EXPECT_EQ(audit->audit().consent_id(), granted->consent().consent_id());
  EXPECT_EQ(audit->audit().counterparty_id(), "store");
  EXPECT_EQ(audit->audit().subject(), ledger->ledger().subject());

  // The person's local id never reaches either chain.
  for (const auto& e : AllVerified(v1::CHAIN_AUDIT)) {
    EXPECT_EQ(e.encoded().find("u-private-17"), std::string::npos) << e.sequence();
  }
  for (const auto& e : AllVerified(v1::CHAIN_LEDGER)) {
    EXPECT_EQ(e.encoded().find("u-private-17"), std::string::npos) << e.sequence();
  }
}

TEST_F(ConsentApiTest, CheckAllowsCoveredFlowsForSourceAndLinkedTarget) {
  auto granted = course().GrantConsent(Grant("u-1", "store"));
  ASSERT_TRUE(granted.ok()) << granted.status();

  auto allowed = course().CheckConsent("u-1", "course", "store", v1::DATA_CATEGORY_LEARNING,
                                       v1::PURPOSE_SYNC);
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_TRUE(allowed->allowed());
  EXPECT_EQ(allowed->consent_id(), granted->consent().consent_id());
  EXPECT_EQ(TimeUtil::TimestampToMicroseconds(allowed->expires_at()),
            TimeUtil::TimestampToMicroseconds(granted->consent().expires_at()));
  EXPECT_TRUE(allowed->reason().empty());

  auto other_category = course().CheckConsent("u-1", "course", "store", v1::DATA_CATEGORY_CONTACT,
                                              v1::PURPOSE_SYNC);
  ASSERT_TRUE(other_category.ok()) << other_category.status();
  EXPECT_FALSE(other_category->allowed());
  EXPECT_THAT(other_category->reason(), HasSubstr("no consent covers DATA_CATEGORY_CONTACT"));

  auto other_purpose = course().CheckConsent("u-1", "course", "store", v1::DATA_CATEGORY_LEARNING,
                                             v1::PURPOSE_RECOMMENDATION);
  ASSERT_TRUE(other_purpose.ok());
  EXPECT_FALSE(other_purpose->allowed());

  auto other_target = course().CheckConsent("u-1", "course", "books", v1::DATA_CATEGORY_LEARNING,
                                            v1::PURPOSE_SYNC);
  ASSERT_TRUE(other_target.ok());
  EXPECT_FALSE(other_target->allowed());

  auto unknown = course().CheckConsent("u-nobody", "course", "store", v1::DATA_CATEGORY_LEARNING,
                                       v1::PURPOSE_SYNC);
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->allowed());
  EXPECT_THAT(unknown->reason(), HasSubstr("not known to the hub"));

  // The target checks the same flow by its own id for the person once the accounts are linked.
  auto ticket = course().CreateLinkTicket("u-1");
  ASSERT_TRUE(ticket.ok()) << ticket.status();
  FEDHUB_ASSERT_OK(store().RedeemLinkTicket(ticket->ticket(), "s-1"));
  auto at_target = store().CheckConsent("s-1", "course", "store", v1::DATA_CATEGORY_PROFILE,
                                        v1::PURPOSE_SYNC);
  ASSERT_TRUE(at_target.ok()) << at_target.status();
  EXPECT_TRUE(at_target->allowed());
}

TEST_F(ConsentApiTest, AnyMemberConsentCoversEveryTarget) {
  FEDHUB_ASSERT_OK(course().GrantConsent(Grant("u-1", "")));
  for (const char* target : {"store", "books"}) {
    auto d = course().CheckConsent("u-1", "course", target, v1::DATA_CATEGORY_LEARNING,
                                   v1::PURPOSE_SYNC);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_TRUE(d->allowed()) << target;
  }
}

TEST_F(ConsentApiTest, ExplicitExpiryIsKept) {
  ConsentGrant g = Grant("u-1", "store");
  auto expires = std::chrono::system_clock::now() + std::chrono::hours(24 * 30);
  g.expires_at = expires;
  auto granted = course().GrantConsent(g);
  ASSERT_TRUE(granted.ok()) << granted.status();
  int64_t want = std::chrono::duration_cast<std::chrono::microseconds>(expires.time_since_epoch()).count();
  EXPECT_EQ(TimeUtil::TimestampToMicroseconds(granted->consent().expires_at()), want);
}

TEST_F(ConsentApiTest, ListPagesThroughActiveConsentsAndIncludesInactiveOnRequest) {
  std::vector<std::string> ids;
  for (const char* target : {"store", "books", ""}) {
    auto granted = course().GrantConsent(Grant("u-1", target));
    ASSERT_TRUE(granted.ok()) << granted.status();
    ids.push_back(granted->consent().consent_id());
  }
  FEDHUB_ASSERT_OK(course().GrantConsent(Grant("u-other", "store")));

  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListConsentsRequest req;
    req.mutable_user()->set_local_user_id("u-1");
    req.mutable_page()->set_page_size(1);
    req.mutable_page()->set_page_token(token);
    auto page = course().ListConsents(req);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_THAT(page->consents(), SizeIs(1));
    EXPECT_EQ(page->consents(0).user().local_user_id(), "u-1");
    seen.push_back(page->consents(0).consent_id());
    token = page->next_page_token();
    ASSERT_LT(++pages, 10);
  } while (!token.empty());
  std::sort(ids.begin(), ids.end());
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, ids);

  auto revoked = course().RevokeConsent(ids[0], "u-1");
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  auto active = course().ListAllConsents("u-1");
  ASSERT_TRUE(active.ok());
  EXPECT_THAT(*active, SizeIs(2));
  auto all = course().ListAllConsents("u-1", /*include_inactive=*/true);
  ASSERT_TRUE(all.ok());
  ASSERT_THAT(*all, SizeIs(3));
  int revoked_count = 0;
  for (const auto& c : *all) revoked_count += c.state() == v1::CONSENT_STATE_REVOKED;
  EXPECT_EQ(revoked_count, 1);

  auto nobody = course().ListAllConsents("u-nobody");
  ASSERT_TRUE(nobody.ok()) << nobody.status();
  EXPECT_THAT(*nobody, IsEmpty());
}

TEST_F(ConsentApiTest, RevokeEndsTheConsentWithAVerifiableReceipt) {
  auto granted = course().GrantConsent(Grant("u-1", "store"));
  ASSERT_TRUE(granted.ok()) << granted.status();
  const std::string id = granted->consent().consent_id();

  auto revoked = course().RevokeConsent(id, "u-1");
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ(revoked->consent().state(), v1::CONSENT_STATE_REVOKED);
  EXPECT_EQ(revoked->consent().revoked_by_platform_id(), "course");
  EXPECT_EQ(revoked->consent().user().local_user_id(), "u-1");
  EXPECT_TRUE(revoked->consent().has_revoked_at());

  auto body = VerifyReceipt(revoked->receipt(), HubKey());
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(body->action(), v1::RECEIPT_ACTION_REVOKE);
  EXPECT_EQ(body->consent().consent_id(), id);
  EXPECT_EQ(body->ledger_sequence(), Head(v1::CHAIN_LEDGER).size());
  EXPECT_EQ(body->ledger_entry_hash(), Head(v1::CHAIN_LEDGER).head_hash());

  auto ledger = Last(v1::CHAIN_LEDGER);
  ASSERT_TRUE(ledger.has_value());
  EXPECT_EQ(ledger->ledger().action(), v1::LEDGER_ACTION_REVOKE);
  EXPECT_EQ(ledger->ledger().consent_id(), id);

  auto d = course().CheckConsent("u-1", "course", "store", v1::DATA_CATEGORY_LEARNING,
                                 v1::PURPOSE_SYNC);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_FALSE(d->allowed());
  EXPECT_THAT(d->reason(), HasSubstr("was revoked"));
  EXPECT_EQ(d->consent_id(), id);
}

TEST_F(ConsentApiTest, AnyPlatformThePersonUsesMayRevoke) {
  auto granted = course().GrantConsent(Grant("u-1", "store"));
  ASSERT_TRUE(granted.ok()) << granted.status();
  // books is neither source nor target, but the person has an account there.
  auto ticket = course().CreateLinkTicket("u-1");
  ASSERT_TRUE(ticket.ok()) << ticket.status();
  FEDHUB_ASSERT_OK(books().RedeemLinkTicket(ticket->ticket(), "b-1"));

  auto revoked = books().RevokeConsent(granted->consent().consent_id(), "b-1");
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ(revoked->consent().revoked_by_platform_id(), "books");
  EXPECT_EQ(revoked->consent().user().local_user_id(), "b-1");
  auto body = VerifyReceipt(revoked->receipt(), HubKey());
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(body->issued_to_platform_id(), "books");

  auto d = course().CheckConsent("u-1", "course", "store", v1::DATA_CATEGORY_LEARNING,
                                 v1::PURPOSE_SYNC);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->allowed());
}

TEST_F(ConsentApiTest, ConcurrentGrantsEachGetTheirOwnLedgerEntry) {
  constexpr int kThreads = 8, kPerThread = 10;
  std::vector<std::vector<v1::GrantConsentResponse>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Client& c = t % 2 == 0 ? course() : store();
      for (int i = 0; i < kPerThread; ++i) {
        auto g = c.GrantConsent(Grant(Cat("u-", t, "-", i), t % 2 == 0 ? "books" : "course"));
        EXPECT_TRUE(g.ok()) << g.status();
        if (g.ok()) results[t].push_back(*std::move(g));
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint64_t> sequences;
  const std::string key = HubKey();
  for (const auto& per_thread : results) {
    for (const auto& g : per_thread) {
      sequences.insert(g.consent().grant_ledger_sequence());
      auto body = VerifyReceipt(g.receipt(), key);
      ASSERT_TRUE(body.ok()) << body.status();
      EXPECT_EQ(body->ledger_sequence(), g.consent().grant_ledger_sequence());
    }
  }
  EXPECT_EQ(sequences.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(*sequences.rbegin(), uint64_t{kThreads * kPerThread});
  std::vector<v1::ChainEntry> ledger = AllVerified(v1::CHAIN_LEDGER);
  ASSERT_EQ(ledger.size(), size_t{kThreads * kPerThread});
  // Each receipt's entry hash is the hash of the entry at its sequence.
  for (const auto& per_thread : results) {
    for (const auto& g : per_thread) {
      auto body = VerifyReceipt(g.receipt(), key);
      ASSERT_TRUE(body.ok());
      EXPECT_EQ(body->ledger_entry_hash(), ledger[body->ledger_sequence() - 1].entry_hash());
    }
  }
}

TEST_F(ConsentApiTest, ChainsVerifyOnTheHubAndOffline) {
  for (int i = 0; i < 3; ++i) {
    auto g = course().GrantConsent(Grant(Cat("u-", i), "store"));
    ASSERT_TRUE(g.ok()) << g.status();
    if (i == 1) FEDHUB_ASSERT_OK(course().RevokeConsent(g->consent().consent_id(), "u-1"));
  }
  for (v1::Chain chain : {v1::CHAIN_AUDIT, v1::CHAIN_LEDGER}) {
    auto v = auditor().VerifyChain(chain);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_TRUE(v->ok()) << v->problem();
    EXPECT_EQ(v->entries_checked(), v->head().size());
    EXPECT_EQ(AllVerified(chain).size(), v->head().size());
  }
  EXPECT_EQ(Head(v1::CHAIN_LEDGER).size(), 4u);
}

}  // namespace
}  // namespace fedhub::testing
