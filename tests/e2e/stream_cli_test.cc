// End to end: fedhubctl's stream and catalogue commands against the built fedhubd, with
// events published through the SDK (fedhubctl has no publish command).
#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "stream_fixture.h"

namespace fedhub::e2e {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;

class StreamCliTest : public StreamE2eTest {
 protected:
  // Publishes `events` as courses; returns their offsets.
  std::vector<uint64_t> Publish(std::vector<v1::PublishEvent> events) {
    std::vector<uint64_t> offsets;
    auto client = ClientFor("courses");
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return offsets;
    auto publisher = client->NewPublisher();
    EXPECT_TRUE(publisher.ok()) << publisher.status();
    if (!publisher.ok()) return offsets;
    std::vector<std::future<absl::StatusOr<uint64_t>>> stored;
    for (auto& e : events) stored.push_back((*publisher)->Publish(std::move(e)));
    EXPECT_TRUE((*publisher)->Close().ok());
    for (auto& f : stored) {
      absl::StatusOr<uint64_t> offset = f.get();
      EXPECT_TRUE(offset.ok()) << offset.status();
      offsets.push_back(offset.value_or(0));
    }
    return offsets;
  }

  // `stream tail --json` output, one DeliveredEvent per line.
  static std::vector<v1::DeliveredEvent> Events(const std::string& out) {
    std::vector<v1::DeliveredEvent> events;
    for (const std::string& line : Lines(out)) {
      events.push_back(ParseJson<v1::DeliveredEvent>(line));
    }
    return events;
  }

  static std::string Field(const std::string& json_line, const std::string& name) {
    auto object = ParseJson<google::protobuf::Struct>(json_line);
    auto it = object.fields().find(name);
    if (it == object.fields().end()) return "";
    if (it->second.has_bool_value()) return it->second.bool_value() ? "true" : "false";
    return it->second.string_value();
  }
};

TEST_F(StreamCliTest, ShareListAndTailTheCatalogueAndProfiles) {
  ASSERT_NO_FATAL_FAILURE(Bootstrap());
  EXPECT_THAT(CtlOk("courses", {"catalogue", "policy"}), HasSubstr("nobody"));
  EXPECT_THAT(CtlOk("courses", {"catalogue", "share", "--with", "store", "--kind", "course,ebook"}),
              HasSubstr("shared with  store\nkinds        course, ebook"));
  auto policy =
      ParseJson<v1::SharingPolicy>(Trim(CtlOk("courses", {"--json", "catalogue", "policy"})));
  EXPECT_THAT(policy.platform_ids(), ElementsAre("store"));
  EXPECT_THAT(policy.kinds(), ElementsAre(v1::ITEM_KIND_COURSE, v1::ITEM_KIND_EBOOK));

  std::vector<uint64_t> offsets =
      Publish({ItemEvent("e-1", "c-1", v1::ITEM_KIND_COURSE),
               ItemEvent("e-2", "sw-1", v1::ITEM_KIND_SOFTWARE),
               ItemEvent("e-3", "b-1", v1::ITEM_KIND_EBOOK, "de"), ProfileEvent("e-4", "u-17", 1)});
  ASSERT_THAT(offsets, SizeIs(4));

  // list: what is shared with store, narrowed by kind and language; courses' own items.
  auto listed = Lines(CtlOk("store", {"--json", "catalogue", "list"}));
  ASSERT_THAT(listed, SizeIs(2));
  EXPECT_EQ(ParseJson<v1::SharedItem>(listed[0]).item().item_id(), "b-1");
  EXPECT_EQ(ParseJson<v1::SharedItem>(listed[1]).item().item_id(), "c-1");
  EXPECT_EQ(ParseJson<v1::SharedItem>(listed[1]).offset(), offsets[0]);
  EXPECT_THAT(Lines(CtlOk("store", {"--json", "catalogue", "list", "--kind", "ebook"})), SizeIs(1));
  auto english = Lines(CtlOk("store", {"--json", "catalogue", "list", "--language", "en"}));
  ASSERT_THAT(english, SizeIs(1));
  EXPECT_EQ(ParseJson<v1::SharedItem>(english[0]).item().item_id(), "c-1");
  EXPECT_THAT(Lines(CtlOk("courses", {"--json", "catalogue", "list", "--own"})), SizeIs(3));
  EXPECT_THAT(CtlOk("books", {"catalogue", "list"}), HasSubstr("no shared item matches"));
  std::string table = CtlOk("store", {"catalogue", "list"});
  EXPECT_THAT(table, StartsWith("PUBLISHER"));
  EXPECT_THAT(table, HasSubstr("courses    c-1   course"));

  // tail --json: the events store may see, in log order, each with its resume cursor.
  RunResult tail = Ctl("store", {"--json", "stream", "tail", "--after", "0", "-n", "3"});
  ASSERT_EQ(tail.exit_code, 0) << tail.Describe();
  auto events = Events(tail.out);
  ASSERT_THAT(events, SizeIs(3));
  EXPECT_EQ(events[0].catalogue().item().item_id(), "c-1");
  EXPECT_EQ(events[1].catalogue().item().item_id(), "b-1");
  EXPECT_EQ(events[2].profile().user().local_user_id(), "s-991");
  EXPECT_EQ(events[2].profile().fields().display_name(), "Ada e-4");
  EXPECT_EQ(events[2].offset(), offsets[3]);
  const std::string cursor = Field(Lines(tail.out)[2], "cursor");
  EXPECT_EQ(cursor, std::to_string(offsets[3]));
  EXPECT_EQ(Field(Lines(tail.out)[0], "snapshot"), "false");
  EXPECT_THAT(tail.err, HasSubstr("stopped after 3 events; resume with --after " + cursor));

  // The table names the person by store's own id; resuming continues with the next event.
  std::string text = CtlOk("store", {"stream", "tail", "--after", "0", "-n", "3"});
  auto rows = Lines(text);
  ASSERT_THAT(rows, SizeIs(5)) << text;
  EXPECT_THAT(rows[0], StartsWith("OFFSET"));
  EXPECT_THAT(rows[1], HasSubstr("catalogue  courses"));
  EXPECT_THAT(rows[3], HasSubstr("profile    courses     user s-991"));
  EXPECT_THAT(rows[3], HasSubstr("version 1: display_name"));
  EXPECT_EQ(rows[4], "stopped after 3 events; resume with --after " + cursor);
  std::vector<uint64_t> later = Publish({ProfileEvent("e-5", "u-17", 2)});
  ASSERT_THAT(later, SizeIs(1));
  auto resumed = Events(CtlOk("store", {"--json", "stream", "tail", "--after", cursor, "-n", "1"}));
  ASSERT_THAT(resumed, SizeIs(1));
  EXPECT_EQ(resumed[0].event_id(), "e-5");
  EXPECT_EQ(resumed[0].offset(), later[0]);

  // Narrowed to ebooks; a snapshot of the shared catalogue.
  auto ebooks = Events(CtlOk("store", {"--json", "stream", "tail", "--kinds", "catalogue",
                                       "--kind-filter", "ebook", "--after", "0", "-n", "1"}));
  ASSERT_THAT(ebooks, SizeIs(1));
  EXPECT_EQ(ebooks[0].catalogue().item().item_id(), "b-1");
  RunResult snapshot =
      Ctl("store", {"--json", "stream", "tail", "--snapshot", "--kinds", "catalogue", "-n", "2"});
  ASSERT_EQ(snapshot.exit_code, 0) << snapshot.Describe();
  ASSERT_THAT(Lines(snapshot.out), SizeIs(2));
  for (const std::string& line : Lines(snapshot.out)) EXPECT_EQ(Field(line, "snapshot"), "true");

  auto info =
      ParseJson<v1::GetStreamInfoResponse>(Trim(CtlOk("store", {"--json", "stream", "info"})));
  EXPECT_EQ(info.head_cursor(), later[0]);
  EXPECT_THAT(CtlOk("store", {"stream", "info"}),
              HasSubstr("head cursor      " + std::to_string(later[0])));
}

TEST_F(StreamCliTest, ErasureNoticeIsShownAndAcknowledged) {
  ASSERT_NO_FATAL_FAILURE(Bootstrap());
  std::vector<uint64_t> offsets = Publish({ProfileEvent("e-1", "u-17", 1)});
  ASSERT_THAT(offsets, SizeIs(1));
  CtlOk("store", {"consent", "revoke", consent_id_, "s-991"});

  const std::string notice = "erasure-" + consent_id_;
  std::string text = CtlOk("store", {"stream", "tail", "--kinds", "profile", "--after",
                                     std::to_string(offsets[0]), "-n", "1"});
  auto rows = Lines(text);
  ASSERT_THAT(rows, SizeIs(3)) << text;
  EXPECT_THAT(rows[1], HasSubstr("ERASURE    courses     user s-991"));
  EXPECT_THAT(rows[1], HasSubstr("fedhubctl stream ack-erasure " + notice));

  EXPECT_THAT(CtlOk("store", {"stream", "ack-erasure", notice}),
              HasSubstr("acknowledged " + notice + " at "));
  auto again = ParseJson<v1::AcknowledgeErasureResponse>(
      Trim(CtlOk("store", {"--json", "stream", "ack-erasure", notice})));
  EXPECT_TRUE(again.already_acknowledged());
}

TEST_F(StreamCliTest, SigintStopsTheTailCleanlyAndPrintsTheCursor) {
  ASSERT_NO_FATAL_FAILURE(Bootstrap());
  std::vector<uint64_t> offsets = Publish({ProfileEvent("e-1", "u-17", 1)});
  ASSERT_THAT(offsets, SizeIs(1));
  const std::string err_file = (dir_ / "tail.err").string();
  Daemon tail;
  // The event's line shows that the tail is running with its signal handling in place.
  ASSERT_EQ(tail.Start({FEDHUBCTL, "--endpoint", endpoint_, "--certs", certs_.string(), "--as",
                        "store", "--json", "stream", "tail", "--after", "0"},
                       err_file, "\"event_id\":\"e-1\""),
            "");
  EXPECT_EQ(tail.Stop(SIGINT), "exit 0");
  std::ifstream in(err_file);
  std::stringstream err;
  err << in.rdbuf();
  EXPECT_EQ(err.str(),
            "fedhubctl: stopped; resume with --after " + std::to_string(offsets[0]) + "\n");
}

TEST_F(StreamCliTest, BadFlagsAreUsageErrorsAndRefusalsCarryTheHubsMessage) {
  ASSERT_NO_FATAL_FAILURE(Bootstrap());
  RunResult both = Ctl("store", {"stream", "tail", "--after", "3", "--from-now"});
  EXPECT_EQ(both.exit_code, 64) << both.Describe();
  EXPECT_THAT(both.err, HasSubstr("usage: fedhubctl stream tail"));
  RunResult kind = Ctl("store", {"stream", "tail", "--kinds", "videos"});
  EXPECT_EQ(kind.exit_code, 64) << kind.Describe();
  EXPECT_THAT(kind.err,
              HasSubstr("unknown stream kind \"videos\"; use one of: profile, catalogue"));
  EXPECT_EQ(Ctl("store", {"stream", "tail", "--kinds", "profile", "--tag", "rust"}).exit_code, 64);
  EXPECT_EQ(Ctl("store", {"stream", "tail", "-n", "0"}).exit_code, 64);
  EXPECT_EQ(Ctl("store", {"stream", "ack-erasure"}).exit_code, 64);
  EXPECT_EQ(Ctl("courses", {"catalogue", "share"}).exit_code, 64);
  EXPECT_EQ(Ctl("courses", {"catalogue", "share", "--with", "store", "--all-members"}).exit_code,
            64);
  EXPECT_EQ(Ctl("courses", {"catalogue", "list", "--kind", "poster"}).exit_code, 64);

  RunResult unknown = Ctl("courses", {"catalogue", "share", "--with", "nosuch"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown.Describe();
  EXPECT_THAT(unknown.err, HasSubstr("fedhubctl: NOT_FOUND: "));
  EXPECT_THAT(unknown.err, HasSubstr("policy.platform_ids[0]"));
  RunResult tag = Ctl("store", {"stream", "tail", "--tag", "Not A Tag", "-n", "1"});
  EXPECT_EQ(tag.exit_code, 1) << tag.Describe();
  EXPECT_THAT(tag.err, HasSubstr("fedhubctl: INVALID_ARGUMENT: "));
  RunResult notice = Ctl("store", {"stream", "ack-erasure", "erasure-c-nope"});
  EXPECT_EQ(notice.exit_code, 1) << notice.Describe();
  EXPECT_THAT(notice.err, StartsWith("fedhubctl: "));
  RunResult admin = Ctl("operator", {"stream", "info"});
  EXPECT_EQ(admin.exit_code, 1) << admin.Describe();
  EXPECT_THAT(admin.err, HasSubstr("fedhubctl: PERMISSION_DENIED: "));
}

}  // namespace
}  // namespace fedhub::e2e
