// ConsentManager: grant, revoke, check and list consents; receipts, ledger and audit
// entries; expiry at use; and what a platform may learn about consents it is not part of.
#include "consent/consent_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <google/protobuf/util/time_util.h>

#include <set>

#include "core/receipt.h"
#include "domain_fixture.h"
#include "identity/ids.h"

namespace fedhub::consent {
namespace {

using fedhub::testing::DomainTest;
using google::protobuf::util::TimeUtil;
using storage::Cf;
using ::testing::HasSubstr;

constexpr auto kProfile = fedhub::v1::DATA_CATEGORY_PROFILE;
constexpr auto kContact = fedhub::v1::DATA_CATEGORY_CONTACT;
constexpr auto kInterests = fedhub::v1::DATA_CATEGORY_INTERESTS;
constexpr auto kSync = fedhub::v1::PURPOSE_SYNC;

fedhub::v1::GrantConsentRequest GrantRequest(const std::string& user, const std::string& target) {
  fedhub::v1::GrantConsentRequest req;
  req.mutable_user()->set_local_user_id(user);
  req.set_target_platform_id(target);
  req.add_categories(kProfile);
  req.add_categories(kInterests);
  req.add_purposes(kSync);
  req.mutable_evidence()->set_method("web-form");
  req.mutable_evidence()->set_reference("form-17");
  return req;
}

fedhub::v1::RevokeConsentRequest RevokeRequest(const std::string& id, const std::string& user) {
  fedhub::v1::RevokeConsentRequest req;
  req.set_consent_id(id);
  req.mutable_user()->set_local_user_id(user);
  return req;
}

fedhub::v1::CheckConsentRequest CheckRequest(const std::string& user, const std::string& source,
                                             const std::string& target,
                                             fedhub::v1::DataCategory category = kProfile) {
  fedhub::v1::CheckConsentRequest req;
  req.mutable_user()->set_local_user_id(user);
  req.set_source_platform_id(source);
  req.set_target_platform_id(target);
  req.set_category(category);
  req.set_purpose(kSync);
  return req;
}

class ConsentManagerTest : public DomainTest {
 protected:
  void SetUp() override {
    DomainTest::SetUp();
    for (const char* p : {"plat-a", "plat-b", "plat-c"}) ASSERT_NO_FATAL_FAILURE(RegisterPlatform(p));
  }

  ChangeResult Grant(const std::string& platform, const std::string& user, const std::string& target) {
    auto r = consents_->Grant(Platform(platform), GrantRequest(user, target));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : ChangeResult{};
  }
  Decision Check(const std::string& caller, const std::string& user, const std::string& source,
                 const std::string& target, fedhub::v1::DataCategory category = kProfile) {
    auto d = consents_->Check(Platform(caller), CheckRequest(user, source, target, category));
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : Decision{};
  }
  // bob at plat-b becomes the same person as alice at plat-a.
  void LinkAliceAndBob() {
    auto t = linker_->CreateTicket(Platform("plat-a"), "alice");
    ASSERT_TRUE(t.ok()) << t.status();
    ASSERT_TRUE(linker_->Redeem(Platform("plat-b"), t->ticket, "bob").ok());
  }
  std::string SubjectOf(const std::string& platform, const std::string& user) {
    return **linker_->Resolve(platform, user);
  }
  fedhub::v1::ReceiptBody VerifiedBody(const fedhub::v1::ConsentReceipt& receipt) {
    auto body = receipt::Verify(receipt, key_->public_key());
    EXPECT_TRUE(body.ok()) << body.status();
    return body.ok() ? *body : fedhub::v1::ReceiptBody{};
  }
};

TEST_F(ConsentManagerTest, GrantRecordsTheConsentAndReturnsASignedReceipt) {
  int64_t before = storage::NowMicros();
  ChangeResult g = Grant("plat-a", "alice", "plat-b");
  const fedhub::v1::Consent& c = g.consent;
  EXPECT_TRUE(ids::LooksLikeConsentId(c.consent_id()));
  EXPECT_EQ(c.user().local_user_id(), "alice");
  EXPECT_EQ(c.pairwise_pseudonym(), "");
  EXPECT_EQ(c.source_platform_id(), "plat-a");
  EXPECT_EQ(c.target_platform_id(), "plat-b");
  EXPECT_EQ(c.state(), fedhub::v1::CONSENT_STATE_ACTIVE);
  EXPECT_EQ(c.evidence().method(), "web-form");
  EXPECT_EQ(c.grant_ledger_sequence(), 1u);
  int64_t granted = TimeUtil::TimestampToMicroseconds(c.granted_at());
  EXPECT_GE(granted, before);
  // No expiry asked: the hub's maximum lifetime.
  EXPECT_EQ(TimeUtil::TimestampToMicroseconds(c.expires_at()) - granted,
            std::chrono::duration_cast<std::chrono::microseconds>(consent_options_.max_lifetime).count());

  fedhub::v1::ReceiptBody body = VerifiedBody(g.receipt);
  EXPECT_EQ(body.action(), fedhub::v1::RECEIPT_ACTION_GRANT);
  EXPECT_EQ(body.consent().SerializeAsString(), c.SerializeAsString());
  EXPECT_EQ(body.issued_to_platform_id(), "plat-a");
  EXPECT_EQ(body.ledger_sequence(), 1u);
  EXPECT_EQ(body.ledger_entry_hash(), crypto::ToString(consents_->ledger().Head()->hash));
  EXPECT_EQ(body.signing_key_id(), key_->key_id());
  EXPECT_EQ(g.receipt.signing_key_id(), key_->key_id());

  auto stored = consents_->Read(c.consent_id());
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->subject(), SubjectOf("plat-a", "alice"));
  EXPECT_EQ((*stored)->grant_ledger_sequence(), 1u);
}

TEST_F(ConsentManagerTest, ConsentLedgerAndAuditEntriesAreOneBatch) {
  storage::StoreStats before = store_->stats();
  uint64_t audit_before = AuditSize();
  ChangeResult g = Grant("plat-a", "alice", "plat-b");
  storage::StoreStats after = store_->stats();
  EXPECT_EQ(after.groups - before.groups, 1u) << "the grant took more than one WriteBatch";
  EXPECT_EQ(after.commits - before.commits, 1u);
  EXPECT_EQ(LedgerSize(), 1u);
  EXPECT_EQ(AuditSize(), audit_before + 1);

  std::string pseudonym = pseudonyms_->Audit(SubjectOf("plat-a", "alice"));
  fedhub::v1::LedgerRecord l = LedgerRecords().back();
  EXPECT_EQ(l.action(), fedhub::v1::LEDGER_ACTION_GRANT);
  EXPECT_EQ(l.consent_id(), g.consent.consent_id());
  EXPECT_EQ(l.subject(), pseudonym);
  EXPECT_EQ(l.source_platform_id(), "plat-a");
  EXPECT_EQ(l.target_platform_id(), "plat-b");
  EXPECT_THAT(l.categories(), ::testing::ElementsAre(kProfile, kInterests));
  EXPECT_EQ(l.evidence_method(), "web-form");
  EXPECT_EQ(l.evidence_reference(), "form-17");
  EXPECT_EQ(l.actor_platform_id(), "plat-a");

  fedhub::v1::AuditRecord a = LastAudit();
  EXPECT_EQ(a.action(), "consent.grant");
  EXPECT_EQ(a.outcome(), fedhub::v1::AUDIT_OUTCOME_ALLOWED);
  EXPECT_EQ(a.consent_id(), g.consent.consent_id());
  EXPECT_EQ(a.subject(), pseudonym);
  EXPECT_EQ(a.counterparty_id(), "plat-b");
  EXPECT_EQ(a.detail(), "ledger entry 1");
  EXPECT_EQ(a.time().SerializeAsString(), l.time().SerializeAsString()) << "one transaction, one time";
  EXPECT_TRUE(consents_->ledger().Verify()->ok);
  EXPECT_TRUE(audit_->chain().Verify()->ok);
}

TEST_F(ConsentManagerTest, CheckAnswersForTheFlowNamed) {
  ASSERT_NO_FATAL_FAILURE(LinkAliceAndBob());
  ChangeResult g = Grant("plat-a", "alice", "plat-b");

  Decision by_source = Check("plat-a", "alice", "plat-a", "plat-b");
  EXPECT_TRUE(by_source.allowed);
  EXPECT_EQ(by_source.consent_id, g.consent.consent_id());
  // The target asks with its own local id for the person.
  EXPECT_TRUE(Check("plat-b", "bob", "plat-a", "plat-b").allowed);
  EXPECT_FALSE(Check("plat-a", "alice", "plat-a", "plat-b", kContact).allowed);
  EXPECT_FALSE(Check("plat-a", "alice", "plat-a", "plat-c").allowed);

  Decision unknown = Check("plat-a", "nobody", "plat-a", "plat-b");
  EXPECT_FALSE(unknown.allowed);
  EXPECT_THAT(unknown.reason, HasSubstr("not known"));

  auto outsider = consents_->Check(Platform("plat-c"), CheckRequest("alice", "plat-a", "plat-b"));
  EXPECT_EQ(outsider.status().code(), absl::StatusCode::kPermissionDenied);
  auto no_category = CheckRequest("alice", "plat-a", "plat-b", fedhub::v1::DATA_CATEGORY_UNSPECIFIED);
  EXPECT_EQ(consents_->Check(Platform("plat-a"), no_category).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ConsentManagerTest, RevokeEndsTheConsentWithAReceipt) {
  ChangeResult g = Grant("plat-a", "alice", "plat-b");
  auto r = consents_->Revoke(Platform("plat-a"), RevokeRequest(g.consent.consent_id(), "alice"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->consent.state(), fedhub::v1::CONSENT_STATE_REVOKED);
  EXPECT_EQ(r->consent.revoked_by_platform_id(), "plat-a");
  fedhub::v1::ReceiptBody body = VerifiedBody(r->receipt);
  EXPECT_EQ(body.action(), fedhub::v1::RECEIPT_ACTION_REVOKE);
  EXPECT_EQ(body.ledger_sequence(), 2u);

  Decision d = Check("plat-a", "alice", "plat-a", "plat-b");
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.reason, HasSubstr("revoked"));
  EXPECT_EQ(LedgerRecords().back().action(), fedhub::v1::LEDGER_ACTION_REVOKE);
  EXPECT_EQ(LastAudit().action(), "consent.revoke");

  auto again = consents_->Revoke(Platform("plat-a"), RevokeRequest(g.consent.consent_id(), "alice"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(LedgerSize(), 2u);
  EXPECT_EQ(LastAudit().outcome(), fedhub::v1::AUDIT_OUTCOME_DENIED);
}

TEST_F(ConsentManagerTest, ThePersonMayRevokeFromAnotherPlatformTheyUse) {
  ASSERT_NO_FATAL_FAILURE(LinkAliceAndBob());
  ChangeResult g = Grant("plat-a", "alice", "plat-c");
  auto r = consents_->Revoke(Platform("plat-b"), RevokeRequest(g.consent.consent_id(), "bob"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->consent.revoked_by_platform_id(), "plat-b");
  EXPECT_EQ(r->consent.user().local_user_id(), "bob");
  EXPECT_EQ(VerifiedBody(r->receipt).issued_to_platform_id(), "plat-b");
  EXPECT_FALSE(Check("plat-a", "alice", "plat-a", "plat-c").allowed);
  EXPECT_EQ(LedgerRecords().back().actor_platform_id(), "plat-b");
}

TEST_F(ConsentManagerTest, RevokingAnotherPersonsConsentRevealsNothing) {
  ChangeResult g = Grant("plat-a", "alice", "plat-b");
  Grant("plat-c", "mallory", "plat-b");  // mallory is known at plat-c
  const std::string real = g.consent.consent_id();
  const std::string fake = "c-00000000000000000000000000000000";

  auto theirs = consents_->Revoke(Platform("plat-c"), RevokeRequest(real, "mallory"));
  auto missing = consents_->Revoke(Platform("plat-c"), RevokeRequest(fake, "mallory"));
  ASSERT_FALSE(theirs.ok());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(theirs.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  // The same answer, but for the id the caller sent.
  std::string theirs_message(theirs.status().message());
  std::string missing_message(missing.status().message());
  theirs_message.replace(theirs_message.find(real), real.size(), fake);
  EXPECT_EQ(theirs_message, missing_message);

  // Naming alice's local id from another platform finds nothing either: ids are per platform.
  auto by_name = consents_->Revoke(Platform("plat-c"), RevokeRequest(real, "alice"));
  EXPECT_EQ(by_name.status().code(), absl::StatusCode::kNotFound);

  EXPECT_TRUE(Check("plat-a", "alice", "plat-a", "plat-b").allowed);
  EXPECT_EQ(LastAudit().outcome(), fedhub::v1::AUDIT_OUTCOME_DENIED);
  EXPECT_EQ(LedgerSize(), 2u);
}

TEST_F(ConsentManagerTest, ExpiryIsCheckedAtUse) {
  ChangeResult g = Grant("plat-a", "alice", "plat-b");
  ASSERT_TRUE(Check("plat-a", "alice", "plat-a", "plat-b").allowed);
  // Time passes the consent's expiry: the stored record says so and the hub restarts
  // with no sweeper having touched anything.
  auto rec = consents_->Read(g.consent.consent_id());
  ASSERT_TRUE(rec.ok() && rec->has_value());
  fedhub::storage::v1::ConsentRecord expired = **rec;
  expired.set_expires_at_micros(storage::NowMicros() - 1);
  ASSERT_TRUE(store_->RawPutForTesting(Cf::kConsents, expired.consent_id(),
                                       expired.SerializeAsString()).ok());
  ASSERT_NO_FATAL_FAILURE(ReopenDomain());

  Decision d = Check("plat-a", "alice", "plat-a", "plat-b");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.consent_id, g.consent.consent_id());
  EXPECT_THAT(d.reason, HasSubstr("expired"));

  fedhub::v1::ListConsentsRequest list;
  list.mutable_user()->set_local_user_id("alice");
  EXPECT_TRUE(consents_->List(Platform("plat-a"), list)->consents.empty());
  list.set_include_inactive(true);
  auto all = consents_->List(Platform("plat-a"), list);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->consents.size(), 1u);
  EXPECT_EQ(all->consents[0].state(), fedhub::v1::CONSENT_STATE_EXPIRED);
}

TEST_F(ConsentManagerTest, AnExplicitExpiryIsKept) {
  auto req = GrantRequest("alice", "plat-b");
  int64_t expires = storage::NowMicros() + 3600LL * 1000000;
  *req.mutable_expires_at() = TimeUtil::MicrosecondsToTimestamp(expires);
  auto g = consents_->Grant(Platform("plat-a"), req);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(TimeUtil::TimestampToMicroseconds(g->consent.expires_at()), expires);
  Decision d = Check("plat-a", "alice", "plat-a", "plat-b");
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.expires_at_micros, expires);
}

TEST_F(ConsentManagerTest, InvalidGrantsAreRefusedAuditedAndLeaveNoLedgerEntry) {
  ASSERT_TRUE(registry_->SetStatus(Admin(), "plat-c", fedhub::v1::PRINCIPAL_STATUS_SUSPENDED, "x").ok());
  int64_t now = storage::NowMicros();
  struct Case {
    const char* name;
    std::function<void(fedhub::v1::GrantConsentRequest&)> edit;
    absl::StatusCode code;
  } cases[] = {
      {"no categories", [](auto& r) { r.clear_categories(); }, absl::StatusCode::kInvalidArgument},
      {"twice", [](auto& r) { r.add_categories(kProfile); }, absl::StatusCode::kInvalidArgument},
      {"unknown category", [](auto& r) { r.add_categories(static_cast<fedhub::v1::DataCategory>(99)); },
       absl::StatusCode::kInvalidArgument},
      {"no purposes", [](auto& r) { r.clear_purposes(); }, absl::StatusCode::kInvalidArgument},
      {"self", [](auto& r) { r.set_target_platform_id("plat-a"); }, absl::StatusCode::kInvalidArgument},
      {"unregistered", [](auto& r) { r.set_target_platform_id("plat-z"); }, absl::StatusCode::kNotFound},
      {"suspended", [](auto& r) { r.set_target_platform_id("plat-c"); }, absl::StatusCode::kNotFound},
      {"past expiry",
       [&](auto& r) { *r.mutable_expires_at() = TimeUtil::MicrosecondsToTimestamp(now - 1); },
       absl::StatusCode::kInvalidArgument},
      {"too long",
       [&](auto& r) { *r.mutable_expires_at() = TimeUtil::MicrosecondsToTimestamp(now + 800LL * 86400 * 1000000); },
       absl::StatusCode::kInvalidArgument},
      {"no evidence", [](auto& r) { r.clear_evidence(); }, absl::StatusCode::kInvalidArgument},
      {"bad user", [](auto& r) { r.mutable_user()->set_local_user_id("a b"); },
       absl::StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    auto req = GrantRequest("alice", "plat-b");
    c.edit(req);
    uint64_t audit_before = AuditSize();
    auto r = consents_->Grant(Platform("plat-a"), req);
    EXPECT_EQ(r.status().code(), c.code) << c.name << ": " << r.status();
    EXPECT_EQ(AuditSize(), audit_before + 1) << c.name;
    EXPECT_EQ(LastAudit().outcome(), fedhub::v1::AUDIT_OUTCOME_DENIED) << c.name;
  }
  EXPECT_EQ(LedgerSize(), 0u);
  EXPECT_EQ(consents_->index().size(), 0u);
  EXPECT_FALSE(linker_->Resolve("plat-a", "alice")->has_value()) << "a refused grant created a subject";
}

TEST_F(ConsentManagerTest, ListPagesThroughAPersonsConsents) {
  std::set<std::string> granted;
  for (int i = 0; i < 5; ++i) granted.insert(Grant("plat-a", "alice", "plat-b").consent.consent_id());
  Grant("plat-a", "someone-else", "plat-b");

  fedhub::v1::ListConsentsRequest req;
  req.mutable_user()->set_local_user_id("alice");
  req.mutable_page()->set_page_size(2);
  std::vector<std::string> seen;
  int pages = 0;
  do {
    auto page = consents_->List(Platform("plat-a"), req);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& c : page->consents) {
      seen.push_back(c.consent_id());
      EXPECT_EQ(c.user().local_user_id(), "alice");
    }
    req.mutable_page()->set_page_token(page->next_page_token);
    ASSERT_LT(++pages, 10);
  } while (!req.page().page_token().empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), granted);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

  req.mutable_page()->set_page_token("not-a-token");
  EXPECT_EQ(consents_->List(Platform("plat-a"), req).status().code(), absl::StatusCode::kInvalidArgument);
  req.mutable_page()->set_page_token("");
  req.mutable_page()->set_page_size(1001);
  EXPECT_EQ(consents_->List(Platform("plat-a"), req).status().code(), absl::StatusCode::kInvalidArgument);
  req.mutable_user()->set_local_user_id("stranger");
  req.mutable_page()->set_page_size(0);
  EXPECT_TRUE(consents_->List(Platform("plat-a"), req)->consents.empty());
}

TEST_F(ConsentManagerTest, PlatformsSeeOnlyConsentsTheyArePartOf) {
  ASSERT_NO_FATAL_FAILURE(LinkAliceAndBob());
  Grant("plat-a", "alice", "plat-b");
  Grant("plat-a", "alice", "plat-c");
  fedhub::v1::ListConsentsRequest req;
  req.mutable_user()->set_local_user_id("bob");
  auto page = consents_->List(Platform("plat-b"), req);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->consents.size(), 1u);
  EXPECT_EQ(page->consents[0].target_platform_id(), "plat-b");
  EXPECT_EQ(page->consents[0].user().local_user_id(), "bob") << "named by plat-b's own id";
}

TEST_F(ConsentManagerTest, APlatformWithoutAnAccountSeesAPairwisePseudonym) {
  ChangeResult g = Grant("plat-a", "alice", "");
  auto rec = consents_->Read(g.consent.consent_id());
  ASSERT_TRUE(rec.ok() && rec->has_value());
  auto for_b = consents_->ViewFor("plat-b", **rec, storage::NowMicros());
  auto for_c = consents_->ViewFor("plat-c", **rec, storage::NowMicros());
  ASSERT_TRUE(for_b.ok() && for_b->has_value());
  ASSERT_TRUE(for_c.ok() && for_c->has_value());
  EXPECT_EQ((*for_b)->user().local_user_id(), "");
  EXPECT_FALSE((*for_b)->pairwise_pseudonym().empty());
  EXPECT_NE((*for_b)->pairwise_pseudonym(), (*for_c)->pairwise_pseudonym());
  EXPECT_EQ((*for_b)->pairwise_pseudonym(), pseudonyms_->Pairwise("plat-b", (*rec)->subject()));
  // The evidence reference stays with the platform that recorded the consent.
  EXPECT_EQ((*for_b)->evidence().method(), "web-form");
  EXPECT_EQ((*for_b)->evidence().reference(), "");
  auto for_a = consents_->ViewFor("plat-a", **rec, storage::NowMicros());
  EXPECT_EQ((*for_a)->evidence().reference(), "form-17");

  ChangeResult targeted = Grant("plat-a", "alice", "plat-b");
  auto trec = consents_->Read(targeted.consent.consent_id());
  EXPECT_FALSE(consents_->ViewFor("plat-c", **trec, storage::NowMicros())->has_value());
}

TEST_F(ConsentManagerTest, ConsentsAndTheirStateSurviveReopening) {
  ChangeResult kept = Grant("plat-a", "alice", "plat-b");
  ChangeResult revoked = Grant("plat-a", "alice", "");
  ASSERT_TRUE(consents_->Revoke(Platform("plat-a"), RevokeRequest(revoked.consent.consent_id(), "alice")).ok());
  ASSERT_NO_FATAL_FAILURE(ReopenDomain());
  EXPECT_EQ(consents_->index().size(), 2u);
  Decision d = Check("plat-a", "alice", "plat-a", "plat-b");
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.consent_id, kept.consent.consent_id());
  EXPECT_FALSE(Check("plat-a", "alice", "plat-a", "plat-c").allowed);
  EXPECT_EQ(LedgerSize(), 3u);
  EXPECT_TRUE(consents_->ledger().Verify()->ok);
}

TEST_F(ConsentManagerTest, ListenersHearEachDurableLedgerChange) {
  std::vector<uint64_t> heard;
  int h = consents_->AddListener([&](uint64_t size) { heard.push_back(size); });
  ChangeResult g = Grant("plat-a", "alice", "plat-b");
  ASSERT_TRUE(consents_->Revoke(Platform("plat-a"), RevokeRequest(g.consent.consent_id(), "alice")).ok());
  consents_->RemoveListener(h);
  Grant("plat-a", "alice", "plat-b");
  EXPECT_EQ(heard, (std::vector<uint64_t>{1, 2}));
}

}  // namespace
}  // namespace fedhub::consent
