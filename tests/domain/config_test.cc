// fedhubd's configuration: flags and YAML keys, and the bounds a value must be within.
#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "scratch_dir.h"

namespace fedhub::config {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<HubConfig> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "fedhubd");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return FromArgs(static_cast<int>(argv.size()), argv.data());
}

TEST(ConfigTest, StreamMaxBatchEventsDefaultsTo1000) {
  auto c = Parse({});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->stream_max_batch_events, 1000);
}

TEST(ConfigTest, StreamMaxBatchEventsAcceptsUpToTheLimit) {
  auto low = Parse({"--stream-max-batch-events", "1"});
  ASSERT_TRUE(low.ok()) << low.status();
  EXPECT_EQ(low->stream_max_batch_events, 1);
  auto high = Parse({"--stream-max-batch-events=10000"});
  ASSERT_TRUE(high.ok()) << high.status();
  EXPECT_EQ(high->stream_max_batch_events, kMaxStreamBatchEvents);
  EXPECT_EQ(kMaxStreamBatchEvents, 10000);
}

TEST(ConfigTest, StreamMaxBatchEventsAboveTheLimitIsRefusedNamingKeyAndLimit) {
  for (const char* value : {"10001", "20000", "2147483647", "99999999999"}) {
    auto c = Parse({"--stream_max_batch_events", value});
    ASSERT_FALSE(c.ok()) << value;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(c.status().message()),
              std::string("stream_max_batch_events: \"") + value +
                  "\" is not an integer from 1 to 10000");
  }
  auto zero = Parse({"--stream-max-batch-events", "0"});
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(std::string(zero.status().message()), HasSubstr("from 1 to 10000"));
}

TEST(ConfigTest, StreamMaxBatchEventsLimitAppliesToTheConfigFile) {
  fedhub::testing::ScratchDir dir;
  const std::string path = dir.Sub("fedhubd.yaml");
  std::ofstream(path) << "stream_max_batch_events: 10001\n";
  auto c = Parse({"--config", path});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("stream_max_batch_events: \"10001\" is not an integer from 1 to 10000"));

  std::ofstream(path) << "stream_max_batch_events: 5000\n";
  auto ok = Parse({"--config", path});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->stream_max_batch_events, 5000);
}

TEST(ConfigTest, KeysWithoutAnUpperBoundKeepTheirMessage) {
  auto c = Parse({"--max-threads", "2"});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(std::string(c.status().message()), "max_threads: \"2\" is not an integer >= 4");
  auto big = Parse({"--stream-subscriber-buffer-events", "50000"});
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_EQ(big->stream_subscriber_buffer_events, 50000);
}

}  // namespace
}  // namespace fedhub::config
