// Isolation between callers: a platform reaches only its own users and learns nothing
// about other platforms' consents; every role stays inside what it may do; a certificate
// the CA issued is still refused unless the registry knows its principal in that role.
#include "devcerts/devcerts.h"
#include "it_util.h"

namespace fedhub::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Code = absl::StatusCode;

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

class IsolationTest : public HubTest {
 protected:
  void SetUp() override {
    HubTest::SetUp();
    if (HasFatalFailure()) return;
    // course records a consent for its user u-1 towards books; store is not involved.
    auto granted = course().GrantConsent(Grant("u-1", "books"));
    ASSERT_TRUE(granted.ok()) << granted.status();
    foreign_id_ = granted->consent().consent_id();
    // store has a user of its own, s-1, with a consent of its own.
    FEDHUB_ASSERT_OK(store().GrantConsent(Grant("s-1", "books")));
  }

  void ExpectStillActive() {
    auto d = course().CheckConsent("u-1", "course", "books", v1::DATA_CATEGORY_LEARNING, v1::PURPOSE_SYNC);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_TRUE(d->allowed());
  }

  std::string foreign_id_;
};

TEST_F(IsolationTest, APlatformCannotListAnotherPlatformsUsers) {
  // "u-1" in store's namespace is not course's u-1.
  auto listed = store().ListAllConsents("u-1", true);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_THAT(*listed, IsEmpty());
  auto own = store().ListAllConsents("s-1", true);
  ASSERT_TRUE(own.ok());
  ASSERT_EQ(own->size(), 1u);
  EXPECT_NE((*own)[0].consent_id(), foreign_id_);
}

TEST_F(IsolationTest, RevokingAnotherPlatformsConsentLooksLikeAnUnknownConsent) {
  const std::string unknown = "c-" + std::string(32, 'a');
  for (const std::string user : {"s-1", "u-1", "s-never-named"}) {
    SCOPED_TRACE(user);
    auto existing = store().RevokeConsent(foreign_id_, user);
    auto missing = store().RevokeConsent(unknown, user);
    ASSERT_FALSE(existing.ok());
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(existing.status().code(), Code::kNotFound);
    EXPECT_EQ(missing.status().code(), Code::kNotFound);
    EXPECT_EQ(Replace(std::string(existing.status().message()), foreign_id_, "<id>"),
              Replace(std::string(missing.status().message()), unknown, "<id>"));
  }
  ExpectStillActive();
}

TEST_F(IsolationTest, CheckingAnotherPlatformsFlowIsDeniedAlike) {
  // store is neither source nor target of course -> books.
  auto existing = store().CheckConsent("u-1", "course", "books", v1::DATA_CATEGORY_LEARNING, v1::PURPOSE_SYNC);
  auto missing = store().CheckConsent("u-zz", "course", "books", v1::DATA_CATEGORY_LEARNING, v1::PURPOSE_SYNC);
  EXPECT_THAT(existing, StatusIs(Code::kPermissionDenied, HasSubstr("may only check flows it takes part in")));
  EXPECT_EQ(existing.status(), missing.status());

  // As a would-be target, store learns only that it cannot name the person.
  auto as_target = store().CheckConsent("u-1", "course", "store", v1::DATA_CATEGORY_LEARNING, v1::PURPOSE_SYNC);
  auto nobody = store().CheckConsent("u-zz", "course", "store", v1::DATA_CATEGORY_LEARNING, v1::PURPOSE_SYNC);
  ASSERT_TRUE(as_target.ok());
  ASSERT_TRUE(nobody.ok());
  EXPECT_FALSE(as_target->allowed());
  EXPECT_EQ(Replace(as_target->reason(), "u-1", "<u>"), Replace(nobody->reason(), "u-zz", "<u>"));
  ExpectStillActive();
}

TEST_F(IsolationTest, AnAuditorCannotWrite) {
  Client& a = auditor();
  auto denied = HasSubstr("; auditor is ROLE_AUDITOR");
  uint64_t audit_before = Head(v1::CHAIN_AUDIT).size();
  EXPECT_THAT(a.GrantConsent(Grant("u-1", "store")), StatusIs(Code::kPermissionDenied, denied));
  ExpectRefusalAudited("auditor", "consent.grant", Code::kPermissionDenied, audit_before);
  EXPECT_THAT(a.RevokeConsent(foreign_id_, "u-1"), StatusIs(Code::kPermissionDenied, denied));
  EXPECT_THAT(a.CheckConsent("u-1", "course", "books", v1::DATA_CATEGORY_LEARNING, v1::PURPOSE_SYNC),
              StatusIs(Code::kPermissionDenied, denied));
  EXPECT_THAT(a.ListAllConsents("u-1"), StatusIs(Code::kPermissionDenied, denied));
  EXPECT_THAT(a.CreateLinkTicket("u-1"), StatusIs(Code::kPermissionDenied, denied));
  EXPECT_THAT(a.RedeemLinkTicket("t", "u-1"), StatusIs(Code::kPermissionDenied, denied));
  EXPECT_THAT(a.UnlinkAccount("u-1"), StatusIs(Code::kPermissionDenied, denied));
  EXPECT_THAT(a.RegisterPrincipal(v1::Principal()), StatusIs(Code::kPermissionDenied, denied));
  EXPECT_THAT(a.SuspendPrincipal("course", "x"), StatusIs(Code::kPermissionDenied, denied));
  ExpectStillActive();
  auto v = a.VerifyChain(v1::CHAIN_LEDGER);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->ok());
}

TEST_F(IsolationTest, APlatformCannotCallOperatorOrAuditorRpcs) {
  Client& c = course();
  auto denied = HasSubstr("is for ROLE_ADMIN; course is ROLE_PLATFORM");
  uint64_t audit_before = Head(v1::CHAIN_AUDIT).size();
  v1::Principal p;
  p.set_id("evil");
  p.set_role(v1::ROLE_PLATFORM);
  EXPECT_THAT(c.RegisterPrincipal(p), StatusIs(Code::kPermissionDenied, denied));
  ExpectRefusalAudited("course", "registry.register", Code::kPermissionDenied, audit_before);
  EXPECT_THAT(c.SuspendPrincipal("store", "x"), StatusIs(Code::kPermissionDenied, denied));
  EXPECT_THAT(c.ReinstatePrincipal("store", "x"), StatusIs(Code::kPermissionDenied, denied));
  EXPECT_THAT(c.GetPrincipal("store"), StatusIs(Code::kPermissionDenied, denied));
  EXPECT_THAT(c.ListAllPrincipals(), StatusIs(Code::kPermissionDenied, denied));
  auto not_auditor = HasSubstr("is for ROLE_AUDITOR; course is ROLE_PLATFORM");
  EXPECT_THAT(c.GetChainHead(v1::CHAIN_AUDIT), StatusIs(Code::kPermissionDenied, not_auditor));
  EXPECT_THAT(c.ListChainEntries(v1::CHAIN_LEDGER, 1), StatusIs(Code::kPermissionDenied, not_auditor));
  EXPECT_THAT(c.VerifyChain(v1::CHAIN_LEDGER), StatusIs(Code::kPermissionDenied, not_auditor));
  EXPECT_THAT(admin().GetPrincipal("evil"), StatusIs(Code::kNotFound, ::testing::_));
}

TEST_F(IsolationTest, OperatorAndRecommenderStayInTheirRoles) {
  // The operator never reads personal data.
  EXPECT_THAT(admin().ListAllConsents("u-1"),
              StatusIs(Code::kPermissionDenied, HasSubstr("operator is ROLE_ADMIN")));
  EXPECT_THAT(admin().ListChainEntries(v1::CHAIN_AUDIT, 1), StatusIs(Code::kPermissionDenied, ::testing::_));
  Client recs = hub_->ClientFor("recs");
  EXPECT_THAT(recs.GrantConsent(Grant("u-1", "store")),
              StatusIs(Code::kPermissionDenied, HasSubstr("recs is ROLE_RECOMMENDER")));
  EXPECT_THAT(recs.RevokeConsent(foreign_id_, "u-1"), StatusIs(Code::kPermissionDenied, ::testing::_));
  ExpectStillActive();
}

TEST_F(IsolationTest, AnUnregisteredPrincipalIsRefusedAndAudited) {
  FEDHUB_ASSERT_OK(hub_->IssueCertificate("platform", "stranger"));
  Client stranger = hub_->ClientFor("stranger");
  uint64_t audit_before = Head(v1::CHAIN_AUDIT).size();
  EXPECT_THAT(stranger.GetHubInfo(),
              StatusIs(Code::kUnauthenticated,
                       HasSubstr("certificate names platform stranger, which is not registered; ask the hub "
                                 "operator to register it")));
  ExpectRefusalAudited("stranger", "hub.info", Code::kUnauthenticated, audit_before);
  EXPECT_THAT(stranger.GrantConsent(Grant("x-1", "store")), StatusIs(Code::kUnauthenticated, ::testing::_));
  EXPECT_THAT(stranger.RevokeConsent(foreign_id_, "u-1"), StatusIs(Code::kUnauthenticated, ::testing::_));
  ExpectStillActive();
}

class CertificateIdentityTest : public HubTest {
 protected:
  // A client certificate from the hub's CA with the given SPIFFE URI (may be empty) and CN.
  Client ClientWithLeaf(const std::string& name, const std::string& uri, const std::string& cn) {
    std::string cert = hub_->root_dir() + "/" + name + ".crt";
    std::string key = hub_->root_dir() + "/" + name + ".key";
    absl::Status s = devcerts::IssueLeaf(hub_->certs_dir(), cert, key, uri, cn, /*server=*/false);
    EXPECT_TRUE(s.ok()) << s;
    ClientOptions o = hub_->OptionsFor("course");
    o.cert_file = cert;
    o.key_file = key;
    auto c = Client::Connect(o);
    EXPECT_TRUE(c.ok()) << c.status();
    return *std::move(c);
  }
};

TEST_F(CertificateIdentityTest, TheRoleInTheCertificateMustMatchTheRegistry) {
  Client impostor = ClientWithLeaf("impostor", "spiffe://fedhub/platform/auditor", "auditor");
  EXPECT_THAT(impostor.ListAllConsents("u-1"),
              StatusIs(Code::kUnauthenticated,
                       HasSubstr("certificate names auditor as platform but it is registered as auditor")));
}

TEST_F(CertificateIdentityTest, AForeignTrustDomainIsRefused) {
  Client foreign = ClientWithLeaf("foreign", "spiffe://elsewhere/platform/course", "course");
  EXPECT_THAT(foreign.GetHubInfo(),
              StatusIs(Code::kUnauthenticated, HasSubstr("is not spiffe://fedhub/<role>/<id>")));
}

TEST_F(CertificateIdentityTest, ACommonNameAloneNamesARegisteredPrincipal) {
  Client by_cn = ClientWithLeaf("cn-only", "", "course");
  auto info = by_cn.GetHubInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->caller_id(), "course");
  EXPECT_EQ(info->caller_role(), v1::ROLE_PLATFORM);
  Client unknown_cn = ClientWithLeaf("cn-unknown", "", "ghost");
  EXPECT_THAT(unknown_cn.GetHubInfo(),
              StatusIs(Code::kUnauthenticated, HasSubstr("certificate CN ghost is not a registered principal")));
}

}  // namespace
}  // namespace fedhub::testing
