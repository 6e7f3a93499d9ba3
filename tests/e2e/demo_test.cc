// End to end: the run command's scenario (examples/scenario, fedhub_demo) against the built
// fedhubd, as scripts/run.sh runs it — its own directory, development certificates from
// fedhubctl, a hub on a port the kernel picks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "process.h"

#ifndef FEDHUBD
#error "FEDHUBD must name the fedhubd binary"
#endif
#ifndef FEDHUBCTL
#error "FEDHUBCTL must name the fedhubctl binary"
#endif
#ifndef FEDHUB_DEMO
#error "FEDHUB_DEMO must name the fedhub_demo binary"
#endif

namespace fedhub::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

class DemoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeScratchDir("fedhub-demo-e2e");
    ASSERT_FALSE(dir_.empty());
    certs_ = dir_ / "certs";
    RunResult r = RunProcess({FEDHUBCTL, "dev-certs", "--out", certs_.string(), "--platform", "courses",
                              "--platform", "store"});
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    const fs::path port_file = dir_ / "ports";
    std::string error = hub_.Start(
        {FEDHUBD, "--listen", "127.0.0.1:0", "--metrics-listen", "", "--data-dir", (dir_ / "data").string(),
         "--signing-key", (dir_ / "signing.key").string(), "--tls-cert", (certs_ / "hub.crt").string(),
         "--tls-key", (certs_ / "hub.key").string(), "--tls-ca", (certs_ / "ca.crt").string(), "--port-file",
         port_file.string(), "--max-threads", "32"},
        (dir_ / "fedhubd.log").string(), " listening on ");
    ASSERT_EQ(error, "");
    std::string ports = ReadFile(port_file);
    endpoint_ = "127.0.0.1:" + ports.substr(0, ports.find('\n'));
  }

  void TearDown() override {
    hub_.Kill();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  RunResult Demo() {
    return RunProcess({FEDHUB_DEMO, "--endpoint", endpoint_, "--certs", certs_.string(), "--state-dir",
                       (dir_ / "platforms").string(), "--timeout-seconds", "30"},
                      /*guard_ms=*/120000);
  }

  fs::path dir_, certs_;
  std::string endpoint_;
  Daemon hub_;
};

TEST_F(DemoTest, ScenarioRunsThroughConsentRevocationAndErasure) {
  RunResult r = Demo();
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  const std::string& out = r.out;
  // Catalogues: a snapshot for a new subscriber, then live changes; the audio course is
  // not shared.
  EXPECT_THAT(out, HasSubstr("[store] catalogue snapshot complete (3 partner items)"));
  EXPECT_THAT(out, HasSubstr("[courses] catalogue snapshot complete (4 partner items)"));
  EXPECT_THAT(out, HasSubstr("[store] live catalogue change from courses"));
  EXPECT_THAT(out, Not(HasSubstr("from courses: audio-3")));
  // Ada's profile reaches the store by its own customer id, without her e-mail.
  EXPECT_THAT(out, HasSubstr("for customer c-2001 (its own id), version 1: PROFILE under consent c-"));
  EXPECT_THAT(out, HasSubstr("no e-mail arrived"));
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("[store]") != std::string::npos) {
      EXPECT_THAT(line, Not(HasSubstr("ada@example.org")));
    }
  }
  // Grace only as a pairwise pseudonym; a learner never named to the hub is refused.
  EXPECT_THAT(out, HasSubstr("for pairwise pseudonym "));
  EXPECT_THAT(out, HasSubstr("is refused: NOT_FOUND"));
  // The revocation: erasure, acknowledgement, and nothing delivered after it.
  EXPECT_THAT(out, HasSubstr("[store] erasure notice erasure-c-"));
  EXPECT_THAT(out, HasSubstr("erased from memory and from store.state, then acknowledged to the hub"));
  EXPECT_THAT(out, HasSubstr("did not: nothing is delivered under a revoked consent"));
  // The restart resumes from the state file; the receipt and the chains verify.
  EXPECT_THAT(out, HasSubstr("[store] resumed its subscription after cursor "));
  EXPECT_THAT(out, HasSubstr("revocation receipt verified offline with hub key"));
  EXPECT_THAT(out, HasSubstr("is the store's acknowledgement that it erased Ada's data"));
  EXPECT_THAT(out, HasSubstr("[auditor] the hub signed tree head #1 over "));
  EXPECT_THAT(out, HasSubstr(" access: store received PROFILE,LEARNING from courses under c-"));
  EXPECT_THAT(out, HasSubstr(" erasure.ack: by store"));
  EXPECT_THAT(out, HasSubstr("leads to the signed root — verified offline with the hub's key alone"));
  EXPECT_THAT(out, HasSubstr("fedhub_demo: every step behaved as the consent model says."));

  // The store's state file holds its cursor with the data it applied.
  std::string state = ReadFile(dir_ / "platforms" / "store.state");
  EXPECT_THAT(state, HasSubstr("\ncursor\t"));
  EXPECT_THAT(state, HasSubstr("\nitem\tcourses\tcourse-310\t"));
  EXPECT_THAT(state, Not(HasSubstr("user:c-2001")));  // Ada's data was erased
}

TEST_F(DemoTest, FailsLoudlyWhenTheHubIsGone) {
  hub_.Stop(15);
  RunResult r = Demo();
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("fedhub_demo: "));
  EXPECT_THAT(r.err, HasSubstr("UNAVAILABLE"));
}

}  // namespace
}  // namespace fedhub::e2e
