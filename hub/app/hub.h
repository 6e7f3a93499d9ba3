// The hub's domain, assembled: storage, keys, audit log, registry, linking, consents and
// metrics, opened from one config. Knows nothing of gRPC; the server layer (hub/server)
// and in-process tests drive it.
//
// Destruction order is the reverse of construction: domain objects go before the store.
#ifndef FEDHUB_HUB_APP_HUB_H_
#define FEDHUB_HUB_APP_HUB_H_

#include <memory>

#include "absl/status/statusor.h"
#include "audit/audit_log.h"
#include "audit/tree_heads.h"
#include "report/consent_reports.h"
#include "config/config.h"
#include "consent/consent_manager.h"
#include "core/crypto.h"
#include "identity/pseudonyms.h"
#include "linking/linker.h"
#include "registry/registry.h"
#include "server/metrics.h"
#include "storage/store.h"
#include "stream/catalogue.h"
#include "stream/event_log.h"
#include "stream/streams.h"

namespace fedhub {

struct HubOpenOptions {
  // Tests only: a RocksDB environment (power-loss simulation) and unsynced writes.
  rocksdb::Env* env = nullptr;
  bool sync_writes = true;
  bool avoid_flush_during_shutdown = false;
};

class Hub {
 public:
  static absl::StatusOr<std::unique_ptr<Hub>> Open(const config::HubConfig& config,
                                                   const HubOpenOptions& options = {});
  ~Hub();

  storage::Store& store() { return *store_; }
  audit::AuditLog& audit() { return *audit_; }
  audit::TreeHeads& tree_heads() { return *tree_heads_; }
  report::ConsentReports& reports() { return *reports_; }
  registry::Registry& registry() { return *registry_; }
  linking::Linker& linker() { return *linker_; }
  consent::ConsentManager& consents() { return *consents_; }
  stream::Streams& streams() { return *streams_; }
  stream::EventLog& event_log() { return *event_log_; }
  stream::Catalogue& catalogue() { return *catalogue_; }
  const crypto::SigningKey& signing_key() const { return *key_; }
  const Pseudonymizer& pseudonyms() const { return *pseudonyms_; }
  server::Metrics& metrics() { return *metrics_; }
  const config::HubConfig& config() const { return config_; }

 private:
  Hub() = default;
  config::HubConfig config_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<crypto::SigningKey> key_;
  std::unique_ptr<Pseudonymizer> pseudonyms_;
  std::unique_ptr<server::Metrics> metrics_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<audit::TreeHeads> tree_heads_;
  std::unique_ptr<report::ConsentReports> reports_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<linking::Linker> linker_;
  std::unique_ptr<consent::ConsentManager> consents_;
  std::unique_ptr<stream::EventLog> event_log_;
  std::unique_ptr<stream::Catalogue> catalogue_;
  std::unique_ptr<stream::Streams> streams_;
};

}  // namespace fedhub

#endif  // FEDHUB_HUB_APP_HUB_H_
