// The fixture of the streaming end-to-end tests (stream_cli_test.cc, kill_test.cc): a
// temporary directory with development certificates, the built fedhubd started (and
// restarted) on it on a port the kernel picks, the built fedhubctl, and SDK clients for
// what fedhubctl cannot do (publishing).
//
// After Bootstrap: platforms courses, store and books are registered; courses' user u-17
// is linked to store's s-991; courses has granted u-17's consent to send PROFILE and
// INTERESTS to store for SYNC (consent_id_).
#ifndef FEDHUB_TESTS_E2E_STREAM_FIXTURE_H_
#define FEDHUB_TESTS_E2E_STREAM_FIXTURE_H_

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fedhub/client.h"
#include "fedhub/v1/linking.pb.h"
#include "process.h"

#ifndef FEDHUBD
#error "FEDHUBD must name the fedhubd binary"
#endif
#ifndef FEDHUBCTL
#error "FEDHUBCTL must name the fedhubctl binary"
#endif

namespace fedhub::e2e {

// Parses one line of `--json` output; fields `message` does not have (the "cursor" that
// `stream tail` adds) are ignored. Fails the test if the line does not parse.
template <typename Message>
Message ParseJson(const std::string& line) {
  Message message;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(line, &message, options);
  EXPECT_TRUE(status.ok()) << "not a " << message.GetTypeName() << ": " << line;
  return message;
}

// A profile change of `user` replacing PROFILE (only display_name set).
inline v1::PublishEvent ProfileEvent(const std::string& event_id, const std::string& user,
                                     int64_t version) {
  v1::PublishEvent e;
  e.set_event_id(event_id);
  v1::ProfileChange* p = e.mutable_profile();
  p->mutable_user()->set_local_user_id(user);
  p->add_categories(v1::DATA_CATEGORY_PROFILE);
  p->mutable_fields()->set_display_name("Ada " + event_id);
  p->set_version(version);
  return e;
}

inline v1::PublishEvent ItemEvent(const std::string& event_id, const std::string& item_id,
                                  v1::ItemKind kind, const std::string& language = "en") {
  v1::PublishEvent e;
  e.set_event_id(event_id);
  v1::CatalogueItem* item = e.mutable_catalogue()->mutable_item();
  item->set_item_id(item_id);
  item->set_kind(kind);
  item->set_title("Item " + item_id);
  item->add_tags("design");
  item->set_price_minor(1999);
  item->set_currency("EUR");
  item->set_language(language);
  return e;
}

class StreamE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeScratchDir("fedhub-stream-e2e");
    ASSERT_FALSE(dir_.empty());
    certs_ = dir_ / "certs";
    RunResult r = RunProcess({FEDHUBCTL, "dev-certs", "--out", certs_.string(), "--platform",
                              "courses", "--platform", "store", "--platform", "books"});
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    ASSERT_NO_FATAL_FAILURE(StartHub());
  }

  void TearDown() override {
    hub_.Kill();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Starts fedhubd on the test's data directory; a restart after Stop keeps the data, the
  // certificates and the signing key, and gets a new port.
  void StartHub() {
    const std::filesystem::path port_file = dir_ / "port";
    std::filesystem::remove(port_file);
    std::string error = hub_.Start(
        {FEDHUBD, "--listen", "127.0.0.1:0", "--metrics-listen", "", "--data-dir",
         (dir_ / "data").string(), "--signing-key", (dir_ / "signing.key").string(), "--tls-cert",
         (certs_ / "hub.crt").string(), "--tls-key", (certs_ / "hub.key").string(), "--tls-ca",
         (certs_ / "ca.crt").string(), "--port-file", port_file.string(), "--max-threads", "16"},
        (dir_ / "fedhubd.log").string(), " listening on ");
    ASSERT_EQ(error, "");
    std::ifstream in(port_file);
    std::string port;
    std::getline(in, port);
    ASSERT_FALSE(port.empty()) << "empty port file";
    endpoint_ = "127.0.0.1:" + port;
  }

  RunResult Ctl(const std::string& as, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {FEDHUBCTL,       "--endpoint", endpoint_, "--certs",
                                     certs_.string(), "--as",       as};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }

  // Runs and expects `want` as the exit code; returns stdout.
  std::string CtlOk(const std::string& as, const std::vector<std::string>& args, int want = 0) {
    RunResult r = Ctl(as, args);
    std::string command;
    for (const std::string& a : args) command += " " + a;
    EXPECT_EQ(r.exit_code, want) << "fedhubctl --as " << as << command << "\n" << r.Describe();
    return r.out;
  }

  void Bootstrap() {
    for (const char* platform : {"courses", "store", "books"}) {
      CtlOk("operator", {"platform", "register", platform, "--role", "platform"});
    }
    auto ticket = ParseJson<v1::CreateLinkTicketResponse>(
        Trim(CtlOk("courses", {"--json", "link", "ticket", "u-17"})));
    ASSERT_FALSE(ticket.ticket().empty());
    CtlOk("store", {"link", "redeem", "--", ticket.ticket(), "s-991"});
    consent_id_ = Trim(
        CtlOk("courses", {"consent", "grant", "u-17", "--to", "store", "--category",
                          "profile,interests", "--purpose", "sync", "--evidence", "web-form"}));
    ASSERT_EQ(consent_id_.rfind("c-", 0), 0u) << consent_id_;
  }

  // An SDK client acting as `principal` on the hub as it runs now.
  absl::StatusOr<Client> ClientFor(const std::string& principal) const {
    ClientOptions options = ClientOptions::ForPrincipal(certs_.string(), principal, endpoint_);
    return Client::Connect(options);
  }

  std::filesystem::path dir_, certs_;
  std::string endpoint_;
  std::string consent_id_;
  Daemon hub_;
};

}  // namespace fedhub::e2e

#endif  // FEDHUB_TESTS_E2E_STREAM_FIXTURE_H_
