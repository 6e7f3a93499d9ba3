#include "test_hub.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <prometheus/registry.h>

#include "core/strings.h"
#include "devcerts/devcerts.h"

namespace fedhub::testing {
namespace {

absl::StatusOr<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(Cat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Loopback(int port) { return Cat("127.0.0.1:", port); }

}  // namespace

absl::StatusOr<std::string> MakeTempDir(const std::string& prefix) {
  std::error_code ec;
  std::filesystem::path base = std::filesystem::temp_directory_path(ec);
  if (ec) base = "/tmp";
  std::string tmpl = (base / (prefix + "-XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError(Cat("mkdtemp ", tmpl, " failed"));
  }
  return tmpl;
}

absl::StatusOr<std::unique_ptr<TestHub>> TestHub::Start(TestHubOptions options) {
  std::unique_ptr<TestHub> t(new TestHub());
  auto root = MakeTempDir("fedhub-it");
  if (!root.ok()) return root.status();
  t->root_ = *root;
  t->certs_dir_ = t->root_ + "/certs";

  devcerts::DevCertsOptions dc;
  dc.out_dir = t->certs_dir_;
  dc.principals = {{"admin", "operator"},    {"platform", "course"}, {"platform", "store"},
                   {"platform", "books"},    {"recommender", "recs"}, {"auditor", "auditor"}};
  if (absl::Status s = devcerts::GenerateDevCerts(dc); !s.ok()) return s;

  config::HubConfig& c = t->config_;
  c.listen = "127.0.0.1:0";
  c.health_listen = options.health_port ? "127.0.0.1:0" : "";
  c.metrics_listen = options.metrics ? "127.0.0.1:0" : "";
  c.data_dir = t->root_ + "/data";
  c.tls_cert = t->certs_dir_ + "/hub.crt";
  c.tls_key = t->certs_dir_ + "/hub.key";
  c.tls_ca = t->certs_dir_ + "/ca.crt";
  c.signing_key = t->root_ + "/signing.key";
  c.bootstrap_admins = {"operator"};
  c.max_threads = 16;
  if (options.configure) options.configure(c);

  if (absl::Status s = t->Open(); !s.ok()) return s;
  // From now on the hub comes back on the ports it picked.
  c.listen = Loopback(t->port_);
  if (t->health_port_ != 0) c.health_listen = Loopback(t->health_port_);
  if (t->metrics_port_ != 0) c.metrics_listen = Loopback(t->metrics_port_);

  if (options.register_principals) {
    Client admin = t->ClientFor("operator");
    auto reg = [&](const std::string& id, v1::Role role, const std::string& bound) -> absl::Status {
      v1::Principal p;
      p.set_id(id);
      p.set_role(role);
      p.set_display_name(Cat("Test ", id));
      p.set_bound_platform_id(bound);
      return admin.RegisterPrincipal(p).status();
    };
    for (const char* id : kPlatforms) {
      if (absl::Status s = reg(id, v1::ROLE_PLATFORM, ""); !s.ok()) return s;
    }
    if (absl::Status s = reg("recs", v1::ROLE_RECOMMENDER, "course"); !s.ok()) return s;
    if (absl::Status s = reg("auditor", v1::ROLE_AUDITOR, ""); !s.ok()) return s;
  }
  return t;
}

TestHub::~TestHub() {
  Stop();
  std::error_code ec;
  if (!root_.empty()) std::filesystem::remove_all(root_, ec);
}

absl::Status TestHub::Open() {
  auto hub = Hub::Open(config_);
  if (!hub.ok()) return hub.status();
  hub_ = std::move(*hub);
  auto server = server::Server::Start(*hub_);
  if (!server.ok()) {
    hub_.reset();
    return server.status();
  }
  server_ = std::move(*server);
  port_ = server_->port();
  health_port_ = server_->health_port();
  metrics_port_ = server_->metrics_port();
  return absl::OkStatus();
}

void TestHub::Stop() {
  if (server_) {
    server_->Shutdown(std::chrono::milliseconds(1000));
    server_.reset();
  }
  hub_.reset();
}

absl::Status TestHub::Restart() {
  Stop();
  return Open();
}

std::string TestHub::endpoint() const { return Loopback(port_); }

ClientOptions TestHub::OptionsFor(const std::string& id) const {
  ClientOptions o = ClientOptions::ForPrincipal(certs_dir_, id, endpoint());
  o.deadline = std::chrono::milliseconds(5000);
  o.retry.max_attempts = 3;
  o.retry.initial_backoff = std::chrono::milliseconds(20);
  o.retry.max_backoff = std::chrono::milliseconds(200);
  o.retry.total_timeout = std::chrono::milliseconds(5000);
  return o;
}

Client TestHub::ClientFor(const std::string& id) const {
  auto client = Client::Connect(OptionsFor(id));
  if (!client.ok()) {
    throw std::runtime_error(Cat("TestHub::ClientFor(", id, "): ", ToStd(client.status().message())));
  }
  return *std::move(client);
}

std::shared_ptr<grpc::Channel> TestHub::ChannelFor(const std::string& id,
                                                   const std::string& certs_dir) const {
  const std::string& dir = certs_dir.empty() ? certs_dir_ : certs_dir;
  auto ca = ReadAll(certs_dir_ + "/ca.crt");
  auto cert = ReadAll(dir + "/" + id + ".crt");
  auto key = ReadAll(dir + "/" + id + ".key");
  if (!ca.ok() || !cert.ok() || !key.ok()) {
    throw std::runtime_error(Cat("TestHub::ChannelFor(", id, "): certificate files missing in ", dir));
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = *ca;
  ssl.pem_cert_chain = *cert;
  ssl.pem_private_key = *key;
  return grpc::CreateChannel(endpoint(), grpc::SslCredentials(ssl));
}

absl::Status TestHub::IssueCertificate(const std::string& role, const std::string& id) {
  devcerts::DevCertsOptions dc;
  dc.out_dir = certs_dir_;
  dc.principals = {{role, id}};
  return devcerts::GenerateDevCerts(dc);
}

int TestHub::OpenStreams() {
  if (!hub_) return 0;
  for (const auto& family : hub_->metrics().registry().Collect()) {
    if (family.name == "fedhub_open_streams" && !family.metric.empty()) {
      return static_cast<int>(family.metric.front().gauge.value);
    }
  }
  return 0;
}

double TestHub::CounterSum(const std::string& name) {
  if (!hub_) return 0;
  double sum = 0;
  for (const auto& family : hub_->metrics().registry().Collect()) {
    if (family.name != name) continue;
    for (const auto& m : family.metric) sum += m.counter.value;
  }
  return sum;
}

bool TestHub::WaitForOpenStreams(int n, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (OpenStreams() != n) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

std::string TestHub::signing_public_key() const {
  return hub_ ? hub_->signing_key().public_key() : std::string();
}

}  // namespace fedhub::testing
