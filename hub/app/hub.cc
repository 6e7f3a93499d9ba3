#include "app/hub.h"

#include <cstdio>
#include <filesystem>

#include "core/strings.h"

namespace fedhub {

Hub::~Hub() {
  // Domain objects hold pointers into the store; drop them first.
  streams_.reset();
  catalogue_.reset();
  event_log_.reset();
  consents_.reset();
  linker_.reset();
  registry_.reset();
  reports_.reset();
  tree_heads_.reset();
  audit_.reset();
  metrics_.reset();
  store_.reset();
}

absl::StatusOr<std::unique_ptr<Hub>> Hub::Open(const config::HubConfig& config,
                                               const HubOpenOptions& options) {
  std::unique_ptr<Hub> hub(new Hub());
  hub->config_ = config;
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        Cat("cannot create data_dir ", config.data_dir, ": ", ec.message()));
  }
  storage::StoreOptions so;
  so.path = config.data_dir;
  so.env = options.env;
  so.sync_writes = options.sync_writes;
  so.avoid_flush_during_shutdown = options.avoid_flush_during_shutdown;
  auto store = storage::Store::Open(so);
  if (!store.ok()) return store.status();
  hub->store_ = std::move(*store);

  std::filesystem::path key_path(config.signing_key);
  if (key_path.has_parent_path()) std::filesystem::create_directories(key_path.parent_path(), ec);
  auto key = crypto::SigningKey::LoadOrCreate(config.signing_key);
  if (!key.ok()) return key.status();
  hub->key_ = std::move(*key);

  auto pseudonyms = Pseudonymizer::Open(hub->store_.get());
  if (!pseudonyms.ok()) return pseudonyms.status();
  hub->pseudonyms_ = std::move(*pseudonyms);

  hub->metrics_ = std::make_unique<server::Metrics>(hub->store_.get());
  hub->audit_ = std::make_unique<audit::AuditLog>(hub->store_.get());
  // A data directory from before the audit tree existed: build the tree before anything
  // is appended.
  if (auto added = hub->audit_->tree().CatchUp(hub->audit_->chain()); !added.ok()) return added.status();
  hub->tree_heads_ = std::make_unique<audit::TreeHeads>(hub->store_.get(), &hub->audit_->chain(), hub->key_.get());
  if (config.tree_head_interval_seconds > 0) {
    hub->tree_heads_->StartPeriodic(std::chrono::seconds(config.tree_head_interval_seconds),
                                    [](const absl::Status& s) {
                                      std::fprintf(stderr, "fedhubd: signing a tree head failed: %s\n",
                                                   std::string(s.message()).c_str());
                                    });
  }
  server::Metrics* metrics = hub->metrics_.get();
  hub->audit_->set_on_durable([metrics](fedhub::v1::AuditOutcome outcome) {
    metrics->AuditEntry(outcome == fedhub::v1::AUDIT_OUTCOME_ALLOWED);
  });

  auto registry = registry::Registry::Open(hub->store_.get(), hub->audit_.get(), config.bootstrap_admins);
  if (!registry.ok()) return registry.status();
  hub->registry_ = std::move(*registry);

  linking::LinkOptions lo;
  lo.ticket_ttl = std::chrono::seconds(config.ticket_ttl_seconds);
  hub->linker_ = std::make_unique<linking::Linker>(hub->store_.get(), hub->audit_.get(),
                                                   hub->pseudonyms_.get(), lo);

  consent::ConsentOptions co;
  co.max_lifetime = std::chrono::hours(24 * config.max_consent_days);
  auto consents = consent::ConsentManager::Open(hub->store_.get(), hub->audit_.get(),
                                                hub->registry_.get(), hub->linker_.get(),
                                                hub->pseudonyms_.get(), hub->key_.get(), co);
  if (!consents.ok()) return consents.status();
  hub->consents_ = std::move(*consents);

  hub->reports_ = std::make_unique<report::ConsentReports>(hub->store_.get(), &hub->audit_->chain(),
                                                           hub->linker_.get(), hub->pseudonyms_.get());

  stream::LogOptions log_options;
  log_options.retention_micros = int64_t{config.stream_retention_hours} * 3600 * 1'000'000;
  log_options.retention_bytes = uint64_t(config.stream_retention_mb) << 20;
  log_options.trim_interval_micros = int64_t{config.stream_trim_interval_seconds} * 1'000'000;
  log_options.tail_buffer_events = config.stream_subscriber_buffer_events;
  auto log = stream::EventLog::Open(hub->store_.get(), log_options);
  if (!log.ok()) return log.status();
  hub->event_log_ = std::move(*log);
  auto catalogue = stream::Catalogue::Open(hub->store_.get(), hub->audit_.get(), hub->registry_.get());
  if (!catalogue.ok()) return catalogue.status();
  hub->catalogue_ = std::move(*catalogue);
  stream::StreamOptions stream_options;
  stream_options.max_batch_events = config.stream_max_batch_events;
  hub->streams_ = std::make_unique<stream::Streams>(
      hub->store_.get(), hub->audit_.get(), hub->linker_.get(), hub->consents_.get(),
      hub->pseudonyms_.get(), hub->event_log_.get(), hub->catalogue_.get(), stream_options);
  return hub;
}

}  // namespace fedhub
