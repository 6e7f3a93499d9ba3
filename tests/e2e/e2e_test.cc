// End to end: the built fedhubd and fedhubctl, driven as an operator, two platforms and an
// auditor would. Each test has its own directory (certificates, data) and its own fedhubd
// on a port the kernel picks.
#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fedhub/v1/consent.pb.h"
#include "fedhub/v1/hub.pb.h"
#include "fedhub/v1/linking.pb.h"
#include "fedhub/v1/registry.pb.h"
#include "cli_fixture.h"
#include "process.h"

#ifndef FEDHUB_TAMPER
#error "FEDHUB_TAMPER must name the fedhub_tamper binary"
#endif

namespace fedhub::e2e {
namespace {

TEST_F(E2eTest, OperatorPlatformsAndAuditorEndToEnd) {
  ASSERT_NO_FATAL_FAILURE(Bootstrap());

  auto info = ParseJson<v1::GetHubInfoResponse>(Trim(CtlOk("operator", {"info", "--json"})));
  EXPECT_EQ(info.caller_id(), "operator");
  EXPECT_EQ(info.caller_role(), v1::ROLE_ADMIN);
  EXPECT_THAT(CtlOk("operator", {"info"}), HasSubstr(info.signing_key_id()));

  std::vector<std::string> principals =
      Lines(CtlOk("operator", {"--json", "platform", "list", "--role", "platform"}));
  ASSERT_EQ(principals.size(), 2u);
  EXPECT_EQ(ParseJson<v1::Principal>(principals[0]).id(), "courses");
  EXPECT_EQ(ParseJson<v1::Principal>(principals[0]).display_name(), "Acme Courses");
  EXPECT_EQ(ParseJson<v1::Principal>(principals[1]).id(), "store");

  const fs::path receipt = dir_ / "grant.receipt.json";
  const std::string consent_id = Grant(receipt);
  EXPECT_EQ(consent_id.rfind("c-", 0), 0u) << consent_id;
  ASSERT_TRUE(fs::exists(receipt));

  // The receipt verifies with the key the hub reports, and offline with the PEM alone.
  std::string verified = CtlOk("courses", {"receipt", "verify", receipt.string()});
  EXPECT_THAT(verified, HasSubstr(consent_id));
  EXPECT_THAT(verified, HasSubstr(info.signing_key_id()));
  const fs::path pem = dir_ / "hub-key.pem";
  std::ofstream(pem) << info.signing_public_key_pem();
  auto offline = ParseJson<google::protobuf::Struct>(
      Trim(CtlOk("no-such-principal",
                 {"--json", "receipt", "verify", receipt.string(), "--hub-key", pem.string()})));
  EXPECT_TRUE(offline.fields().at("verified").bool_value());
  auto body = offline.fields().at("body").struct_value();
  EXPECT_EQ(body.fields().at("consent").struct_value().fields().at("consent_id").string_value(),
            consent_id);

  // An altered receipt does not verify: exit 2.
  auto altered = ParseJson<v1::ConsentReceipt>(ReadFile(receipt));
  std::string altered_body = altered.body();
  altered_body[altered_body.size() / 2] ^= 0x01;
  altered.set_body(altered_body);
  std::string altered_json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(altered, &altered_json).ok());
  std::ofstream(dir_ / "altered.json") << altered_json;
  RunResult bad = Ctl("courses", {"receipt", "verify", (dir_ / "altered.json").string(),
                                  "--hub-key", pem.string()});
  EXPECT_EQ(bad.exit_code, 2) << bad.Describe();
  EXPECT_THAT(bad.out, HasSubstr("NOT VERIFIED"));

  // Allowed for a granted category, refused for another; refused after revocation.
  EXPECT_EQ(Check("learning"), 0);
  EXPECT_EQ(Check("purchases"), 2);
  auto listed = Lines(CtlOk("store", {"--json", "consent", "list", "s-991"}));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(ParseJson<v1::Consent>(listed[0]).consent_id(), consent_id);

  const fs::path revoke_receipt = dir_ / "revoke.receipt.json";
  EXPECT_THAT(CtlOk("store", {"consent", "revoke", consent_id, "s-991", "--receipt-out",
                              revoke_receipt.string()}),
              HasSubstr("revoked " + consent_id));
  EXPECT_THAT(CtlOk("store", {"receipt", "verify", revoke_receipt.string()}), HasSubstr("revoke"));
  RunResult refused =
      Ctl("store", {"--json", "consent", "check", "s-991", "--from", "courses", "--to", "store",
                    "--category", "learning", "--purpose", "sync"});
  EXPECT_EQ(refused.exit_code, 2) << refused.Describe();
  auto answer = ParseJson<v1::CheckConsentResponse>(Trim(refused.out));
  EXPECT_FALSE(answer.allowed());
  EXPECT_FALSE(answer.reason().empty());
  EXPECT_EQ(Lines(CtlOk("courses", {"--json", "consent", "list", "u-17"})).size(), 0u);
  EXPECT_EQ(Lines(CtlOk("courses", {"--json", "consent", "list", "u-17", "--all"})).size(), 1u);

  // The store's watch replays the grant and the revocation, then stops (-n 2).
  auto changes = Lines(CtlOk("store", {"--json", "consent", "watch", "-n", "2"}));
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(ParseJson<v1::WatchConsentsResponse>(changes[0]).kind(),
            v1::CONSENT_CHANGE_KIND_GRANTED);
  EXPECT_EQ(ParseJson<v1::WatchConsentsResponse>(changes[1]).kind(),
            v1::CONSENT_CHANGE_KIND_REVOKED);

  // The auditor verifies both chains on its side and reads the tail.
  auto chains = Lines(CtlOk("auditor", {"--json", "audit", "verify"}));
  ASSERT_EQ(chains.size(), 2u);
  for (const std::string& line : chains) {
    auto result = ParseJson<google::protobuf::Struct>(line);
    EXPECT_TRUE(result.fields().at("ok").bool_value()) << line;
    EXPECT_GT(result.fields().at("entries_checked").number_value(), 0) << line;
  }
  auto tail = Lines(CtlOk("auditor", {"--json", "audit", "tail", "--chain", "ledger", "-n", "5"}));
  ASSERT_EQ(tail.size(), 2u);  // the grant and the revocation
  auto last = Lines(CtlOk("auditor", {"audit", "tail", "-n", "2"}));
  ASSERT_EQ(last.size(), 2u);
  EXPECT_THAT(last[0], HasSubstr("consent.grant"));
  EXPECT_THAT(last[1], HasSubstr("consent.revoke"));

  // Suspension takes effect on the next call.
  CtlOk("operator", {"platform", "suspend", "store", "--reason", "e2e"});
  RunResult suspended = Ctl("store", {"consent", "list", "s-991"});
  EXPECT_EQ(suspended.exit_code, 1) << suspended.Describe();
  EXPECT_THAT(suspended.err, HasSubstr("UNAUTHENTICATED"));
  CtlOk("operator", {"platform", "reinstate", "store", "--reason", "e2e done"});
  CtlOk("store", {"consent", "list", "s-991"});
}

TEST_F(E2eTest, GrantSurvivesSigkillRightAfterItReturned) {
  ASSERT_NO_FATAL_FAILURE(Bootstrap());
  const std::string consent_id = Grant(dir_ / "receipt.json");
  ASSERT_FALSE(consent_id.empty());
  EXPECT_EQ(hub_.Stop(SIGKILL), "signal 9");

  ASSERT_NO_FATAL_FAILURE(StartHub());
  EXPECT_EQ(Check("learning"), 0);
  EXPECT_THAT(CtlOk("store", {"consent", "list", "s-991"}), HasSubstr(consent_id));
  EXPECT_THAT(CtlOk("auditor", {"audit", "verify"}), HasSubstr("audit chain: ok"));
  EXPECT_THAT(CtlOk("courses", {"receipt", "verify", (dir_ / "receipt.json").string()}),
              HasSubstr(consent_id));
}

TEST_F(E2eTest, AuditVerifyNamesATamperedEntry) {
  ASSERT_NO_FATAL_FAILURE(Bootstrap());
  Grant(dir_ / "receipt.json");
  auto audit = ParseJson<google::protobuf::Struct>(
      Trim(CtlOk("auditor", {"--json", "audit", "verify", "--chain", "audit"})));
  ASSERT_GE(audit.fields().at("size").number_value(), 4);

  EXPECT_EQ(hub_.Stop(SIGTERM), "exit 0");
  RunResult tamper = RunProcess({FEDHUB_TAMPER, (dir_ / "data").string(), "3", "audit"});
  ASSERT_EQ(tamper.exit_code, 0) << tamper.Describe();
  ASSERT_NO_FATAL_FAILURE(StartHub());

  RunResult verify = Ctl("auditor", {"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 2) << verify.Describe();
  EXPECT_THAT(verify.out + verify.err, HasSubstr("audit entry 3"));
  EXPECT_THAT(verify.out, HasSubstr("ledger chain: ok"));  // the other chain is intact
  EXPECT_EQ(Ctl("auditor", {"audit", "verify", "--chain", "ledger"}).exit_code, 0);
}

TEST_F(E2eTest, ErrorsHaveTheirExitCodes) {
  ASSERT_NO_FATAL_FAILURE(Bootstrap());

  // No certificate for the principal: refused before any call, naming it.
  RunResult ghost = Ctl("ghost", {"platform", "list"});
  EXPECT_EQ(ghost.exit_code, 1) << ghost.Describe();
  EXPECT_THAT(ghost.err, HasSubstr("fedhubctl: NOT_FOUND: no certificate for --as ghost"));

  // A certificate the hub does not know.
  RunResult stranger = Ctl("unregistered", {"info"});
  EXPECT_EQ(stranger.exit_code, 1) << stranger.Describe();
  EXPECT_THAT(stranger.err, HasSubstr("fedhubctl: UNAUTHENTICATED: "));

  // A platform is not an operator.
  RunResult platform = Ctl("courses", {"platform", "register", "evil", "--role", "platform"});
  EXPECT_EQ(platform.exit_code, 1) << platform.Describe();
  EXPECT_THAT(platform.err, HasSubstr("fedhubctl: PERMISSION_DENIED: "));

  // Usage errors: 64 with the command's usage.
  RunResult category = Ctl("courses", {"consent", "grant", "u-17", "--to", "store", "--category",
                                       "shoe-size", "--purpose", "sync", "--evidence", "web-form"});
  EXPECT_EQ(category.exit_code, 64) << category.Describe();
  EXPECT_THAT(category.err, HasSubstr("unknown category \"shoe-size\""));
  EXPECT_THAT(category.err, HasSubstr("learning"));
  EXPECT_THAT(category.err, HasSubstr("usage: fedhubctl consent grant"));
  EXPECT_EQ(Ctl("store", {"consent", "check", "s-991"}).exit_code, 64);
  EXPECT_EQ(Ctl("operator", {"platform", "frobnicate"}).exit_code, 64);
  EXPECT_EQ(Ctl("operator", {"platform", "list", "--bogus"}).exit_code, 64);
  EXPECT_EQ(RunProcess({FEDHUBCTL}).exit_code, 64);
  RunResult help = RunProcess({FEDHUBCTL, "consent", "grant", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("--receipt-out"));

  // The hub refuses a malformed request: 1 with its message.
  RunResult dup = Ctl("operator", {"platform", "register", "courses", "--role", "platform"});
  EXPECT_EQ(dup.exit_code, 1) << dup.Describe();
  EXPECT_THAT(dup.err, HasSubstr("fedhubctl: ALREADY_EXISTS: "));

  // A receipt file that is not there.
  RunResult missing = Ctl("courses", {"receipt", "verify", (dir_ / "nope.json").string()});
  EXPECT_EQ(missing.exit_code, 1) << missing.Describe();
  EXPECT_THAT(missing.err, HasSubstr("NOT_FOUND"));
}

}  // namespace
}  // namespace fedhub::e2e
