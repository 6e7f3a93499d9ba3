// Linking accounts across platforms with one-time tickets (DESIGN §2).
#include "linking/linker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/crypto.h"
#include "domain_fixture.h"
#include "fedhub/storage/v1/records.pb.h"
#include "storage/keys.h"

namespace fedhub::linking {
namespace {

using fedhub::storage::v1::SubjectRecord;
using fedhub::storage::v1::TicketRecord;
using fedhub::testing::DomainTest;
using storage::Cf;
using ::testing::HasSubstr;

class LinkerTest : public DomainTest {
 protected:
  std::optional<std::string> SubjectOf(const std::string& platform, const std::string& local) {
    auto s = linker_->Resolve(platform, local);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : std::nullopt;
  }
  std::string NewTicket(const std::string& platform, const std::string& local) {
    auto t = linker_->CreateTicket(Platform(platform), local);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? t->ticket : std::string();
  }
  SubjectRecord SubjectRecordOf(const std::string& subject) {
    SubjectRecord rec;
    auto v = store_->Get(Cf::kSubjects, subject);
    if (v.ok() && *v) rec.ParseFromString(**v);
    return rec;
  }
  TicketRecord StoredTicket(const std::string& ticket) {
    TicketRecord t;
    auto v = store_->Get(Cf::kTickets, crypto::ToString(crypto::Sha256(ticket)));
    EXPECT_TRUE(v.ok() && v->has_value());
    if (v.ok() && *v) t.ParseFromString(**v);
    return t;
  }
  void GrantAnyMember(const std::string& platform, const std::string& local) {
    fedhub::v1::GrantConsentRequest req;
    req.mutable_user()->set_local_user_id(local);
    req.add_categories(fedhub::v1::DATA_CATEGORY_PROFILE);
    req.add_purposes(fedhub::v1::PURPOSE_SYNC);
    req.mutable_evidence()->set_method("web-form");
    auto r = consents_->Grant(Platform(platform), req);
    ASSERT_TRUE(r.ok()) << r.status();
  }
};

TEST_F(LinkerTest, TicketIsRandomHashedAtRestAndExpiresAfterTheTtl) {
  int64_t before = storage::NowMicros();
  auto t = linker_->CreateTicket(Platform("plat-a"), "alice");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->ticket.size(), 43u) << "32 random bytes, base64url";
  EXPECT_GE(t->expires_at_micros, before + 600 * 1000000LL);
  EXPECT_LE(t->expires_at_micros, storage::NowMicros() + 600 * 1000000LL);
  EXPECT_NE(NewTicket("plat-a", "alice"), t->ticket);

  // Only SHA-256(ticket) is a key; the ticket itself is stored nowhere.
  EXPECT_FALSE(store_->Get(Cf::kTickets, t->ticket)->has_value());
  TicketRecord rec = StoredTicket(t->ticket);
  EXPECT_EQ(rec.issuer_platform_id(), "plat-a");
  EXPECT_EQ(rec.subject(), *SubjectOf("plat-a", "alice"));
  EXPECT_FALSE(rec.redeemed());

  fedhub::v1::AuditRecord a = LastAudit();
  EXPECT_EQ(a.action(), "link.ticket");
  EXPECT_EQ(a.subject(), pseudonyms_->Audit(rec.subject()));
  EXPECT_THAT(a.detail(), ::testing::Not(HasSubstr(t->ticket)));
}

TEST_F(LinkerTest, RedeemJoinsTheTwoAccountsOfOnePerson) {
  std::string ticket = NewTicket("plat-a", "alice");
  auto issuer = linker_->Redeem(Platform("plat-b"), ticket, "bob");
  ASSERT_TRUE(issuer.ok()) << issuer.status();
  EXPECT_EQ(*issuer, "plat-a");

  auto subject = SubjectOf("plat-a", "alice");
  ASSERT_TRUE(subject.has_value());
  EXPECT_EQ(SubjectOf("plat-b", "bob"), subject);
  EXPECT_EQ(subject->size(), 16u);
  EXPECT_EQ(*linker_->LocalIdOf(*subject, "plat-b"), "bob");
  EXPECT_EQ(*linker_->LocalIdOf(*subject, "plat-a"), "alice");
  EXPECT_FALSE(linker_->LocalIdOf(*subject, "plat-c")->has_value());
  EXPECT_EQ(SubjectRecordOf(*subject).link_count(), 2u);

  TicketRecord rec = StoredTicket(ticket);
  EXPECT_TRUE(rec.redeemed());
  EXPECT_EQ(rec.redeemed_by_platform_id(), "plat-b");
  fedhub::v1::AuditRecord a = LastAudit();
  EXPECT_EQ(a.action(), "link.redeem");
  EXPECT_EQ(a.outcome(), fedhub::v1::AUDIT_OUTCOME_ALLOWED);
  EXPECT_EQ(a.counterparty_id(), "plat-a");
  // The audit log names people by pseudonym only.
  for (const auto& r : AuditRecords()) {
    EXPECT_THAT(r.ShortDebugString(), ::testing::Not(HasSubstr("alice")));
    EXPECT_THAT(r.ShortDebugString(), ::testing::Not(HasSubstr("bob")));
  }
}

TEST_F(LinkerTest, ATicketIsSingleUse) {
  std::string ticket = NewTicket("plat-a", "alice");
  ASSERT_TRUE(linker_->Redeem(Platform("plat-b"), ticket, "bob").ok());
  auto again = linker_->Redeem(Platform("plat-c"), ticket, "carol");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.status().message()), HasSubstr("already used"));
  EXPECT_FALSE(SubjectOf("plat-c", "carol").has_value());
  EXPECT_EQ(LastAudit().outcome(), fedhub::v1::AUDIT_OUTCOME_DENIED);
}

TEST_F(LinkerTest, AnExpiredTicketIsRefused) {
  std::string ticket = NewTicket("plat-a", "alice");
  // The ticket's expiry moved to a moment already past.
  TicketRecord rec = StoredTicket(ticket);
  rec.set_expires_at_micros(storage::NowMicros() - 1);
  ASSERT_TRUE(store_->RawPutForTesting(Cf::kTickets, crypto::ToString(crypto::Sha256(ticket)),
                                       rec.SerializeAsString()).ok());
  auto r = linker_->Redeem(Platform("plat-b"), ticket, "bob");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("expired"));
  EXPECT_FALSE(SubjectOf("plat-b", "bob").has_value());
}

TEST_F(LinkerTest, ATicketWithNoLifetimeLeftIsRefused) {
  link_options_.ticket_ttl = std::chrono::seconds(-1);
  ASSERT_NO_FATAL_FAILURE(ReopenDomain());
  std::string ticket = NewTicket("plat-a", "alice");
  auto r = linker_->Redeem(Platform("plat-b"), ticket, "bob");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(LinkerTest, UnknownOwnOrMalformedRedemptionsAreRefused) {
  EXPECT_EQ(linker_->Redeem(Platform("plat-b"), "no-such-ticket", "bob").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(linker_->Redeem(Platform("plat-b"), "", "bob").status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string ticket = NewTicket("plat-a", "alice");
  EXPECT_EQ(linker_->Redeem(Platform("plat-b"), ticket, "has space").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(linker_->Redeem(Platform("plat-a"), ticket, "alice2").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(linker_->CreateTicket(Platform("plat-a"), "").status().code(),
            absl::StatusCode::kInvalidArgument);
  // None of that used the ticket up.
  EXPECT_TRUE(linker_->Redeem(Platform("plat-b"), ticket, "bob").ok());
}

TEST_F(LinkerTest, LinkingTheSamePersonTwiceIsRefused) {
  ASSERT_TRUE(linker_->Redeem(Platform("plat-b"), NewTicket("plat-a", "alice"), "bob").ok());
  auto same = linker_->Redeem(Platform("plat-b"), NewTicket("plat-a", "alice"), "bob");
  EXPECT_EQ(same.status().code(), absl::StatusCode::kAlreadyExists);
  auto other_account = linker_->Redeem(Platform("plat-b"), NewTicket("plat-a", "alice"), "bob2");
  ASSERT_FALSE(other_account.ok());
  EXPECT_EQ(other_account.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(other_account.status().message()),
              HasSubstr("already linked to another of your users"));
  EXPECT_FALSE(SubjectOf("plat-b", "bob2").has_value());
  // The refusals are audited without the platforms' local ids.
  fedhub::v1::AuditRecord refused = LastAudit();
  EXPECT_EQ(refused.outcome(), fedhub::v1::AUDIT_OUTCOME_DENIED);
  EXPECT_THAT(refused.detail(), ::testing::Not(HasSubstr("bob")));
}

TEST_F(LinkerTest, AnAccountWithConsentsOfItsOwnIsNotMerged) {
  ASSERT_NO_FATAL_FAILURE(GrantAnyMember("plat-b", "carol"));
  auto carol_subject = SubjectOf("plat-b", "carol");
  ASSERT_TRUE(carol_subject.has_value());
  std::string ticket = NewTicket("plat-a", "alice");

  auto merged = linker_->Redeem(Platform("plat-b"), ticket, "carol");
  ASSERT_FALSE(merged.ok());
  EXPECT_EQ(merged.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(merged.status().message()), HasSubstr("unlink it first"));
  EXPECT_EQ(SubjectOf("plat-b", "carol"), carol_subject);
  EXPECT_NE(carol_subject, SubjectOf("plat-a", "alice"));
  // The refusal wrote nothing: the ticket is still good for another account.
  EXPECT_FALSE(StoredTicket(ticket).redeemed());
  EXPECT_TRUE(linker_->Redeem(Platform("plat-b"), ticket, "dave").ok());
}

TEST_F(LinkerTest, AnAccountLinkedElsewhereIsNotMerged) {
  // carol at plat-b is already one person with dan at plat-c.
  ASSERT_TRUE(linker_->Redeem(Platform("plat-b"), NewTicket("plat-c", "dan"), "carol").ok());
  auto merged = linker_->Redeem(Platform("plat-b"), NewTicket("plat-a", "alice"), "carol");
  EXPECT_EQ(merged.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(SubjectOf("plat-b", "carol"), SubjectOf("plat-c", "dan"));
}

TEST_F(LinkerTest, ATicketOfAnAccountMergedSinceIsRefused) {
  // erin at plat-b asked for a ticket, then joined alice's person record as a bare account:
  // the old ticket names a person record that no longer exists.
  std::string stale = NewTicket("plat-b", "erin");
  ASSERT_TRUE(linker_->Redeem(Platform("plat-b"), NewTicket("plat-a", "alice"), "erin").ok());
  auto redeemed = linker_->Redeem(Platform("plat-c"), stale, "frank");
  EXPECT_EQ(redeemed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(redeemed.status().message()), HasSubstr("ask the other platform for a new ticket"));
  EXPECT_FALSE(SubjectOf("plat-c", "frank").has_value());
  // A fresh ticket for erin links frank to the merged person.
  ASSERT_TRUE(linker_->Redeem(Platform("plat-c"), NewTicket("plat-b", "erin"), "frank").ok());
  EXPECT_EQ(SubjectOf("plat-c", "frank"), SubjectOf("plat-a", "alice"));
}

TEST_F(LinkerTest, ABareAccountIsJoinedToThePerson) {
  // erin at plat-b was named once (a ticket of her own) and has nothing else.
  NewTicket("plat-b", "erin");
  auto bare = SubjectOf("plat-b", "erin");
  ASSERT_TRUE(bare.has_value());
  ASSERT_TRUE(linker_->Redeem(Platform("plat-b"), NewTicket("plat-a", "alice"), "erin").ok());
  auto person = SubjectOf("plat-a", "alice");
  EXPECT_EQ(SubjectOf("plat-b", "erin"), person);
  EXPECT_NE(bare, person);
  EXPECT_FALSE(linker_->LocalIdOf(*bare, "plat-b")->has_value());
  EXPECT_FALSE(store_->Get(Cf::kSubjects, *bare)->has_value());
  EXPECT_EQ(SubjectRecordOf(*person).link_count(), 2u);
}

TEST_F(LinkerTest, UnlinkRemovesOnlyTheCallersAccount) {
  ASSERT_TRUE(linker_->Redeem(Platform("plat-b"), NewTicket("plat-a", "alice"), "bob").ok());
  auto subject = SubjectOf("plat-a", "alice");
  ASSERT_TRUE(linker_->Unlink(Platform("plat-b"), "bob").ok());
  EXPECT_FALSE(SubjectOf("plat-b", "bob").has_value());
  EXPECT_FALSE(linker_->LocalIdOf(*subject, "plat-b")->has_value());
  EXPECT_EQ(SubjectOf("plat-a", "alice"), subject);
  EXPECT_EQ(SubjectRecordOf(*subject).link_count(), 1u);
  EXPECT_EQ(LastAudit().action(), "link.unlink");

  auto again = linker_->Unlink(Platform("plat-b"), "bob");
  EXPECT_EQ(again.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(LastAudit().outcome(), fedhub::v1::AUDIT_OUTCOME_DENIED);

  // Once unlinked, the person can be linked at plat-b again.
  EXPECT_TRUE(linker_->Redeem(Platform("plat-b"), NewTicket("plat-a", "alice"), "bob-new").ok());
  EXPECT_EQ(SubjectOf("plat-b", "bob-new"), subject);
}

TEST_F(LinkerTest, ResolveOrCreateIsStablePerPlatformAndLocalId) {
  std::string first, second, other;
  ASSERT_TRUE(store_->Commit([&](storage::Txn& txn) -> absl::Status {
                      first = *linker_->ResolveOrCreate(txn, "plat-a", "u1");
                      second = *linker_->ResolveOrCreate(txn, "plat-a", "u1");
                      other = *linker_->ResolveOrCreate(txn, "plat-b", "u1");
                      return absl::OkStatus();
                    }).ok());
  EXPECT_EQ(first, second);
  EXPECT_NE(first, other) << "the same local id at two platforms is two people until linked";
  EXPECT_EQ(SubjectOf("plat-a", "u1"), first);
}

}  // namespace
}  // namespace fedhub::linking
