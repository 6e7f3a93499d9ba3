// Catalogues: the current state of every published item, and each publisher's sharing
// policy (which platforms receive its catalogue, which kinds of it).
//
// Item state is written by the publish transaction that logs the change, so the state
// and the log always agree: a snapshot of the `catalogue` column family taken together
// with the log's extent is exactly the catalogue as of that offset. Policies are kept in
// memory (every catalogue delivery reads them) and in RocksDB.
//
// Thread-safety: thread-safe.
#ifndef FEDHUB_HUB_STREAM_CATALOGUE_H_
#define FEDHUB_HUB_STREAM_CATALOGUE_H_

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/audit_log.h"
#include "fedhub/v1/catalogue.pb.h"
#include "fedhub/v1/stream.pb.h"
#include "identity/caller.h"
#include "registry/registry.h"
#include "storage/store.h"

namespace fedhub::stream {

// A page of items read from a snapshot.
struct ItemPage {
  std::vector<fedhub::v1::SharedItem> items;
  // Key to continue from; empty when the scan reached the end.
  std::string next_key;
};

class Catalogue {
 public:
  static absl::StatusOr<std::unique_ptr<Catalogue>> Open(storage::Store* store,
                                                         audit::AuditLog* audit,
                                                         const registry::Registry* registry);

  // Applies a published change inside the publish transaction.
  void Apply(storage::Txn& txn, const std::string& publisher,
             const fedhub::v1::CatalogueChange& change, uint64_t offset) const;

  // Replaces the caller's sharing policy (validated, audited, durable).
  absl::StatusOr<fedhub::v1::SharingPolicy> SetPolicy(const Caller& caller,
                                                      const fedhub::v1::SharingPolicy& policy);
  fedhub::v1::SharingPolicy Policy(const std::string& publisher) const;
  // Does `publisher` share items of `kind` with `subscriber` now?
  bool Shares(const std::string& publisher, const std::string& subscriber,
              fedhub::v1::ItemKind kind) const;

  // Items of `snapshot` after `start_key` (empty: from the beginning) that `subscriber`
  // may see and that match `filter`, up to `max` of them.
  absl::StatusOr<ItemPage> ScanShared(const storage::Snapshot& snapshot,
                                      const std::string& subscriber,
                                      const fedhub::v1::CatalogueFilter& filter,
                                      const std::string& start_key, size_t max) const;

  // CatalogueService.ListCatalogue for `caller`.
  absl::StatusOr<fedhub::v1::ListCatalogueResponse> List(
      const Caller& caller, const fedhub::v1::ListCatalogueRequest& req) const;

 private:
  Catalogue(storage::Store* store, audit::AuditLog* audit, const registry::Registry* registry)
      : store_(store), audit_(audit), registry_(registry) {}
  absl::Status Load();
  absl::StatusOr<ItemPage> Scan(const storage::Snapshot& snapshot, const std::string& prefix,
                                const std::string& start_key, size_t max,
                                const std::function<bool(const fedhub::v1::SharedItem&)>& keep) const;

  storage::Store* const store_;
  audit::AuditLog* const audit_;
  const registry::Registry* const registry_;
  mutable std::shared_mutex mu_;
  std::map<std::string, fedhub::v1::SharingPolicy> policies_;  // guarded by mu_
};

}  // namespace fedhub::stream

#endif  // FEDHUB_HUB_STREAM_CATALOGUE_H_
