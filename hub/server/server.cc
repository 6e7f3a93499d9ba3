#include "server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/security/server_credentials.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/strings.h"
#include "fedhub/v1/hub.grpc.pb.h"
#include "server/services.h"

namespace fedhub::server {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        Cat("cannot read ", what, " ", path, "; generate development certificates with "
                                            "`fedhubctl dev-certs` or set tls_* in the config"));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Keeps ServerBuilder plugins (server reflection, registered process-wide) off a server:
// the plaintext health port serves grpc.health.v1 and nothing else.
class NoPlugins final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->clear();
  }
};

}  // namespace

bool StreamSet::Join(Stream* stream) {
  std::lock_guard lock(mu_);
  if (closing_) return false;
  open_.insert(stream);
  return true;
}

void StreamSet::Leave(Stream* stream) {
  std::lock_guard lock(mu_);
  open_.erase(stream);
  if (open_.empty()) empty_.notify_all();
}

grpc::Status StreamSet::ShuttingDown() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      "the hub is shutting down; reconnect and resume after your last sequence");
}

void StreamSet::EndAll() {
  std::lock_guard lock(mu_);
  closing_ = true;
  // A stream leaves only from its OnDone, which gRPC never runs inside End's Finish, so
  // every pointer here stays valid while the lock is held.
  for (Stream* s : open_) s->End(ShuttingDown());
}

void StreamSet::WaitUntilEmpty() {
  std::unique_lock lock(mu_);
  empty_.wait(lock, [this] { return open_.empty(); });
}

struct Server::Rep {
  Hub* hub;
  // Declared before `streams`: destroyed after every stream has left.
  std::unique_ptr<stream::WorkPool> pool;
  StreamSet streams;
  std::vector<std::unique_ptr<grpc::Service>> services;
  // gRPC's builder refuses a server without a synchronous method to poll for, and the
  // default health service is added only after that check. HubService's generated base
  // answers every method UNIMPLEMENTED, so registering it exposes nothing.
  fedhub::v1::HubService::Service health_placeholder;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<grpc::Server> health_server;
  int port = 0;
  int health_port = 0;
};

Server::Server(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

Server::~Server() { Shutdown(std::chrono::milliseconds(0)); }

absl::StatusOr<std::unique_ptr<Server>> Server::Start(Hub& hub) {
  const config::HubConfig& config = hub.config();
  auto cert = ReadFile(config.tls_cert, "TLS certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadFile(config.tls_key, "TLS key");
  if (!key.ok()) return key.status();
  auto ca = ReadFile(config.tls_ca, "client CA bundle");
  if (!ca.ok()) return ca.status();

  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = *ca;
  ssl.pem_key_cert_pairs.push_back({*key, *cert});

  auto rep = std::make_unique<Rep>();
  rep->hub = &hub;
  rep->services.push_back(NewHubService(hub));
  rep->services.push_back(NewRegistryService(hub));
  rep->services.push_back(NewLinkingService(hub));
  rep->services.push_back(NewConsentService(hub, &rep->streams));
  rep->services.push_back(NewAuditService(hub));
  rep->services.push_back(NewReportService(hub));
  rep->pool = std::make_unique<stream::WorkPool>(std::max(2u, std::thread::hardware_concurrency()));
  rep->services.push_back(NewStreamService(hub, &rep->streams, rep->pool.get()));
  rep->services.push_back(NewCatalogueService(hub));

  // Debian's Abseil runs deadlock detection on every mutex gRPC takes (several % of CPU per
  // call) and is a debugging aid; the hub's own locks are std::mutex, outside its reach.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen, grpc::SslServerCredentials(ssl), &rep->port);
  for (auto& s : rep->services) builder.RegisterService(s.get());
  grpc::ResourceQuota quota("fedhubd");
  quota.SetMaxThreads(config.max_threads);
  builder.SetResourceQuota(quota);
  // Synchronous writing handlers (revocation, registry, linking) block in group commit and a
  // whole group returns at once. With gRPC's default of at most 2 idle polling threads, those
  // threads would exit and new ones be created for the next requests (measured: about one
  // thread per write under load); keep them instead, up to the thread limit.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, config.max_threads);
  // Clients may ping every 20 s at most; the SDK pings every 60 s.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 20000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  rep->server = builder.BuildAndStart();
  if (!rep->server || rep->port == 0) {
    return absl::UnavailableError(Cat("cannot listen on ", config.listen, " (in use, or a bad address)"));
  }
  if (!config.health_listen.empty()) {
    grpc::ServerBuilder hb;
    hb.AddListeningPort(config.health_listen, grpc::InsecureServerCredentials(), &rep->health_port);
    hb.SetOption(std::make_unique<NoPlugins>());
    hb.RegisterService(&rep->health_placeholder);
    rep->health_server = hb.BuildAndStart();  // only the default health service
    if (!rep->health_server || rep->health_port == 0) {
      return absl::UnavailableError(Cat("cannot listen on health address ", config.health_listen));
    }
  }
  if (!config.metrics_listen.empty()) {
    try {
      hub.metrics().Serve(config.metrics_listen);
    } catch (const std::exception& e) {
      return absl::UnavailableError(Cat("cannot serve metrics on ", config.metrics_listen, ": ", e.what()));
    }
  }
  std::unique_ptr<Server> server(new Server(std::move(rep)));
  if (!config.port_file.empty()) {
    std::string tmp = config.port_file + ".tmp";
    {
      std::ofstream out(tmp);
      out << server->port() << "\n" << server->metrics_port() << "\n" << server->health_port() << "\n";
    }
    std::rename(tmp.c_str(), config.port_file.c_str());
  }
  return server;
}

int Server::port() const { return rep_->port; }
int Server::health_port() const { return rep_->health_port; }
int Server::metrics_port() const { return rep_->hub->metrics().port(); }

void Server::Shutdown(std::chrono::milliseconds grace) {
  auto deadline = std::chrono::system_clock::now() + grace;
  if (rep_->health_server) {
    rep_->health_server->Shutdown(deadline);
    rep_->health_server.reset();
  }
  if (rep_->server) {
    if (auto* health = rep_->server->GetHealthCheckService()) health->Shutdown();
    rep_->streams.EndAll();
    rep_->server->Shutdown(deadline);
    rep_->server->Wait();
    // Calls still open at the deadline were cancelled; their reactors finish soon after.
    rep_->streams.WaitUntilEmpty();
    rep_->server.reset();
  }
}

void Server::Wait() {
  if (rep_->server) rep_->server->Wait();
}

}  // namespace fedhub::server
