// ClientOptions and MakeGrpcConnection: argument checks that happen before any network
// traffic, and the channel settings the gRPC connection uses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "client/grpc_connection.h"
#include "core/strings.h"
#include "fedhub/client.h"
#include "fedhub/connection.h"
#include "fedhub/options.h"

namespace fedhub {
namespace {

using ::testing::HasSubstr;

std::string Msg(const absl::Status& s) { return std::string(ToStd(s.message())); }

// A fresh directory under the test's temporary directory.
std::string ScratchDir() {
  std::string pattern = ::testing::TempDir() + "fedhub_sdk_XXXXXX";
  const char* dir = mkdtemp(pattern.data());
  EXPECT_NE(dir, nullptr);
  return pattern;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

TEST(sdkClientOptions, ForPrincipalUsesTheDevCertsLayout) {
  const ClientOptions o = ClientOptions::ForPrincipal("/etc/fedhub/certs", "courses", "hub:7443");
  EXPECT_EQ(o.endpoint, "hub:7443");
  EXPECT_EQ(o.ca_cert_file, "/etc/fedhub/certs/ca.crt");
  EXPECT_EQ(o.cert_file, "/etc/fedhub/certs/courses.crt");
  EXPECT_EQ(o.key_file, "/etc/fedhub/certs/courses.key");
  EXPECT_EQ(ClientOptions::ForPrincipal("certs/", "a").ca_cert_file, "certs/ca.crt");
  EXPECT_EQ(ClientOptions::ForPrincipal("certs", "a").endpoint, "localhost:7443");
}

TEST(sdkClientOptions, DefaultsAreTheDocumentedOnes) {
  const ClientOptions o;
  EXPECT_EQ(o.endpoint, "localhost:7443");
  EXPECT_EQ(o.deadline, std::chrono::milliseconds(5000));
  EXPECT_TRUE(o.server_name_override.empty());
}

class sdkGrpcConnection : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ScratchDir();
    for (const char* name : {"ca.crt", "courses.crt", "courses.key"}) {
      WriteFile(dir_ + "/" + name, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    }
  }
  ClientOptions Options() const { return ClientOptions::ForPrincipal(dir_, "courses", "hub:1"); }

  std::string dir_;
};

TEST_F(sdkGrpcConnection, EmptyEndpointIsInvalidArgument) {
  ClientOptions o = Options();
  o.endpoint.clear();
  EXPECT_EQ(MakeGrpcConnection(o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(sdkGrpcConnection, NonPositiveDeadlineIsInvalidArgument) {
  ClientOptions o = Options();
  o.deadline = std::chrono::milliseconds(0);
  EXPECT_EQ(MakeGrpcConnection(o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(sdkGrpcConnection, MissingFileIsInvalidArgumentNamingIt) {
  ClientOptions o = ClientOptions::ForPrincipal(dir_, "nobody", "hub:1");
  const absl::Status s = MakeGrpcConnection(o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(s), HasSubstr("cert_file"));
  EXPECT_THAT(Msg(s), HasSubstr(dir_ + "/nobody.crt"));
  // Client::Connect reports the same error.
  EXPECT_EQ(Client::Connect(o).status(), s);
}

TEST_F(sdkGrpcConnection, EmptyPathSaysMutualTlsIsRequired) {
  ClientOptions o = Options();
  o.key_file.clear();
  const absl::Status s = MakeGrpcConnection(o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(s), HasSubstr("key_file"));
  EXPECT_THAT(Msg(s), HasSubstr("mutual TLS"));
}

TEST_F(sdkGrpcConnection, NonPemAndDirectoryAreInvalidArgument) {
  ClientOptions o = Options();
  WriteFile(dir_ + "/courses.key", "just text");
  absl::Status s = MakeGrpcConnection(o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(s), HasSubstr("not a PEM file"));

  o.ca_cert_file = dir_;
  s = MakeGrpcConnection(o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(s), HasSubstr("ca_cert_file"));
}

TEST_F(sdkGrpcConnection, UnreachableHubIsUnavailable) {
  ClientOptions o = Options();
  // A Unix socket nobody listens on: the connect fails at once, without a port.
  o.endpoint = "unix:" + dir_ + "/no-hub.sock";
  o.retry.max_attempts = 2;
  o.retry.initial_backoff = std::chrono::milliseconds(1);
  auto client = Client::Connect(o);
  ASSERT_TRUE(client.ok()) << client.status();
  const absl::Status s = client->GetHubInfo().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  // A mutating call fails the same way (once).
  EXPECT_EQ(client->UnlinkAccount("u-1").status().code(), absl::StatusCode::kUnavailable);
  // A watch that cannot start reports it through Read and Finish.
  auto stream = client->WatchConsents({});
  ASSERT_NE(stream, nullptr);
  v1::WatchConsentsResponse change;
  EXPECT_FALSE(stream->Read(&change));
  EXPECT_EQ(stream->Finish().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(stream->Finish().code(), absl::StatusCode::kUnavailable);  // idempotent
}

TEST_F(sdkGrpcConnection, AWatchCanBeFinishedOrDroppedWithoutReading) {
  ClientOptions o = Options();
  o.endpoint = "unix:" + dir_ + "/no-hub.sock";
  auto conn = MakeGrpcConnection(o);
  ASSERT_TRUE(conn.ok()) << conn.status();
  auto cancelled = (*conn)->WatchConsents({});
  cancelled->Cancel();
  const absl::StatusCode code = cancelled->Finish().code();
  EXPECT_TRUE(code == absl::StatusCode::kCancelled || code == absl::StatusCode::kUnavailable)
      << absl::StatusCodeToString(code);
  auto dropped = (*conn)->WatchConsents({});
  dropped.reset();  // the destructor ends the call
}

TEST(sdkChannelArguments, KeepaliveAndOverride) {
  ClientOptions o;
  o.server_name_override = "localhost";
  const grpc::ChannelArguments channel_args = client::MakeChannelArguments(o);
  const grpc_channel_args args = channel_args.c_channel_args();
  bool saw_keepalive = false, saw_override = false;
  for (size_t i = 0; i < args.num_args; ++i) {
    const std::string key = args.args[i].key;
    if (key == GRPC_ARG_KEEPALIVE_TIME_MS) {
      saw_keepalive = true;
      EXPECT_EQ(args.args[i].value.integer, client::kKeepaliveTimeMs);
    }
    if (key == GRPC_SSL_TARGET_NAME_OVERRIDE_ARG) {
      saw_override = true;
      EXPECT_STREQ(args.args[i].value.string, "localhost");
    }
  }
  EXPECT_TRUE(saw_keepalive);
  EXPECT_TRUE(saw_override);
}

}  // namespace
}  // namespace fedhub
