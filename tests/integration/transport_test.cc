// The transport: only mutual TLS with a certificate from the hub's CA reaches a service;
// anything else fails the handshake (UNAVAILABLE at the client) and never reaches the hub's
// handlers, its audit log or its RPC metrics. The plaintext port serves health only.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "devcerts/devcerts.h"
#include "it_util.h"
#include "raw_calls.h"

namespace fedhub::testing {
namespace {

using Code = absl::StatusCode;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TransportTest : public HubTest {
 protected:
  TestHubOptions Options() override {
    TestHubOptions o;
    o.health_port = true;
    return o;
  }

  // Options that give up at the first failure, so a refused handshake is reported at once.
  ClientOptions NoRetry(ClientOptions o) {
    o.retry.max_attempts = 1;
    return o;
  }

  // Runs `attempt`, which must fail with UNAVAILABLE, and checks the hub saw nothing.
  template <typename Attempt>
  void ExpectRefusedAtHandshake(Attempt attempt) {
    uint64_t audit_before = Head(v1::CHAIN_AUDIT).size();
    double rpcs_before = hub_->CounterSum("fedhub_rpc_requests_total");
    absl::Status s = attempt();
    EXPECT_EQ(s.code(), Code::kUnavailable) << s;
    EXPECT_EQ(hub_->CounterSum("fedhub_rpc_requests_total"), rpcs_before);
    // Reading the head is itself an RPC; compare after.
    EXPECT_EQ(Head(v1::CHAIN_AUDIT).size(), audit_before);
  }
};

TEST_F(TransportTest, ACertificateFromAnotherCaCannotConnect) {
  auto other = MakeTempDir("fedhub-other-ca");
  ASSERT_TRUE(other.ok()) << other.status();
  devcerts::DevCertsOptions dc;
  dc.out_dir = *other;
  dc.principals = {{"platform", "course"}};
  FEDHUB_ASSERT_OK(devcerts::GenerateDevCerts(dc));

  ClientOptions o = NoRetry(hub_->OptionsFor("course"));  // trusts the hub's CA
  o.cert_file = *other + "/course.crt";
  o.key_file = *other + "/course.key";
  auto foreign = Client::Connect(o);
  ASSERT_TRUE(foreign.ok()) << foreign.status();
  ExpectRefusedAtHandshake([&] { return foreign->GetHubInfo().status(); });
  ExpectRefusedAtHandshake([&] { return foreign->GrantConsent(Grant("u-1", "store")).status(); });
  ExpectRefusedAtHandshake([&] { return HealthCheck(hub_->ChannelFor("course", *other)).status(); });
  std::filesystem::remove_all(*other);
}

TEST_F(TransportTest, AnExpiredCertificateCannotConnect) {
  std::string cert = hub_->root_dir() + "/expired.crt";
  std::string key = hub_->root_dir() + "/expired.key";
  FEDHUB_ASSERT_OK(devcerts::IssueLeaf(hub_->certs_dir(), cert, key, "spiffe://fedhub/platform/course",
                                       "course", /*server=*/false, /*valid_days=*/1,
                                       /*not_before_offset_days=*/-10));
  ClientOptions o = NoRetry(hub_->OptionsFor("course"));
  o.cert_file = cert;
  o.key_file = key;
  auto expired = Client::Connect(o);
  ASSERT_TRUE(expired.ok()) << expired.status();
  ExpectRefusedAtHandshake([&] { return expired->GetHubInfo().status(); });
}

TEST_F(TransportTest, NoClientCertificateOrPlaintextCannotConnect) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadFile(hub_->certs_dir() + "/ca.crt");
  auto no_cert = grpc::CreateChannel(hub_->endpoint(), grpc::SslCredentials(ssl));
  ExpectRefusedAtHandshake([&] { return HealthCheck(no_cert).status(); });
  auto plaintext = grpc::CreateChannel(hub_->endpoint(), grpc::InsecureChannelCredentials());
  ExpectRefusedAtHandshake([&] { return HealthCheck(plaintext).status(); });
  ExpectRefusedAtHandshake(
      [&] { return RawUnary(plaintext, "/fedhub.v1.HubService/GetHubInfo", "").status(); });
}

TEST_F(TransportTest, AClientThatDoesNotTrustTheHubRefusesIt) {
  auto other = MakeTempDir("fedhub-other-ca");
  ASSERT_TRUE(other.ok());
  devcerts::DevCertsOptions dc;
  dc.out_dir = *other;
  FEDHUB_ASSERT_OK(devcerts::GenerateDevCerts(dc));
  ClientOptions o = NoRetry(hub_->OptionsFor("course"));
  o.ca_cert_file = *other + "/ca.crt";
  auto c = Client::Connect(o);
  ASSERT_TRUE(c.ok());
  ExpectRefusedAtHandshake([&] { return c->GetHubInfo().status(); });
  std::filesystem::remove_all(*other);
}

TEST_F(TransportTest, ThePlaintextPortServesOnlyHealth) {
  ASSERT_NE(hub_->health_port(), 0);
  auto channel = grpc::CreateChannel(Cat("127.0.0.1:", hub_->health_port()),
                                     grpc::InsecureChannelCredentials());
  auto health = HealthCheck(channel);
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, 1) << "SERVING";

  double rpcs_before = hub_->CounterSum("fedhub_rpc_requests_total");
  for (const char* method : {"/fedhub.v1.HubService/GetHubInfo", "/fedhub.v1.ConsentService/ListConsents",
                             "/fedhub.v1.RegistryService/ListPrincipals",
                             "/fedhub.v1.AuditService/GetChainHead"}) {
    EXPECT_THAT(RawUnary(channel, method, ""), StatusIs(Code::kUnimplemented, ::testing::_)) << method;
  }
  EXPECT_THAT(ReflectionListServices(channel), StatusIs(Code::kUnimplemented, ::testing::_));
  EXPECT_EQ(hub_->CounterSum("fedhub_rpc_requests_total"), rpcs_before);
}

}  // namespace
}  // namespace fedhub::testing
