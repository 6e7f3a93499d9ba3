#include "stream_fixture.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "core/strings.h"
#include "devcerts/devcerts.h"
#include "fedhub/client.h"
#include "fedhub/v1/stream.grpc.pb.h"

namespace fedhub::bench {
namespace {

constexpr int kMaxSubscribers = 16;
constexpr int kGrantThreads = 16;

v1::GrantConsentRequest GrantFor(int person) {
  v1::GrantConsentRequest r;
  r.mutable_user()->set_local_user_id(StreamFixture::PersonId(person));
  // Empty target: any member platform.
  r.add_categories(v1::DATA_CATEGORY_PROFILE);
  r.add_categories(v1::DATA_CATEGORY_LEARNING);
  r.add_categories(v1::DATA_CATEGORY_INTERESTS);
  r.add_purposes(v1::PURPOSE_SYNC);
  r.mutable_evidence()->set_method("web-form");
  r.mutable_evidence()->set_reference(Cat("stream-bench-", person));
  return r;
}

}  // namespace

std::string StreamFixture::SubscriberId(int i) {
  static constexpr const char* kNamed[] = {"shop", "audio", "tmpl", "design"};
  if (i < 4) return kNamed[i];
  return Cat("sub-", i + 1);
}

std::string StreamFixture::PersonId(int i) { return Cat("u-", i); }

std::string StreamFixture::hub_endpoint() const {
  return server_ ? Cat("127.0.0.1:", server_->port()) : std::string();
}

std::string StreamFixture::relay_endpoint() const {
  return relay_ ? Cat("127.0.0.1:", relay_->port()) : std::string();
}

absl::StatusOr<std::unique_ptr<StreamFixture>> StreamFixture::Start(
    const StreamFixtureOptions& options) {
  if (options.subscribers < 1 || options.subscribers > kMaxSubscribers) {
    return absl::InvalidArgumentError(
        Cat("subscribers must be 1 to ", kMaxSubscribers, ", got ", options.subscribers));
  }
  if (options.hub && options.people < 1) {
    return absl::InvalidArgumentError(Cat("people must be at least 1, got ", options.people));
  }
  std::unique_ptr<StreamFixture> f(new StreamFixture());
  f->certs_dir_ = options.root + "/certs";
  for (int i = 0; i < options.subscribers; ++i) f->subscriber_ids_.push_back(SubscriberId(i));

  devcerts::DevCertsOptions dc;
  dc.out_dir = f->certs_dir_;
  dc.principals = {{"admin", "operator"}, {"platform", kPublisher}};
  for (const std::string& id : f->subscriber_ids_) dc.principals.push_back({"platform", id});
  if (absl::Status s = devcerts::GenerateDevCerts(dc); !s.ok()) return s;

  if (options.relay) {
    RelayOptions ro;
    ro.certs_dir = f->certs_dir_;
    ro.queue_messages = options.relay_queue_messages;
    ro.publisher_platform_id = kPublisher;
    auto relay = RelayServer::Start(ro);
    if (!relay.ok()) return relay.status();
    f->relay_ = std::move(*relay);
  }
  if (options.hub) {
    if (absl::Status s = f->StartHub(options); !s.ok()) return s;
  }
  return f;
}

absl::Status StreamFixture::StartHub(const StreamFixtureOptions& options) {
  config::HubConfig config;
  config.listen = "127.0.0.1:0";
  config.health_listen.clear();
  config.metrics_listen.clear();
  config.data_dir = options.root + "/hub-data";
  config.tls_cert = certs_dir_ + "/hub.crt";
  config.tls_key = certs_dir_ + "/hub.key";
  config.tls_ca = certs_dir_ + "/ca.crt";
  config.signing_key = options.root + "/signing.key";
  config.bootstrap_admins = {"operator"};
  HubOpenOptions open;
  open.sync_writes = true;  // what fedhubd always does
  auto hub = Hub::Open(config, open);
  if (!hub.ok()) return hub.status();
  hub_ = std::move(*hub);
  auto server = server::Server::Start(*hub_);
  if (!server.ok()) return server.status();
  server_ = std::move(*server);

  auto admin = Client::Connect(ClientOptions::ForPrincipal(certs_dir_, "operator", hub_endpoint()));
  if (!admin.ok()) return admin.status();
  std::vector<std::string> platforms = {kPublisher};
  platforms.insert(platforms.end(), subscriber_ids_.begin(), subscriber_ids_.end());
  for (const std::string& id : platforms) {
    v1::Principal p;
    p.set_id(id);
    p.set_role(v1::ROLE_PLATFORM);
    p.set_display_name(Cat("stream bench ", id));
    if (auto r = admin->RegisterPrincipal(p); !r.ok()) {
      return absl::Status(r.status().code(),
                          Cat("registering platform ", id, ": ", r.status().message()));
    }
  }
  return GrantConsents(options.people, kGrantThreads);
}

// Several callers at once, so setup is not bound by one synced write per grant.
absl::Status StreamFixture::GrantConsents(int people, int threads) {
  auto source =
      Client::Connect(ClientOptions::ForPrincipal(certs_dir_, kPublisher, hub_endpoint()));
  if (!source.ok()) return source.status();
  std::atomic<int> next{0};
  std::mutex mu;
  absl::Status first = absl::OkStatus();
  auto work = [&] {
    for (int i = next.fetch_add(1); i < people; i = next.fetch_add(1)) {
      auto g = source->GrantConsent(GrantFor(i));
      if (!g.ok()) {
        std::lock_guard lock(mu);
        if (first.ok()) {
          first = absl::Status(g.status().code(),
                               Cat("consent for person ", i, ": ", g.status().message()));
        }
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
  return first;
}

StreamFixture::~StreamFixture() {
  if (relay_) relay_->Shutdown(std::chrono::milliseconds(2000));
  relay_.reset();
  if (server_) server_->Shutdown(std::chrono::milliseconds(2000));
  server_.reset();
  hub_.reset();
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> PrincipalChannel(const std::string& certs_dir,
                                                                const std::string& id,
                                                                const std::string& endpoint) {
  grpc::SslCredentialsOptions ssl;
  auto ca = ReadWholeFile(certs_dir + "/ca.crt", "the CA certificate");
  if (!ca.ok()) return ca.status();
  auto cert = ReadWholeFile(Cat(certs_dir, "/", id, ".crt"), Cat("the certificate of ", id));
  if (!cert.ok()) return cert.status();
  auto key = ReadWholeFile(Cat(certs_dir, "/", id, ".key"), Cat("the key of ", id));
  if (!key.ok()) return key.status();
  ssl.pem_root_certs = *ca;
  ssl.pem_cert_chain = *cert;
  ssl.pem_private_key = *key;
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // A subscriber's messages carry a whole batch (up to 1,000 events).
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(endpoint, grpc::SslCredentials(ssl), args);
}

}  // namespace fedhub::bench
