// RegistryService (operator) and LinkingService (platforms) over mutual TLS.
#include <google/protobuf/util/time_util.h>

#include "it_util.h"

namespace fedhub::testing {
namespace {

using google::protobuf::util::TimeUtil;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Code = absl::StatusCode;

v1::Principal P(const std::string& id, v1::Role role, const std::string& bound = "") {
  v1::Principal p;
  p.set_id(id);
  p.set_role(role);
  p.set_display_name("P " + id);
  p.set_bound_platform_id(bound);
  return p;
}

class RegistryTest : public HubTest {};

TEST_F(RegistryTest, RegisterGetAndDuplicate) {
  auto registered = admin().RegisterPrincipal(P("media", v1::ROLE_PLATFORM));
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_EQ(registered->status(), v1::PRINCIPAL_STATUS_ACTIVE);
  EXPECT_GT(registered->registered_at().seconds(), 0);
  auto got = admin().GetPrincipal("media");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), registered->SerializeAsString());

  auto audit = Last(v1::CHAIN_AUDIT);
  ASSERT_TRUE(audit.has_value());
  EXPECT_EQ(audit->audit().action(), "registry.register");
  EXPECT_EQ(audit->audit().actor_id(), "operator");
  EXPECT_EQ(audit->audit().counterparty_id(), "media");
  EXPECT_EQ(audit->audit().outcome(), v1::AUDIT_OUTCOME_ALLOWED);

  EXPECT_THAT(admin().RegisterPrincipal(P("media", v1::ROLE_AUDITOR)),
              StatusIs(Code::kAlreadyExists, HasSubstr("principal media is already registered")));
  EXPECT_THAT(admin().RegisterPrincipal(P("operator", v1::ROLE_ADMIN)),
              StatusIs(Code::kAlreadyExists, HasSubstr("bootstrap operator")));
}

TEST_F(RegistryTest, RegisterRefusalsAreAuditedAndStoreNothing) {
  struct Case {
    v1::Principal p;
    Code code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {P("", v1::ROLE_PLATFORM), Code::kInvalidArgument, "principal.id is required"},
      {P("Media", v1::ROLE_PLATFORM), Code::kInvalidArgument, "must start with a lowercase letter"},
      {P("9media", v1::ROLE_PLATFORM), Code::kInvalidArgument, "must start with a lowercase letter"},
      {P("me_dia", v1::ROLE_PLATFORM), Code::kInvalidArgument, "may contain only a-z, 0-9 and '-'"},
      {P(std::string(65, 'm'), v1::ROLE_PLATFORM), Code::kInvalidArgument, "at most 64 are allowed"},
      {P("media", v1::ROLE_UNSPECIFIED), Code::kInvalidArgument, "principal.role is required"},
      {P("media", static_cast<v1::Role>(9)), Code::kInvalidArgument, "principal.role is required"},
      {P("media", v1::ROLE_RECOMMENDER), Code::kInvalidArgument, "must name the platform it serves"},
      {P("media", v1::ROLE_RECOMMENDER, "nowhere"), Code::kFailedPrecondition,
       "bound platform nowhere is not a registered active platform"},
      {P("media", v1::ROLE_PLATFORM, "course"), Code::kInvalidArgument,
       "bound_platform_id is only for recommenders"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.p.ShortDebugString());
    uint64_t audit_before = Head(v1::CHAIN_AUDIT).size();
    EXPECT_THAT(admin().RegisterPrincipal(c.p), StatusIs(c.code, HasSubstr(c.message)));
    ExpectRefusalAudited("operator", "registry.register", c.code, audit_before);
  }
  v1::Principal long_name = P("media", v1::ROLE_PLATFORM);
  long_name.set_display_name(std::string(201, 'n'));
  EXPECT_THAT(admin().RegisterPrincipal(long_name),
              StatusIs(Code::kInvalidArgument, HasSubstr("display_name is longer than 200")));
  EXPECT_THAT(admin().GetPrincipal("media"), StatusIs(Code::kNotFound, HasSubstr("principal media is not registered")));
}

TEST_F(RegistryTest, GetRefusals) {
  EXPECT_THAT(admin().GetPrincipal(""), StatusIs(Code::kInvalidArgument, HasSubstr("id is required")));
  EXPECT_THAT(admin().GetPrincipal("Bad Id"),
              StatusIs(Code::kInvalidArgument, HasSubstr("must start with a lowercase letter")));
  EXPECT_THAT(admin().GetPrincipal("nobody"), StatusIs(Code::kNotFound, HasSubstr("principal nobody is not registered")));
}

TEST_F(RegistryTest, ListPagesInIdOrderAndFiltersByRole) {
  auto all = admin().ListAllPrincipals();
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<std::string> ids;
  for (const auto& p : *all) ids.push_back(p.id());
  EXPECT_THAT(ids, ElementsAre("auditor", "books", "course", "recs", "store"));

  std::vector<std::string> paged;
  std::string token;
  int pages = 0;
  do {
    v1::ListPrincipalsRequest req;
    req.mutable_page()->set_page_size(2);
    req.mutable_page()->set_page_token(token);
    auto page = admin().ListPrincipals(req);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->principals_size(), 2);
    for (const auto& p : page->principals()) paged.push_back(p.id());
    token = page->next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(paged, ids);
  EXPECT_EQ(pages, 3);

  auto platforms = admin().ListAllPrincipals(v1::ROLE_PLATFORM);
  ASSERT_TRUE(platforms.ok());
  ASSERT_EQ(platforms->size(), 3u);
  auto recs = admin().ListAllPrincipals(v1::ROLE_RECOMMENDER);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 1u);
  EXPECT_EQ((*recs)[0].bound_platform_id(), "course");

  auto list = [&](int size, const std::string& token) {
    v1::ListPrincipalsRequest req;
    req.mutable_page()->set_page_size(size);
    req.mutable_page()->set_page_token(token);
    return admin().ListPrincipals(req).status();
  };
  EXPECT_THAT(list(1001, ""), StatusIs(Code::kInvalidArgument, HasSubstr("1001 is out of range")));
  EXPECT_THAT(list(-5, ""), StatusIs(Code::kInvalidArgument, HasSubstr("-5 is out of range")));
  EXPECT_THAT(list(10, "!!garbage!!"),
              StatusIs(Code::kInvalidArgument, HasSubstr("page_token is not one this hub issued")));
}

TEST_F(RegistryTest, SuspendRefusesTheCallerUntilReinstated) {
  auto granted = course().GrantConsent(Grant("u-1", "store"));
  ASSERT_TRUE(granted.ok()) << granted.status();

  auto suspended = admin().SuspendPrincipal("course", "contract ended");
  ASSERT_TRUE(suspended.ok()) << suspended.status();
  EXPECT_EQ(suspended->status(), v1::PRINCIPAL_STATUS_SUSPENDED);
  EXPECT_EQ(suspended->status_reason(), "contract ended");

  uint64_t audit_before = Head(v1::CHAIN_AUDIT).size();
  EXPECT_THAT(course().ListAllConsents("u-1"),
              StatusIs(Code::kUnauthenticated,
                       HasSubstr("platform course is suspended (contract ended); ask the hub operator to reinstate it")));
  ExpectRefusalAudited("course", "consent.list", Code::kUnauthenticated, audit_before);
  EXPECT_THAT(course().GetHubInfo(), StatusIs(Code::kUnauthenticated, HasSubstr("suspended")));
  // Nobody may send course data while it is suspended.
  ConsentGrant to_course = Grant("s-1", "course");
  EXPECT_THAT(store().GrantConsent(to_course),
              StatusIs(Code::kNotFound, HasSubstr("not a registered, active member platform")));

  EXPECT_THAT(admin().SuspendPrincipal("course", "again"),
              StatusIs(Code::kFailedPrecondition, HasSubstr("principal course is already suspended")));
  auto reinstated = admin().ReinstatePrincipal("course", "renewed");
  ASSERT_TRUE(reinstated.ok()) << reinstated.status();
  EXPECT_EQ(reinstated->status(), v1::PRINCIPAL_STATUS_ACTIVE);
  EXPECT_THAT(admin().ReinstatePrincipal("course", "again"),
              StatusIs(Code::kFailedPrecondition, HasSubstr("principal course is already active")));

  // Its records were kept.
  auto listed = course().ListAllConsents("u-1");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].consent_id(), granted->consent().consent_id());
}

TEST_F(RegistryTest, SuspendAndReinstateRefusals) {
  EXPECT_THAT(admin().SuspendPrincipal("course", ""),
              StatusIs(Code::kInvalidArgument, HasSubstr("reason is required")));
  EXPECT_THAT(admin().SuspendPrincipal("", "x"), StatusIs(Code::kInvalidArgument, HasSubstr("id is required")));
  EXPECT_THAT(admin().SuspendPrincipal("nobody", "x"),
              StatusIs(Code::kNotFound, HasSubstr("principal nobody is not registered")));
  EXPECT_THAT(admin().SuspendPrincipal("operator", "x"),
              StatusIs(Code::kFailedPrecondition, HasSubstr("an operator cannot suspend itself")));
  EXPECT_THAT(admin().ReinstatePrincipal("course", ""),
              StatusIs(Code::kInvalidArgument, HasSubstr("reason is required")));
  EXPECT_THAT(admin().ReinstatePrincipal("nobody", "x"),
              StatusIs(Code::kNotFound, HasSubstr("principal nobody is not registered")));
}

class LinkingTest : public HubTest {};

TEST_F(LinkingTest, TicketLinksOnceAndThenIsSpent) {
  auto ticket = course().CreateLinkTicket("u-1");
  ASSERT_TRUE(ticket.ok()) << ticket.status();
  EXPECT_GE(ticket->ticket().size(), 40u);
  int64_t ttl = TimeUtil::TimestampToMicroseconds(ticket->expires_at()) -
                std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GT(ttl, 590LL * 1000000);
  EXPECT_LE(ttl, 600LL * 1000000);

  auto redeemed = store().RedeemLinkTicket(ticket->ticket(), "s-1");
  ASSERT_TRUE(redeemed.ok()) << redeemed.status();
  EXPECT_EQ(redeemed->linked_platform_id(), "course");
  auto audit = Last(v1::CHAIN_AUDIT);
  ASSERT_TRUE(audit.has_value());
  EXPECT_EQ(audit->audit().action(), "link.redeem");
  EXPECT_EQ(audit->audit().counterparty_id(), "course");
  // The audit log names the person by pseudonym, never by either platform's id.
  EXPECT_EQ(audit->encoded().find("s-1"), std::string::npos);
  EXPECT_EQ(audit->encoded().find("u-1"), std::string::npos);

  uint64_t audit_before = Head(v1::CHAIN_AUDIT).size();
  EXPECT_THAT(books().RedeemLinkTicket(ticket->ticket(), "b-1"),
              StatusIs(Code::kFailedPrecondition, HasSubstr("link ticket was already used")));
  ExpectRefusalAudited("books", "link.redeem", Code::kFailedPrecondition, audit_before);

  // The link is in place: a consent course records for u-1 reaches store's s-1.
  FEDHUB_ASSERT_OK(course().GrantConsent(Grant("u-1", "store")));
  auto at_store = store().ListAllConsents("s-1");
  ASSERT_TRUE(at_store.ok()) << at_store.status();
  ASSERT_EQ(at_store->size(), 1u);
  EXPECT_EQ((*at_store)[0].user().local_user_id(), "s-1");
  EXPECT_EQ((*at_store)[0].source_platform_id(), "course");
}

TEST_F(LinkingTest, RedeemRefusals) {
  auto ticket = course().CreateLinkTicket("u-1");
  ASSERT_TRUE(ticket.ok()) << ticket.status();
  EXPECT_THAT(store().RedeemLinkTicket("", "s-1"), StatusIs(Code::kInvalidArgument, HasSubstr("ticket is required")));
  EXPECT_THAT(store().RedeemLinkTicket(ticket->ticket(), ""),
              StatusIs(Code::kInvalidArgument, HasSubstr("user.local_user_id is required")));
  EXPECT_THAT(store().RedeemLinkTicket("not-a-ticket", "s-1"),
              StatusIs(Code::kNotFound, HasSubstr("link ticket not found")));
  uint64_t audit_before = Head(v1::CHAIN_AUDIT).size();
  EXPECT_THAT(course().RedeemLinkTicket(ticket->ticket(), "u-2"),
              StatusIs(Code::kInvalidArgument, HasSubstr("redeemed by another platform than the one that issued it")));
  ExpectRefusalAudited("course", "link.redeem", Code::kInvalidArgument, audit_before);
  // The refused attempts did not spend it.
  FEDHUB_ASSERT_OK(store().RedeemLinkTicket(ticket->ticket(), "s-1"));

  // The same person again, or another of store's accounts for them.
  auto second = course().CreateLinkTicket("u-1");
  ASSERT_TRUE(second.ok());
  EXPECT_THAT(store().RedeemLinkTicket(second->ticket(), "s-1"),
              StatusIs(Code::kAlreadyExists, HasSubstr("the user in user.local_user_id is already linked to this person")));
  EXPECT_THAT(store().RedeemLinkTicket(second->ticket(), "s-9"),
              StatusIs(Code::kAlreadyExists, HasSubstr("this person is already linked to another of your users; unlink that account first")));

  // An account with consents of its own cannot be merged into another person.
  FEDHUB_ASSERT_OK(books().GrantConsent(Grant("b-1", "course")));
  EXPECT_THAT(books().RedeemLinkTicket(second->ticket(), "b-1"),
              StatusIs(Code::kFailedPrecondition, HasSubstr("already has consents or links of its own")));
  EXPECT_THAT(course().CreateLinkTicket(""), StatusIs(Code::kInvalidArgument, HasSubstr("user.local_user_id is required")));
}

TEST_F(LinkingTest, UnlinkRemovesTheAccountButKeepsConsents) {
  auto granted = course().GrantConsent(Grant("u-1", "store"));
  ASSERT_TRUE(granted.ok()) << granted.status();
  auto ticket = course().CreateLinkTicket("u-1");
  ASSERT_TRUE(ticket.ok());
  FEDHUB_ASSERT_OK(store().RedeemLinkTicket(ticket->ticket(), "s-1"));
  auto check = [&] {
    return store().CheckConsent("s-1", "course", "store", v1::DATA_CATEGORY_LEARNING, v1::PURPOSE_SYNC);
  };
  ASSERT_TRUE(check().ok());
  EXPECT_TRUE(check()->allowed());

  FEDHUB_ASSERT_OK(store().UnlinkAccount("s-1"));
  ASSERT_TRUE(check().ok());
  EXPECT_FALSE(check()->allowed());
  EXPECT_THAT(check()->reason(), HasSubstr("user s-1 is not known to the hub"));
  EXPECT_THAT(store().UnlinkAccount("s-1"), StatusIs(Code::kNotFound, HasSubstr("the user in user.local_user_id is not known to the hub")));
  EXPECT_THAT(store().UnlinkAccount(""), StatusIs(Code::kInvalidArgument, HasSubstr("user.local_user_id is required")));

  auto kept = course().ListAllConsents("u-1");
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].state(), v1::CONSENT_STATE_ACTIVE);
  // The person can be linked again with a new ticket.
  auto again = course().CreateLinkTicket("u-1");
  ASSERT_TRUE(again.ok());
  FEDHUB_ASSERT_OK(store().RedeemLinkTicket(again->ticket(), "s-1"));
}

class ExpiredTicketTest : public HubTest {
 protected:
  TestHubOptions Options() override {
    TestHubOptions o;
    // Tickets expire the moment they are issued.
    o.configure = [](config::HubConfig& c) { c.ticket_ttl_seconds = 0; };
    return o;
  }
};

TEST_F(ExpiredTicketTest, ExpiredTicketIsRefused) {
  auto ticket = course().CreateLinkTicket("u-1");
  ASSERT_TRUE(ticket.ok()) << ticket.status();
  uint64_t audit_before = Head(v1::CHAIN_AUDIT).size();
  EXPECT_THAT(store().RedeemLinkTicket(ticket->ticket(), "s-1"),
              StatusIs(Code::kFailedPrecondition, HasSubstr("link ticket expired; ask the other platform for a new one")));
  ExpectRefusalAudited("store", "link.redeem", Code::kFailedPrecondition, audit_before);
}

}  // namespace
}  // namespace fedhub::testing
