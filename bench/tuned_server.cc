#include "tuned_server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <fstream>
#include <sstream>

#include "core/strings.h"

namespace fedhub::bench {
namespace {

absl::StatusOr<std::string> Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::FailedPreconditionError(Cat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<TunedServer>> TunedServer::Start(Hub& hub, int max_pollers) {
  const config::HubConfig& config = hub.config();
  auto cert = Slurp(config.tls_cert);
  if (!cert.ok()) return cert.status();
  auto key = Slurp(config.tls_key);
  if (!key.ok()) return key.status();
  auto ca = Slurp(config.tls_ca);
  if (!ca.ok()) return ca.status();
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = *ca;
  ssl.pem_key_cert_pairs.push_back({*key, *cert});

  std::unique_ptr<TunedServer> s(new TunedServer());
  s->services_.push_back(server::NewHubService(hub));
  s->services_.push_back(server::NewRegistryService(hub));
  s->services_.push_back(server::NewLinkingService(hub));
  s->services_.push_back(server::NewConsentService(hub, &s->streams_));
  s->services_.push_back(server::NewAuditService(hub));
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl), &s->port_);
  for (auto& svc : s->services_) builder.RegisterService(svc.get());
  grpc::ResourceQuota quota("fedhub-bench-tuned");
  quota.SetMaxThreads(config.max_threads);
  builder.SetResourceQuota(quota);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 20000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // The one difference from server::Server.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, max_pollers);
  s->server_ = builder.BuildAndStart();
  if (!s->server_ || s->port_ == 0) return absl::UnavailableError("tuned server did not start");
  return s;
}

TunedServer::~TunedServer() {
  if (server_) {
    streams_.EndAll();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_->Wait();
    streams_.WaitUntilEmpty();
  }
}

}  // namespace fedhub::bench
