// ConsentIndex: the in-memory answer to "may this data flow now?", with the time of the
// check passed in, so expiry is tested at exact instants.
#include "consent/consent_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "domain_fixture.h"

namespace fedhub::consent {
namespace {

using fedhub::storage::v1::ConsentRecord;
using fedhub::testing::DomainTest;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1700000000LL * 1000000;
constexpr int64_t kHour = 3600LL * 1000000;
const std::string kAlice(16, 'A');
const std::string kBob(16, 'B');

ConsentRecord Consent(const std::string& id, const std::string& subject, const std::string& source,
                      const std::string& target, std::vector<int> categories,
                      std::vector<int> purposes, int64_t expires) {
  ConsentRecord r;
  r.set_consent_id(id);
  r.set_subject(subject);
  r.set_source_platform_id(source);
  r.set_target_platform_id(target);
  for (int c : categories) r.add_categories(c);
  for (int p : purposes) r.add_purposes(p);
  r.set_granted_at_micros(kNow - kHour);
  r.set_expires_at_micros(expires);
  return r;
}

constexpr auto kProfile = fedhub::v1::DATA_CATEGORY_PROFILE;
constexpr auto kContact = fedhub::v1::DATA_CATEGORY_CONTACT;
constexpr auto kLearning = fedhub::v1::DATA_CATEGORY_LEARNING;
constexpr auto kSync = fedhub::v1::PURPOSE_SYNC;
constexpr auto kAnalytics = fedhub::v1::PURPOSE_ANALYTICS;

TEST(ConsentIndex, AllowsOnlyWhatAConsentCovers) {
  ConsentIndex index;
  index.Upsert(Consent("c-1", kAlice, "plat-a", "plat-b", {kProfile, kLearning}, {kSync}, kNow + kHour));
  Decision d = index.Check(kAlice, "plat-a", "plat-b", kProfile, kSync, kNow);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.consent_id, "c-1");
  EXPECT_EQ(d.expires_at_micros, kNow + kHour);
  EXPECT_TRUE(index.Check(kAlice, "plat-a", "plat-b", kLearning, kSync, kNow).allowed);

  Decision other_category = index.Check(kAlice, "plat-a", "plat-b", kContact, kSync, kNow);
  EXPECT_FALSE(other_category.allowed);
  EXPECT_EQ(other_category.consent_id, "");
  EXPECT_EQ(other_category.reason,
            "no consent covers DATA_CATEGORY_CONTACT from plat-a to plat-b for PURPOSE_SYNC");
  EXPECT_FALSE(index.Check(kAlice, "plat-a", "plat-b", kProfile, kAnalytics, kNow).allowed);
  EXPECT_FALSE(index.Check(kAlice, "plat-b", "plat-a", kProfile, kSync, kNow).allowed)
      << "a consent has a direction";
  EXPECT_FALSE(index.Check(kAlice, "plat-a", "plat-c", kProfile, kSync, kNow).allowed);
  EXPECT_FALSE(index.Check(kBob, "plat-a", "plat-b", kProfile, kSync, kNow).allowed);
}

TEST(ConsentIndex, AnEmptyTargetCoversEveryMember) {
  ConsentIndex index;
  index.Upsert(Consent("c-any", kAlice, "plat-a", "", {kProfile}, {kSync}, kNow + kHour));
  EXPECT_TRUE(index.Check(kAlice, "plat-a", "plat-b", kProfile, kSync, kNow).allowed);
  EXPECT_TRUE(index.Check(kAlice, "plat-a", "plat-z", kProfile, kSync, kNow).allowed);
  EXPECT_FALSE(index.Check(kAlice, "plat-b", "plat-a", kProfile, kSync, kNow).allowed);
}

TEST(ConsentIndex, ExpiryIsCheckedAtTheMomentOfUse) {
  ConsentIndex index;
  const int64_t expires = kNow + kHour;
  index.Upsert(Consent("c-1", kAlice, "plat-a", "plat-b", {kProfile}, {kSync}, expires));
  EXPECT_TRUE(index.Check(kAlice, "plat-a", "plat-b", kProfile, kSync, expires - 1).allowed);
  Decision at = index.Check(kAlice, "plat-a", "plat-b", kProfile, kSync, expires);
  EXPECT_FALSE(at.allowed) << "a consent is over at its expiry instant";
  EXPECT_EQ(at.consent_id, "c-1");
  EXPECT_EQ(at.reason, "consent c-1 expired at 2023-11-14T23:13:20Z; ask the person to grant it again");
  EXPECT_FALSE(index.Check(kAlice, "plat-a", "plat-b", kProfile, kSync, expires + kHour).allowed);
}

TEST(ConsentIndex, RevocationReplacesTheEntryAndIsNamed) {
  ConsentIndex index;
  ConsentRecord r = Consent("c-1", kAlice, "plat-a", "plat-b", {kProfile}, {kSync}, kNow + kHour);
  index.Upsert(r);
  r.set_revoked_at_micros(kNow - 1);
  index.Upsert(r);
  EXPECT_EQ(index.size(), 1u);
  Decision d = index.Check(kAlice, "plat-a", "plat-b", kProfile, kSync, kNow);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.consent_id, "c-1");
  EXPECT_THAT(d.reason, HasSubstr("consent c-1 was revoked at 2023-11-14T22:13:19Z"));
}

TEST(ConsentIndex, ARevocationIsReportedBeforeAnExpiry) {
  ConsentIndex index;
  index.Upsert(Consent("c-old", kAlice, "plat-a", "plat-b", {kProfile}, {kSync}, kNow - kHour));
  ConsentRecord revoked = Consent("c-rev", kAlice, "plat-a", "plat-b", {kProfile}, {kSync}, kNow + kHour);
  revoked.set_revoked_at_micros(kNow - 1);
  index.Upsert(revoked);
  Decision d = index.Check(kAlice, "plat-a", "plat-b", kProfile, kSync, kNow);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.consent_id, "c-rev");
}

TEST(ConsentIndex, AnyLiveConsentAllowsAndTheLongestIsNamed) {
  ConsentIndex index;
  index.Upsert(Consent("c-expired", kAlice, "plat-a", "plat-b", {kProfile}, {kSync}, kNow - 1));
  index.Upsert(Consent("c-short", kAlice, "plat-a", "plat-b", {kProfile}, {kSync}, kNow + kHour));
  index.Upsert(Consent("c-long", kAlice, "plat-a", "", {kProfile}, {kSync}, kNow + 5 * kHour));
  index.Upsert(Consent("c-mid", kAlice, "plat-a", "plat-b", {kProfile}, {kSync}, kNow + 2 * kHour));
  Decision d = index.Check(kAlice, "plat-a", "plat-b", kProfile, kSync, kNow);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.consent_id, "c-long");
  EXPECT_EQ(d.expires_at_micros, kNow + 5 * kHour);
  EXPECT_EQ(index.size(), 4u);
}

// Allowed answers for all of an event's categories at once what Check answers for each.
TEST(ConsentIndex, AllowedGroupsWhatCheckAllowsByConsent) {
  ConsentIndex index;
  constexpr auto kPurchases = fedhub::v1::DATA_CATEGORY_PURCHASES;
  constexpr auto kInterests = fedhub::v1::DATA_CATEGORY_INTERESTS;
  index.Upsert(Consent("c-wide", kAlice, "plat-a", "", {kProfile, kLearning, kInterests}, {kSync}, kNow + kHour));
  index.Upsert(Consent("c-long", kAlice, "plat-a", "plat-b", {kLearning}, {kSync}, kNow + 3 * kHour));
  index.Upsert(Consent("c-expired", kAlice, "plat-a", "plat-b", {kContact}, {kSync}, kNow - 1));
  index.Upsert(Consent("c-analytics", kAlice, "plat-a", "plat-b", {kPurchases}, {kAnalytics}, kNow + kHour));
  ConsentRecord revoked = Consent("c-revoked", kAlice, "plat-a", "plat-b", {kInterests}, {kSync}, kNow + 9 * kHour);
  revoked.set_revoked_at_micros(kNow - 1);
  index.Upsert(revoked);
  index.Upsert(Consent("c-other-source", kAlice, "plat-c", "plat-b", {kContact}, {kSync}, kNow + kHour));

  uint32_t all = 0;
  for (int c = 1; c <= 5; ++c) all |= 1u << c;
  std::vector<ConsentIndex::Grant> grants;
  uint32_t allowed = index.Allowed(kAlice, "plat-a", "plat-b", all, kSync, kNow, &grants);
  EXPECT_EQ(allowed, (1u << kProfile) | (1u << kLearning) | (1u << kInterests));
  ASSERT_EQ(grants.size(), 2u);
  std::map<std::string, uint32_t> by_consent;
  for (const auto& g : grants) by_consent[*g.consent_id] = g.categories;
  EXPECT_EQ(by_consent["c-wide"], (1u << kProfile) | (1u << kInterests));
  EXPECT_EQ(by_consent["c-long"], 1u << kLearning);
  for (int c = 1; c <= 5; ++c) {
    Decision d = index.Check(kAlice, "plat-a", "plat-b", static_cast<fedhub::v1::DataCategory>(c), kSync, kNow);
    EXPECT_EQ(d.allowed, (allowed & (1u << c)) != 0) << "category " << c;
    if (d.allowed) EXPECT_EQ(by_consent[d.consent_id] & (1u << c), 1u << c) << "category " << c;
  }

  // Only the categories asked about; nothing for another subject or target; appends.
  grants.clear();
  EXPECT_EQ(index.Allowed(kAlice, "plat-a", "plat-b", 1u << kLearning, kSync, kNow, &grants), 1u << kLearning);
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(*grants[0].consent_id, "c-long");
  EXPECT_EQ(grants[0].expires_at_micros, kNow + 3 * kHour);
  EXPECT_EQ(index.Allowed(kBob, "plat-a", "plat-b", all, kSync, kNow, &grants), 0u);
  EXPECT_EQ(index.Allowed(kAlice, "plat-a", "plat-z", all, kSync, kNow, &grants),
            (1u << kProfile) | (1u << kLearning) | (1u << kInterests));
  EXPECT_EQ(grants.size(), 2u);  // one more: c-wide, for plat-z
  EXPECT_EQ(index.Allowed(kAlice, "plat-a", "plat-b", all, kSync, kNow + 2 * kHour, &grants), 1u << kLearning);
}

TEST(ConsentIndex, ManySubjectsStayApart) {
  ConsentIndex index;
  for (int i = 0; i < 100; ++i) {
    std::string subject(16, static_cast<char>(i));
    index.Upsert(Consent("c-" + std::to_string(i), subject, "plat-a", "plat-b", {kProfile}, {kSync},
                         kNow + kHour));
  }
  EXPECT_EQ(index.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    Decision d = index.Check(std::string(16, static_cast<char>(i)), "plat-a", "plat-b", kProfile,
                             kSync, kNow);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.consent_id, "c-" + std::to_string(i));
  }
}

TEST(ConsentIndex, FormatMicrosIsRfc3339Utc) {
  EXPECT_EQ(FormatMicros(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatMicros(kNow + 999999), "2023-11-14T22:13:20Z");
}

using ConsentIndexLoadTest = DomainTest;

TEST_F(ConsentIndexLoadTest, LoadsTheStoredConsents) {
  ConsentRecord live = Consent("c-1", kAlice, "plat-a", "plat-b", {kProfile}, {kSync}, kNow + kHour);
  ConsentRecord revoked = Consent("c-2", kBob, "plat-a", "", {kContact}, {kSync}, kNow + kHour);
  revoked.set_revoked_at_micros(kNow - 1);
  ASSERT_TRUE(store_->Commit([&](storage::Txn& txn) {
                      txn.Put(storage::Cf::kConsents, live.consent_id(), live.SerializeAsString());
                      txn.Put(storage::Cf::kConsents, revoked.consent_id(), revoked.SerializeAsString());
                      return absl::OkStatus();
                    }).ok());
  ConsentIndex index;
  ASSERT_TRUE(index.Load(*store_).ok());
  EXPECT_EQ(index.size(), 2u);
  EXPECT_TRUE(index.Check(kAlice, "plat-a", "plat-b", kProfile, kSync, kNow).allowed);
  EXPECT_FALSE(index.Check(kBob, "plat-a", "plat-b", kContact, kSync, kNow).allowed);
}

TEST_F(ConsentIndexLoadTest, AnUnreadableRecordIsDataLoss) {
  ASSERT_TRUE(store_->RawPutForTesting(storage::Cf::kConsents, "c-bad", "\xff\xff\xff").ok());
  ConsentIndex index;
  absl::Status s = index.Load(*store_);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("c-bad"));
}

}  // namespace
}  // namespace fedhub::consent
