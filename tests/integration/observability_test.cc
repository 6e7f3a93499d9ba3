// Health and reflection on the mutual-TLS port, and Prometheus /metrics on its own port: RPCs by method and code, consent checks by outcome,
// audit entries and open streams, fetched over plain HTTP as Prometheus would.
#include "fedhub/v1/hub.grpc.pb.h"
#include "it_util.h"
#include "raw_calls.h"

namespace fedhub::testing {
namespace {

using ::testing::HasSubstr;

// The value of the sample `name{labels}` in an exposition, or -1 if absent. `labels` is
// the exact label text prometheus-cpp writes, e.g. `code="OK",method="GrantConsent"`.
double Sample(const std::string& exposition, const std::string& name, const std::string& labels) {
  std::string head = labels.empty() ? name + " " : name + "{" + labels + "} ";
  size_t at = 0;
  while ((at = exposition.find(head, at)) != std::string::npos) {
    if (at == 0 || exposition[at - 1] == '\n') {
      return std::stod(exposition.substr(at + head.size()));
    }
    at += head.size();
  }
  return -1;
}

// Names of the fedhub_ samples in an exposition.
std::vector<std::string> SampleNames(const std::string& exposition) {
  std::vector<std::string> names;
  size_t at = 0;
  while (at < exposition.size()) {
    size_t end = exposition.find('\n', at);
    if (end == std::string::npos) end = exposition.size();
    std::string line = exposition.substr(at, end - at);
    if (line.rfind("fedhub_", 0) == 0) names.push_back(line.substr(0, line.find_first_of("{ ")));
    at = end + 1;
  }
  return names;
}

class MetricsTest : public HubTest {
 protected:
  TestHubOptions Options() override {
    TestHubOptions o;
    o.metrics = true;
    return o;
  }

  std::string Scrape() {
    auto r = HttpGet(hub_->metrics_port(), "/metrics");
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return "";
    EXPECT_THAT(*r, ::testing::ContainsRegex("^HTTP/1\\.[01] 200 ")) << r->substr(0, 200);
    return *r;
  }
};

TEST_F(MetricsTest, CountsRpcsByMethodAndCodeAndChecksByOutcomeOnItsOwnPort) {
  ASSERT_NE(hub_->metrics_port(), 0);
  FEDHUB_ASSERT_OK(course().GrantConsent(Grant("u-1", "store")));
  ConsentGrant bad = Grant("u-1", "store");
  bad.evidence_method.clear();
  EXPECT_FALSE(course().GrantConsent(bad).ok());
  for (int i = 0; i < 3; ++i) {
    auto d = course().CheckConsent("u-1", "course", "store", v1::DATA_CATEGORY_LEARNING, v1::PURPOSE_SYNC);
    ASSERT_TRUE(d.ok() && d->allowed());
  }
  auto denied = course().CheckConsent("u-1", "course", "store", v1::DATA_CATEGORY_CONTACT, v1::PURPOSE_SYNC);
  ASSERT_TRUE(denied.ok() && !denied->allowed());
  EXPECT_FALSE(auditor().GrantConsent(Grant("u-1", "store")).ok());
  WatchCollector watch(store().WatchConsents(v1::WatchConsentsRequest()));
  ASSERT_TRUE(watch.WaitFor(1));

  std::string m = Scrape();
  EXPECT_THAT(m, HasSubstr("# TYPE fedhub_rpc_requests_total counter"));
  // Registration of the five principals at start, then ours.
  EXPECT_EQ(Sample(m, "fedhub_rpc_requests_total", R"(code="OK",method="RegisterPrincipal")"), 5);
  EXPECT_EQ(Sample(m, "fedhub_rpc_requests_total", R"(code="OK",method="GrantConsent")"), 1);
  EXPECT_EQ(Sample(m, "fedhub_rpc_requests_total", R"(code="INVALID_ARGUMENT",method="GrantConsent")"), 1);
  EXPECT_EQ(Sample(m, "fedhub_rpc_requests_total", R"(code="PERMISSION_DENIED",method="GrantConsent")"), 1);
  EXPECT_EQ(Sample(m, "fedhub_rpc_requests_total", R"(code="OK",method="CheckConsent")"), 4);
  EXPECT_EQ(Sample(m, "fedhub_rpc_requests_total", R"(code="OK",method="WatchConsents")"), 1);
  EXPECT_EQ(Sample(m, "fedhub_consent_checks_total", R"(outcome="allowed")"), 3);
  EXPECT_EQ(Sample(m, "fedhub_consent_checks_total", R"(outcome="denied")"), 1);
  EXPECT_EQ(Sample(m, "fedhub_open_streams", ""), 1);
  EXPECT_GE(Sample(m, "fedhub_audit_entries_total", R"(outcome="allowed")"), 6);
  EXPECT_EQ(Sample(m, "fedhub_audit_entries_total", R"(outcome="denied")"), 2);
  EXPECT_GT(Sample(m, "fedhub_rpc_duration_seconds_count", R"(method="GrantConsent")"), 0);
  EXPECT_GT(Sample(m, "fedhub_storage_commits_total", ""), 0);
  EXPECT_GE(Sample(m, "fedhub_rocksdb_write_stall_seconds_total", ""), 0);
  // Metric names follow Prometheus conventions: snake_case, seconds rather than milliseconds.
  for (const std::string& name : SampleNames(m)) {
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_"), std::string::npos) << name;
    EXPECT_EQ(name.find("_ms"), std::string::npos) << name;
    EXPECT_EQ(name.find("millis"), std::string::npos) << name;
  }

  // Nothing but /metrics is served there.
  auto other = HttpGet(hub_->metrics_port(), "/admin");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_THAT(*other, ::testing::ContainsRegex("^HTTP/1\\.[01] 404 "));
}

class HealthTest : public HubTest {};

TEST_F(HealthTest, AGeneratedStubSeesTheSameIdentity) {
  auto stub = hub_->StubFor<v1::HubService>("auditor");
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::GetHubInfoResponse info;
  grpc::Status s = stub->GetHubInfo(&ctx, v1::GetHubInfoRequest(), &info);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(info.caller_id(), "auditor");
  EXPECT_EQ(info.caller_role(), v1::ROLE_AUDITOR);
  auto peer = ctx.auth_context();
  ASSERT_NE(peer, nullptr);
  EXPECT_TRUE(peer->IsPeerAuthenticated()) << "the hub proved its identity with its certificate";
}

TEST_F(HealthTest, TheMutualTlsPortServesHealthAndReflection) {
  auto channel = hub_->ChannelFor("course");
  auto health = HealthCheck(channel);
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, 1) << "SERVING";
  auto services = ReflectionListServices(channel);
  ASSERT_TRUE(services.ok()) << services.status();
  for (const char* name : {"fedhub.v1.HubService", "fedhub.v1.RegistryService", "fedhub.v1.LinkingService",
                           "fedhub.v1.ConsentService", "fedhub.v1.AuditService", "grpc.health.v1.Health"}) {
    EXPECT_THAT(*services, HasSubstr(name));
  }
}

}  // namespace
}  // namespace fedhub::testing
