// The registry of principals: registration, suspension, reinstatement and
// authentication, each change audited.
#include "registry/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "domain_fixture.h"

namespace fedhub::registry {
namespace {

using fedhub::testing::DomainTest;
using fedhub::v1::Principal;
using ::testing::HasSubstr;

Principal MakePrincipal(const std::string& id, fedhub::v1::Role role, const std::string& bound = "") {
  Principal p;
  p.set_id(id);
  p.set_role(role);
  p.set_display_name("Display " + id);
  p.set_bound_platform_id(bound);
  return p;
}

using RegistryTest = DomainTest;

TEST_F(RegistryTest, RegisterStoresAnActivePrincipal) {
  auto p = registry_->Register(Admin(), MakePrincipal("course", fedhub::v1::ROLE_PLATFORM));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->status(), fedhub::v1::PRINCIPAL_STATUS_ACTIVE);
  EXPECT_GT(p->registered_at().seconds(), 0);
  EXPECT_EQ(p->display_name(), "Display course");

  auto got = registry_->Get("course");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->SerializeAsString(), p->SerializeAsString());
  EXPECT_TRUE(registry_->IsActivePlatform("course"));

  fedhub::v1::AuditRecord a = LastAudit();
  EXPECT_EQ(a.action(), "registry.register");
  EXPECT_EQ(a.actor_id(), "operator");
  EXPECT_EQ(a.outcome(), fedhub::v1::AUDIT_OUTCOME_ALLOWED);
  EXPECT_EQ(a.counterparty_id(), "course");
}

TEST_F(RegistryTest, RegistrationSurvivesReopening) {
  ASSERT_NO_FATAL_FAILURE(RegisterPlatform("course"));
  ASSERT_TRUE(registry_->SetStatus(Admin(), "course", fedhub::v1::PRINCIPAL_STATUS_SUSPENDED,
                                   "unpaid").ok());
  ASSERT_NO_FATAL_FAILURE(ReopenDomain());
  auto got = registry_->Get("course");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->status(), fedhub::v1::PRINCIPAL_STATUS_SUSPENDED);
  EXPECT_EQ(got->status_reason(), "unpaid");
}

TEST_F(RegistryTest, RefusedRegistrationsAreAuditedAndStoreNothing) {
  struct Case {
    Principal principal;
    absl::StatusCode code;
  } cases[] = {
      {MakePrincipal("Bad_Id", fedhub::v1::ROLE_PLATFORM), absl::StatusCode::kInvalidArgument},
      {MakePrincipal("", fedhub::v1::ROLE_PLATFORM), absl::StatusCode::kInvalidArgument},
      {MakePrincipal("norole", fedhub::v1::ROLE_UNSPECIFIED), absl::StatusCode::kInvalidArgument},
      {MakePrincipal("recs", fedhub::v1::ROLE_RECOMMENDER), absl::StatusCode::kInvalidArgument},
      {MakePrincipal("recs", fedhub::v1::ROLE_RECOMMENDER, "nowhere"),
       absl::StatusCode::kFailedPrecondition},
      {MakePrincipal("plat", fedhub::v1::ROLE_PLATFORM, "course"), absl::StatusCode::kInvalidArgument},
      {MakePrincipal("operator", fedhub::v1::ROLE_ADMIN), absl::StatusCode::kAlreadyExists},
  };
  for (const Case& c : cases) {
    uint64_t audit_before = AuditSize();
    auto r = registry_->Register(Admin(), c.principal);
    ASSERT_FALSE(r.ok()) << c.principal.ShortDebugString();
    EXPECT_EQ(r.status().code(), c.code) << c.principal.ShortDebugString() << ": " << r.status();
    EXPECT_FALSE(registry_->Get(c.principal.id()).ok());
    EXPECT_EQ(AuditSize(), audit_before + 1);
    EXPECT_EQ(LastAudit().outcome(), fedhub::v1::AUDIT_OUTCOME_DENIED);
  }
  EXPECT_TRUE(registry_->List(fedhub::v1::ROLE_UNSPECIFIED, 0, "")->principals.empty());
}

TEST_F(RegistryTest, DuplicateIdIsRefused) {
  ASSERT_NO_FATAL_FAILURE(RegisterPlatform("course"));
  auto again = registry_->Register(Admin(), MakePrincipal("course", fedhub::v1::ROLE_AUDITOR));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry_->Get("course")->role(), fedhub::v1::ROLE_PLATFORM);
}

TEST_F(RegistryTest, RecommenderIsBoundToAnActivePlatform) {
  ASSERT_NO_FATAL_FAILURE(RegisterPlatform("course"));
  auto recs = registry_->Register(Admin(), MakePrincipal("recs", fedhub::v1::ROLE_RECOMMENDER, "course"));
  ASSERT_TRUE(recs.ok()) << recs.status();
  auto caller = registry_->Authenticate(fedhub::v1::ROLE_RECOMMENDER, "recs");
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->bound_platform_id, "course");
  EXPECT_FALSE(registry_->IsActivePlatform("recs"));
}

TEST_F(RegistryTest, AuthenticateAcceptsOnlyRegisteredActivePrincipalsInTheirRole) {
  ASSERT_NO_FATAL_FAILURE(RegisterPlatform("course"));
  auto ok = registry_->Authenticate(fedhub::v1::ROLE_PLATFORM, "course");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->id, "course");
  EXPECT_EQ(ok->role, fedhub::v1::ROLE_PLATFORM);

  auto unknown = registry_->Authenticate(fedhub::v1::ROLE_PLATFORM, "stranger");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("not registered"));

  auto wrong_role = registry_->Authenticate(fedhub::v1::ROLE_AUDITOR, "course");
  ASSERT_FALSE(wrong_role.ok());
  EXPECT_EQ(wrong_role.status().code(), absl::StatusCode::kUnauthenticated);

  // Bootstrap operators are admins without a record, and only admins.
  auto op = registry_->Authenticate(fedhub::v1::ROLE_ADMIN, "operator");
  ASSERT_TRUE(op.ok()) << op.status();
  EXPECT_EQ(op->role, fedhub::v1::ROLE_ADMIN);
  EXPECT_FALSE(registry_->Authenticate(fedhub::v1::ROLE_PLATFORM, "operator").ok());
}

TEST_F(RegistryTest, SuspendedPrincipalIsRefusedUntilReinstated) {
  ASSERT_NO_FATAL_FAILURE(RegisterPlatform("course"));
  auto suspended = registry_->SetStatus(Admin(), "course", fedhub::v1::PRINCIPAL_STATUS_SUSPENDED,
                                        "certificate leaked");
  ASSERT_TRUE(suspended.ok()) << suspended.status();
  EXPECT_EQ(suspended->status(), fedhub::v1::PRINCIPAL_STATUS_SUSPENDED);
  EXPECT_EQ(LastAudit().action(), "registry.suspend");

  auto refused = registry_->Authenticate(fedhub::v1::ROLE_PLATFORM, "course");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("suspended"));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("certificate leaked"));
  EXPECT_FALSE(registry_->IsActivePlatform("course"));

  auto twice = registry_->SetStatus(Admin(), "course", fedhub::v1::PRINCIPAL_STATUS_SUSPENDED, "again");
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kFailedPrecondition);

  auto reinstated = registry_->SetStatus(Admin(), "course", fedhub::v1::PRINCIPAL_STATUS_ACTIVE,
                                         "new certificate issued");
  ASSERT_TRUE(reinstated.ok()) << reinstated.status();
  EXPECT_EQ(LastAudit().action(), "registry.reinstate");
  EXPECT_TRUE(registry_->Authenticate(fedhub::v1::ROLE_PLATFORM, "course").ok());
  EXPECT_TRUE(registry_->IsActivePlatform("course"));
}

TEST_F(RegistryTest, StatusChangesNeedAReasonAndAKnownPrincipal) {
  ASSERT_NO_FATAL_FAILURE(RegisterPlatform("course"));
  EXPECT_EQ(registry_->SetStatus(Admin(), "course", fedhub::v1::PRINCIPAL_STATUS_SUSPENDED, "")
                .status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->SetStatus(Admin(), "ghost", fedhub::v1::PRINCIPAL_STATUS_SUSPENDED, "why")
                .status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(LastAudit().outcome(), fedhub::v1::AUDIT_OUTCOME_DENIED);
  ASSERT_TRUE(registry_->Register(Admin(), MakePrincipal("ops", fedhub::v1::ROLE_ADMIN)).ok());
  Caller ops{"ops", fedhub::v1::ROLE_ADMIN, ""};
  EXPECT_EQ(registry_->SetStatus(ops, "ops", fedhub::v1::PRINCIPAL_STATUS_SUSPENDED, "oops")
                .status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(registry_->IsActivePlatform("course"));
}

TEST_F(RegistryTest, ListPagesInIdOrderAndFiltersByRole) {
  for (const char* id : {"p5", "p1", "p3", "p2", "p4"}) ASSERT_NO_FATAL_FAILURE(RegisterPlatform(id));
  ASSERT_TRUE(registry_->Register(Admin(), MakePrincipal("audit", fedhub::v1::ROLE_AUDITOR)).ok());

  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = registry_->List(fedhub::v1::ROLE_PLATFORM, 2, token);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& p : page->principals) seen.push_back(p.id());
    token = page->next_page_token;
    ASSERT_LT(++pages, 10);
  } while (!token.empty());
  EXPECT_EQ(seen, (std::vector<std::string>{"p1", "p2", "p3", "p4", "p5"}));
  EXPECT_EQ(pages, 3);

  auto all = registry_->List(fedhub::v1::ROLE_UNSPECIFIED, 0, "");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->principals.size(), 6u);
  EXPECT_EQ(registry_->List(fedhub::v1::ROLE_PLATFORM, 1001, "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fedhub::registry
