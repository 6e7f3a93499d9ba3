// End to end: consent reports through fedhubctl against the built fedhubd — a person's
// report and a platform's, in every format, read at a signed head with every line provable,
// paged, time-bounded, an unacknowledged revocation that disappears once acknowledged, and
// who may read what.
#include <google/protobuf/struct.pb.h>

#include <set>

#include "cli_fixture.h"
#include "fedhub/v1/report.pb.h"

namespace fedhub::e2e {
namespace {

using ::testing::Contains;
using ::testing::Not;

class ReportTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(Bootstrap());
    consent_ = Trim(Grant(dir_ / "receipt.json"));
    consent_ = consent_.substr(consent_.find("c-"), 34);
    // A refused call by the store: a ticket that does not exist.
    EXPECT_EQ(Ctl("store", {"link", "redeem", "--", "no-such-ticket", "s-5"}).exit_code, 1);
    CtlOk("store", {"consent", "revoke", consent_, "s-991"});
    // The store reads its stream: the erasure notice is delivered, not yet acknowledged.
    std::string tail = CtlOk("store", {"stream", "tail", "--kinds", "profile", "-n", "1"});
    ASSERT_THAT(tail, HasSubstr("ERASURE"));
    notice_ = "erasure-" + consent_;
  }

  // The report's JSON lines: the report lines, then totals and the closing head.
  struct Parsed {
    std::vector<v1::ReportLine> lines;
    std::vector<google::protobuf::Struct> others;  // totals and the head
    v1::SignedTreeHead head;
  };
  Parsed Report(const std::string& as, std::vector<std::string> args) {
    args.insert(args.begin(), "report");
    args.push_back("--format");
    args.push_back("json");
    Parsed p;
    for (const std::string& line : Lines(CtlOk(as, args))) {
      if (line.find("\"signed_tree_head\"") != std::string::npos || line.find("\"total\"") != std::string::npos) {
        auto s = ParseJson<google::protobuf::Struct>(line);
        if (s.fields().count("signed_tree_head")) {
          std::string head_json;
          EXPECT_TRUE(google::protobuf::util::MessageToJsonString(s.fields().at("signed_tree_head"), &head_json).ok());
          p.head = ParseJson<v1::SignedTreeHead>(head_json);
        }
        p.others.push_back(std::move(s));
        continue;
      }
      p.lines.push_back(ParseJson<v1::ReportLine>(line));
    }
    return p;
  }

  static std::vector<std::string> Kinds(const Parsed& p) {
    std::vector<std::string> out;
    for (const auto& l : p.lines) out.push_back(l.kind());
    return out;
  }

  std::string consent_, notice_;
};

TEST_F(ReportTest, APersonsReportFollowsTheirConsentAndEveryLineIsProvable) {
  CtlOk("auditor", {"audit", "head", "--sign"});
  Parsed p = Report("auditor", {"person", "u-17", "--platform", "courses"});
  EXPECT_THAT(Kinds(p), Contains("consent.granted"));
  EXPECT_THAT(Kinds(p), Contains("consent.revoked"));
  EXPECT_THAT(Kinds(p), Contains("erasure.notice"));
  EXPECT_THAT(Kinds(p), Contains("link.redeem"));
  ASSERT_GT(p.head.tree_size(), 0u);
  for (const auto& l : p.lines) {
    EXPECT_LE(l.audit_sequence(), p.head.tree_size());
    EXPECT_EQ(l.subject().size(), 32u) << "people are named by their audit pseudonym only";
    EXPECT_THAT(l.detail() + l.subject(), Not(HasSubstr("u-17")));
    EXPECT_THAT(l.detail() + l.subject(), Not(HasSubstr("s-991")));
    // The line's entry is in the head the report was read at.
    RunResult proof = Ctl("auditor", {"--json", "audit", "prove", std::to_string(l.audit_sequence()), "--size",
                                      std::to_string(p.head.tree_size())});
    ASSERT_EQ(proof.exit_code, 0) << proof.Describe();
    auto parsed = ParseJson<v1::InclusionProof>(Trim(proof.out));
    EXPECT_EQ(parsed.entry().entry_hash(), l.entry_hash());
  }
  // The same person, named by the other platform, is the same report.
  Parsed same = Report("auditor", {"person", "s-991", "--platform", "store"});
  EXPECT_EQ(Kinds(same), Kinds(p));
  // One line per request: the same report.
  Parsed paged = Report("auditor", {"person", "u-17", "--platform", "courses", "--page-size", "1"});
  EXPECT_EQ(Kinds(paged), Kinds(p));
  EXPECT_EQ(paged.head.tree_size(), p.head.tree_size());
}

TEST_F(ReportTest, APlatformsReportShowsConsentsRefusalsAndUnacknowledgedRevocations) {
  CtlOk("auditor", {"audit", "head", "--sign"});
  Parsed before = Report("auditor", {"platform", "store"});
  EXPECT_THAT(Kinds(before), Contains("consent.granted"));
  EXPECT_THAT(Kinds(before), Contains("consent.revoked"));
  EXPECT_THAT(Kinds(before), Contains("refused"));
  EXPECT_THAT(Kinds(before), Contains("revocation.unacknowledged"));
  for (const auto& l : before.lines) {
    if (l.kind() == "consent.granted") EXPECT_THAT(l.detail(), HasSubstr("received"));
    if (l.kind() == "refused") EXPECT_EQ(l.action(), "link.redeem");
  }
  // The courses platform gave that consent; it has no unacknowledged revocation.
  Parsed courses = Report("courses", {"platform", "courses"});
  EXPECT_THAT(Kinds(courses), Contains("consent.granted"));
  EXPECT_THAT(Kinds(courses), Not(Contains("revocation.unacknowledged")));

  CtlOk("store", {"stream", "ack-erasure", notice_});
  CtlOk("auditor", {"audit", "head", "--sign"});
  Parsed after = Report("store", {"platform", "store"});
  EXPECT_THAT(Kinds(after), Contains("erasure.ack"));
  EXPECT_THAT(Kinds(after), Not(Contains("revocation.unacknowledged")));
  EXPECT_GT(after.head.tree_size(), before.head.tree_size());

  // A range that ends before anything happened: only the head.
  Parsed empty = Report("auditor", {"platform", "store", "--to", "2020-01-01T00:00:00Z"});
  EXPECT_TRUE(empty.lines.empty());
  EXPECT_EQ(empty.head.tree_size(), after.head.tree_size());
}

TEST_F(ReportTest, TheAuditLogNamesNobodyByAPlatformsLocalId) {
  // Every entry, decoded by the hub, and its stored bytes: pseudonyms only.
  std::string all = CtlOk("auditor", {"--json", "audit", "tail", "-n", "100000"});
  // Refusals whose messages name a person by a local id are audited too.
  Ctl("store", {"consent", "check", "s-404", "--from", "courses", "--to", "store", "--category", "learning",
                "--purpose", "sync"});
  Ctl("courses", {"consent", "grant", "u-404", "--to", "nowhere", "--category", "learning", "--purpose", "sync",
                  "--evidence", "web-form"});
  all = CtlOk("auditor", {"--json", "audit", "tail", "-n", "100000"});
  ASSERT_GT(Lines(all).size(), 8u);
  EXPECT_THAT(all, HasSubstr("AUDIT_OUTCOME_DENIED"));
  for (const char* local_id : {"u-17", "s-991", "s-5", "s-404", "u-404"}) EXPECT_THAT(all, Not(HasSubstr(local_id))) << local_id;
  std::string ledger = CtlOk("auditor", {"--json", "audit", "tail", "--chain", "ledger", "-n", "100000"});
  for (const char* local_id : {"u-17", "s-991"}) EXPECT_THAT(ledger, Not(HasSubstr(local_id))) << local_id;
}

TEST_F(ReportTest, TableAndCsvEndWithTheSignedHead) {
  CtlOk("auditor", {"audit", "head", "--sign"});
  std::vector<std::string> csv = Lines(CtlOk("auditor", {"report", "person", "u-17", "--platform", "courses",
                                                         "--format", "csv"}));
  ASSERT_GE(csv.size(), 3u);
  EXPECT_EQ(csv.front().substr(0, 26), "audit_sequence,entry_hash,");
  EXPECT_THAT(csv.back(), HasSubstr(",signed_tree_head,"));
  std::string table = CtlOk("auditor", {"report", "platform", "store"});
  EXPECT_THAT(table, HasSubstr("read at signed tree head #1"));
  EXPECT_THAT(table, HasSubstr("prove any line: fedhubctl audit prove SEQ --size"));
}

TEST_F(ReportTest, ReportsAreForAuditorsAndForAPlatformAboutItself) {
  RunResult none = Ctl("auditor", {"report", "platform", "store"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_THAT(none.err, HasSubstr("no tree head has been signed yet"));
  CtlOk("auditor", {"audit", "head", "--sign"});
  RunResult other = Ctl("courses", {"report", "platform", "store"});
  EXPECT_EQ(other.exit_code, 1) << other.Describe();
  EXPECT_THAT(other.err, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(other.err, HasSubstr("only its own reports"));
  RunResult person = Ctl("store", {"report", "person", "u-17", "--platform", "courses"});
  EXPECT_THAT(person.err, HasSubstr("PERMISSION_DENIED"));
  CtlOk("store", {"report", "person", "s-991", "--platform", "store"});
  RunResult unknown = Ctl("auditor", {"report", "person", "nobody", "--platform", "courses"});
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND"));
  RunResult ghost = Ctl("auditor", {"report", "platform", "ghost"});
  EXPECT_THAT(ghost.err, HasSubstr("NOT_FOUND"));
  EXPECT_EQ(Ctl("auditor", {"report", "platform", "store", "--format", "xml"}).exit_code, 64);
  EXPECT_EQ(Ctl("auditor", {"report", "platform", "store", "--from", "yesterday"}).exit_code, 64);
}

}  // namespace
}  // namespace fedhub::e2e
