// ConsentService error paths: each refusal has its exact status code and a message that
// says what to fix, leaves no record behind (ledger head, consents and the person's
// record unchanged), and is itself audited.
#include <google/protobuf/util/time_util.h>

#include <functional>

#include "it_util.h"

namespace fedhub::testing {
namespace {

using google::protobuf::util::TimeUtil;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Code = absl::StatusCode;

constexpr int64_t kDayMicros = int64_t{24} * 3600 * 1000000;

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

v1::GrantConsentRequest ValidGrant(const std::string& user) {
  v1::GrantConsentRequest r;
  r.mutable_user()->set_local_user_id(user);
  r.set_target_platform_id("store");
  r.add_categories(v1::DATA_CATEGORY_LEARNING);
  r.add_purposes(v1::PURPOSE_SYNC);
  r.mutable_evidence()->set_method("web-form");
  return r;
}

struct GrantCase {
  std::string name;
  std::function<void(v1::GrantConsentRequest&)> mutate;
  Code code;
  std::string message;
};

void PrintTo(const GrantCase& c, std::ostream* os) { *os << c.name; }

std::vector<GrantCase> GrantCases() {
  return {
      {"EmptyUser", [](auto& r) { r.mutable_user()->clear_local_user_id(); }, Code::kInvalidArgument,
       "user.local_user_id is required"},
      {"UserWithSpace", [](auto& r) { r.mutable_user()->set_local_user_id("u 1"); },
       Code::kInvalidArgument, "use printable ASCII without spaces"},
      {"UserTooLong", [](auto& r) { r.mutable_user()->set_local_user_id(std::string(129, 'u')); },
       Code::kInvalidArgument, "at most 128 are allowed"},
      {"MalformedTarget", [](auto& r) { r.set_target_platform_id("Store!"); }, Code::kInvalidArgument,
       "target_platform_id \"Store!\" must start with a lowercase letter"},
      {"TargetIsCaller", [](auto& r) { r.set_target_platform_id("course"); }, Code::kInvalidArgument,
       "target_platform_id is the calling platform itself"},
      {"UnknownTarget", [](auto& r) { r.set_target_platform_id("nowhere"); }, Code::kNotFound,
       "target platform nowhere is not a registered, active member platform"},
      {"TargetNotAPlatform", [](auto& r) { r.set_target_platform_id("auditor"); }, Code::kNotFound,
       "target platform auditor is not a registered, active member platform"},
      {"NoCategories", [](auto& r) { r.clear_categories(); }, Code::kInvalidArgument,
       "categories must name at least one value"},
      {"UnspecifiedCategory", [](auto& r) { r.add_categories(v1::DATA_CATEGORY_UNSPECIFIED); },
       Code::kInvalidArgument, "categories has an unspecified or unknown value 0"},
      {"UnknownCategory", [](auto& r) { r.add_categories(static_cast<v1::DataCategory>(99)); },
       Code::kInvalidArgument, "categories has an unspecified or unknown value 99"},
      {"DuplicateCategory", [](auto& r) { r.add_categories(v1::DATA_CATEGORY_LEARNING); },
       Code::kInvalidArgument, "categories names DATA_CATEGORY_LEARNING twice"},
      {"NoPurposes", [](auto& r) { r.clear_purposes(); }, Code::kInvalidArgument,
       "purposes must name at least one value"},
      {"UnknownPurpose", [](auto& r) { r.add_purposes(static_cast<v1::Purpose>(42)); },
       Code::kInvalidArgument, "purposes has an unspecified or unknown value 42"},
      {"DuplicatePurpose", [](auto& r) { r.add_purposes(v1::PURPOSE_SYNC); }, Code::kInvalidArgument,
       "purposes names PURPOSE_SYNC twice"},
      {"ExpiryInThePast",
       [](auto& r) { *r.mutable_expires_at() = TimeUtil::MicrosecondsToTimestamp(NowMicros() - kDayMicros); },
       Code::kInvalidArgument, "is not in the future"},
      {"ExpiryBeyondMaximum",
       [](auto& r) {
         *r.mutable_expires_at() = TimeUtil::MicrosecondsToTimestamp(NowMicros() + 731 * kDayMicros);
       },
       Code::kInvalidArgument, "is later than the hub's maximum consent lifetime"},
      {"EvidenceMissing", [](auto& r) { r.clear_evidence(); }, Code::kInvalidArgument,
       "evidence.method is required"},
      {"EvidenceMethodTooLong", [](auto& r) { r.mutable_evidence()->set_method(std::string(65, 'm')); },
       Code::kInvalidArgument, "evidence.method is limited to 64 bytes"},
      {"EvidenceFromTheFuture",
       [](auto& r) {
         *r.mutable_evidence()->mutable_collected_at() =
             TimeUtil::MicrosecondsToTimestamp(NowMicros() + kDayMicros);
       },
       Code::kInvalidArgument, "evidence.collected_at is in the future"},
  };
}

class GrantValidationTest : public HubTest, public ::testing::WithParamInterface<GrantCase> {};

TEST_P(GrantValidationTest, IsRefusedWithoutARecordAndAudited) {
  const GrantCase& c = GetParam();
  const std::string user = "u-refused";
  v1::GrantConsentRequest req = ValidGrant(user);
  c.mutate(req);
  v1::ChainHead ledger_before = Head(v1::CHAIN_LEDGER);
  v1::ChainHead audit_before = Head(v1::CHAIN_AUDIT);

  EXPECT_THAT(course().GrantConsent(req), StatusIs(c.code, HasSubstr(c.message)));

  EXPECT_EQ(Head(v1::CHAIN_LEDGER).head_hash(), ledger_before.head_hash());
  std::vector<std::string> never;
  if (!req.user().local_user_id().empty()) never.push_back(req.user().local_user_id());
  ExpectRefusalAudited("course", "consent.grant", c.code, audit_before.size(), never);
  // No person record was created for the user named in the refused grant.
  auto subject = hub_->hub()->linker().Resolve("course", req.user().local_user_id());
  ASSERT_TRUE(subject.ok()) << subject.status();
  EXPECT_FALSE(subject->has_value());
  auto listed = course().ListAllConsents(user, true);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_THAT(*listed, IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(Grant, GrantValidationTest, ::testing::ValuesIn(GrantCases()),
                         [](const auto& info) { return info.param.name; });

class ConsentValidationTest : public HubTest {
 protected:
  void SetUp() override {
    HubTest::SetUp();
    if (HasFatalFailure()) return;
    auto granted = course().GrantConsent(Grant("u-1", "store"));
    ASSERT_TRUE(granted.ok()) << granted.status();
    consent_id_ = granted->consent().consent_id();
  }

  // Runs `call`, expects the refusal, an unchanged ledger and one audited refusal.
  // The refusal's message and audit entry never quote the local user ids used here.
  template <typename Call>
  void ExpectRefused(Client& who, const std::string& actor, const std::string& action, Call call,
                     Code code, const std::string& message) {
    v1::ChainHead ledger_before = Head(v1::CHAIN_LEDGER);
    v1::ChainHead audit_before = Head(v1::CHAIN_AUDIT);
    absl::Status s = call(who);
    EXPECT_THAT(s, StatusIs(code, HasSubstr(message)));
    for (const char* user : {"u-1", "u-unlinked"}) {
      EXPECT_THAT(std::string(s.message()), ::testing::Not(HasSubstr(user)));
    }
    EXPECT_EQ(Head(v1::CHAIN_LEDGER).head_hash(), ledger_before.head_hash());
    ExpectRefusalAudited(actor, action, code, audit_before.size(), {"u-1", "u-unlinked"});
  }

  std::string consent_id_;
};

TEST_F(ConsentValidationTest, RevokeRefusals) {
  auto revoke = [](const std::string& id, const std::string& user) {
    return [=](Client& c) { return c.RevokeConsent(id, user).status(); };
  };
  ExpectRefused(course(), "course", "consent.revoke", revoke(consent_id_, ""), Code::kInvalidArgument,
                "user.local_user_id is required");
  ExpectRefused(course(), "course", "consent.revoke", revoke("", "u-1"), Code::kInvalidArgument,
                "consent_id \"\" is malformed");
  ExpectRefused(course(), "course", "consent.revoke", revoke("c-XYZ", "u-1"), Code::kInvalidArgument,
                "consent_id \"c-XYZ\" is malformed");
  const std::string unknown = "c-" + std::string(32, '0');
  ExpectRefused(course(), "course", "consent.revoke", revoke(unknown, "u-1"), Code::kNotFound,
                Cat("consent ", unknown, " not found for the user in user.local_user_id"));
  // A user the hub does not know (never named by this platform, not linked).
  ExpectRefused(course(), "course", "consent.revoke", revoke(consent_id_, "u-unlinked"),
                Code::kNotFound, Cat("consent ", consent_id_, " not found for the user in user.local_user_id"));

  FEDHUB_ASSERT_OK(course().RevokeConsent(consent_id_, "u-1"));
  ExpectRefused(course(), "course", "consent.revoke", revoke(consent_id_, "u-1"),
                Code::kFailedPrecondition, Cat("consent ", consent_id_, " was already revoked at "));
  auto listed = course().ListAllConsents("u-1", true);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].state(), v1::CONSENT_STATE_REVOKED);
}

TEST_F(ConsentValidationTest, CheckRefusals) {
  auto check = [](std::string user, std::string source, std::string target, int category, int purpose) {
    return [=](Client& c) {
      v1::CheckConsentRequest r;
      r.mutable_user()->set_local_user_id(user);
      r.set_source_platform_id(source);
      r.set_target_platform_id(target);
      r.set_category(static_cast<v1::DataCategory>(category));
      r.set_purpose(static_cast<v1::Purpose>(purpose));
      return c.CheckConsent(r).status();
    };
  };
  const int kLearning = v1::DATA_CATEGORY_LEARNING, kSync = v1::PURPOSE_SYNC;
  ExpectRefused(course(), "course", "consent.check", check("", "course", "store", kLearning, kSync),
                Code::kInvalidArgument, "user.local_user_id is required");
  ExpectRefused(course(), "course", "consent.check", check("u-1", "", "store", kLearning, kSync),
                Code::kInvalidArgument, "source_platform_id is required");
  ExpectRefused(course(), "course", "consent.check", check("u-1", "course", "No", kLearning, kSync),
                Code::kInvalidArgument, "target_platform_id \"No\" must start with a lowercase letter");
  ExpectRefused(course(), "course", "consent.check", check("u-1", "store", "books", kLearning, kSync),
                Code::kPermissionDenied, "a platform may only check flows it takes part in");
  ExpectRefused(course(), "course", "consent.check", check("u-1", "course", "store", 0, kSync),
                Code::kInvalidArgument, "category is required");
  ExpectRefused(course(), "course", "consent.check", check("u-1", "course", "store", 77, kSync),
                Code::kInvalidArgument, "category 77 is not a known DataCategory value");
  ExpectRefused(course(), "course", "consent.check", check("u-1", "course", "store", kLearning, 0),
                Code::kInvalidArgument, "purpose is required");
  ExpectRefused(course(), "course", "consent.check", check("u-1", "course", "store", kLearning, 9),
                Code::kInvalidArgument, "purpose 9 is not a known Purpose value");
}

TEST_F(ConsentValidationTest, ListRefusals) {
  auto list = [](std::string user, int page_size, std::string token) {
    return [=](Client& c) {
      v1::ListConsentsRequest r;
      r.mutable_user()->set_local_user_id(user);
      r.mutable_page()->set_page_size(page_size);
      r.mutable_page()->set_page_token(token);
      return c.ListConsents(r).status();
    };
  };
  ExpectRefused(course(), "course", "consent.list", list("", 0, ""), Code::kInvalidArgument,
                "user.local_user_id is required");
  ExpectRefused(course(), "course", "consent.list", list("u-1", 1001, ""), Code::kInvalidArgument,
                "page.page_size 1001 is out of range; use 1 to 1000");
  ExpectRefused(course(), "course", "consent.list", list("u-1", -1, ""), Code::kInvalidArgument,
                "page.page_size -1 is out of range");
  ExpectRefused(course(), "course", "consent.list", list("u-1", 10, "not-a-token"),
                Code::kInvalidArgument, "page.page_token is not one this hub issued; start without one");
}

TEST_F(ConsentValidationTest, AuditReadRefusals) {
  EXPECT_THAT(auditor().GetChainHead(v1::CHAIN_UNSPECIFIED),
              StatusIs(Code::kInvalidArgument, HasSubstr("chain is required: CHAIN_AUDIT or CHAIN_LEDGER")));
  EXPECT_THAT(auditor().VerifyChain(static_cast<v1::Chain>(7)),
              StatusIs(Code::kInvalidArgument, HasSubstr("chain is required")));
  EXPECT_THAT(auditor().ListChainEntries(v1::CHAIN_LEDGER, 1, 1001),
              StatusIs(Code::kInvalidArgument, HasSubstr("page_size must be 1 to 1000, or 0 for 100")));
  EXPECT_THAT(auditor().ListChainEntries(v1::CHAIN_LEDGER, 1, -1),
              StatusIs(Code::kInvalidArgument, HasSubstr("page_size must be 1 to 1000")));
  // Past the end: an empty page, nothing to ask for next, and the head as it is.
  auto past = auditor().ListChainEntries(v1::CHAIN_LEDGER, 1000, 10);
  ASSERT_TRUE(past.ok()) << past.status();
  EXPECT_EQ(past->entries_size(), 0);
  EXPECT_EQ(past->next_sequence(), 0u);
  EXPECT_EQ(past->head().size(), 1u);
  // Paging: start 0 means 1, and next_sequence walks the chain.
  auto first = auditor().ListChainEntries(v1::CHAIN_AUDIT, 0, 2);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->entries_size(), 2);
  EXPECT_EQ(first->entries(0).sequence(), 1u);
  EXPECT_EQ(first->next_sequence(), 3u);
}

TEST_F(ConsentValidationTest, WatchIsForPlatformsOnly) {
  v1::ChainHead audit_before = Head(v1::CHAIN_AUDIT);
  WatchCollector watch(auditor().WatchConsents(v1::WatchConsentsRequest()));
  auto end = watch.WaitEnd();
  ASSERT_TRUE(end.has_value());
  EXPECT_THAT(*end, StatusIs(Code::kPermissionDenied, HasSubstr("WatchConsents is for ROLE_PLATFORM")));
  EXPECT_TRUE(watch.changes().empty());
  ExpectRefusalAudited("auditor", "consent.watch", Code::kPermissionDenied, audit_before.size());
}

class ShortLifetimeTest : public HubTest {
 protected:
  TestHubOptions Options() override {
    TestHubOptions o;
    o.configure = [](config::HubConfig& c) { c.max_consent_days = 2; };
    return o;
  }
};

TEST_F(ShortLifetimeTest, TheHubsMaximumLifetimeBoundsAndDefaultsExpiry) {
  auto granted = course().GrantConsent(Grant("u-1", "store"));
  ASSERT_TRUE(granted.ok()) << granted.status();
  EXPECT_EQ(TimeUtil::TimestampToMicroseconds(granted->consent().expires_at()) -
                TimeUtil::TimestampToMicroseconds(granted->consent().granted_at()),
            2 * kDayMicros);
  ConsentGrant too_long = Grant("u-1", "store");
  too_long.expires_at = std::chrono::system_clock::now() + std::chrono::hours(24 * 3);
  EXPECT_THAT(course().GrantConsent(too_long),
              StatusIs(Code::kInvalidArgument, HasSubstr("is later than the hub's maximum consent lifetime")));
  ConsentGrant within = Grant("u-1", "store");
  within.expires_at = std::chrono::system_clock::now() + std::chrono::hours(24);
  FEDHUB_ASSERT_OK(course().GrantConsent(within));
}

}  // namespace
}  // namespace fedhub::testing
