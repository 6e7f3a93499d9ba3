// The end-to-end tests' fixture: a fresh directory with development certificates, the
// built fedhubd on a port the kernel picks, and fedhubctl run as any principal.
#ifndef FEDHUB_TESTS_E2E_CLI_FIXTURE_H_
#define FEDHUB_TESTS_E2E_CLI_FIXTURE_H_

#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "fedhub/v1/linking.pb.h"
#include "process.h"

#ifndef FEDHUBD
#error "FEDHUBD must name the fedhubd binary"
#endif
#ifndef FEDHUBCTL
#error "FEDHUBCTL must name the fedhubctl binary"
#endif

namespace fedhub::e2e {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Parses one line of `--json` output into `message`; fails the test if it does not parse.
template <typename Message>
inline Message ParseJson(const std::string& line) {
  Message message;
  auto status = google::protobuf::util::JsonStringToMessage(line, &message);
  EXPECT_TRUE(status.ok()) << "not a " << message.GetTypeName() << ": " << line;
  return message;
}

class E2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeScratchDir("fedhub-e2e");
    ASSERT_FALSE(dir_.empty());
    certs_ = dir_ / "certs";
    RunResult r = RunProcess({FEDHUBCTL, "dev-certs", "--out", certs_.string(), "--platform",
                              "courses", "--platform", "store", "--platform", "unregistered"});
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    ASSERT_TRUE(fs::exists(certs_ / "operator.crt"));
    ASSERT_TRUE(fs::exists(certs_ / "auditor.key"));
    ASSERT_NO_FATAL_FAILURE(StartHub());
  }

  void TearDown() override {
    hub_.Kill();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void StartHub() {
    const fs::path port_file = dir_ / "port";
    fs::remove(port_file);
    std::string error = hub_.Start(
        {FEDHUBD, "--listen", "127.0.0.1:0", "--metrics-listen", "", "--data-dir",
         (dir_ / "data").string(), "--signing-key", (dir_ / "signing.key").string(), "--tls-cert",
         (certs_ / "hub.crt").string(), "--tls-key", (certs_ / "hub.key").string(), "--tls-ca",
         (certs_ / "ca.crt").string(), "--port-file", port_file.string(), "--max-threads", "16"},
        (dir_ / "fedhubd.log").string(), " listening on ");
    ASSERT_EQ(error, "");
    std::string port = Trim(ReadFile(port_file));
    port = port.substr(0, port.find('\n'));
    ASSERT_FALSE(port.empty()) << "empty port file";
    endpoint_ = "127.0.0.1:" + port;
  }

  RunResult Ctl(const std::string& as, std::vector<std::string> args) {
    std::vector<std::string> argv = {FEDHUBCTL,       "--endpoint", endpoint_, "--certs",
                                     certs_.string(), "--as",       as};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }

  // Runs and expects `want` as the exit code; returns stdout.
  std::string CtlOk(const std::string& as, std::vector<std::string> args, int want = 0) {
    RunResult r = Ctl(as, args);
    EXPECT_EQ(r.exit_code, want) << "fedhubctl --as " << as << " " << args[0] << " "
                                 << (args.size() > 1 ? args[1] : "") << "\n"
                                 << r.Describe();
    return r.out;
  }

  // Operator registers two platforms and the auditor; a person u-17 at courses is linked
  // to s-991 at store.
  void Bootstrap() {
    CtlOk("operator",
          {"platform", "register", "courses", "--role", "platform", "--name", "Acme Courses"});
    CtlOk("operator", {"platform", "register", "store", "--role", "platform"});
    CtlOk("operator", {"platform", "register", "auditor", "--role", "auditor"});
    auto ticket = ParseJson<v1::CreateLinkTicketResponse>(
        Trim(CtlOk("courses", {"--json", "link", "ticket", "u-17"})));
    ASSERT_FALSE(ticket.ticket().empty());
    std::string out = CtlOk("store", {"link", "redeem", "--", ticket.ticket(), "s-991"});
    EXPECT_THAT(out, HasSubstr("courses"));
  }

  std::string Grant(const fs::path& receipt) {
    return Trim(CtlOk(
        "courses", {"consent", "grant", "u-17", "--to", "store", "--category", "learning,interests",
                    "--purpose", "sync", "--evidence", "web-form", "--evidence-ref", "form-42",
                    "--days", "30", "--receipt-out", receipt.string()}));
  }

  int Check(const std::string& category) {
    return Ctl("store", {"consent", "check", "s-991", "--from", "courses", "--to", "store",
                         "--category", category, "--purpose", "sync"})
        .exit_code;
  }

  fs::path dir_, certs_;
  std::string endpoint_;
  Daemon hub_;
};

}  // namespace fedhub::e2e

#endif  // FEDHUB_TESTS_E2E_CLI_FIXTURE_H_
