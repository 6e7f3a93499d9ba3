// The registry of principals: member platforms, recommendation teams, auditors and
// operators. RocksDB is the truth; every principal is also kept in memory because every
// call is authenticated against it.
//
// Bootstrap operators named in the config are admins without a stored record, so a new
// hub can be administered before anything is registered.
//
// Thread-safety: thread-safe.
#ifndef FEDHUB_HUB_REGISTRY_REGISTRY_H_
#define FEDHUB_HUB_REGISTRY_REGISTRY_H_

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/audit_log.h"
#include "fedhub/v1/registry.pb.h"
#include "identity/caller.h"
#include "storage/store.h"

namespace fedhub::registry {

struct PrincipalPage {
  std::vector<fedhub::v1::Principal> principals;
  std::string next_page_token;
};

class Registry {
 public:
  static absl::StatusOr<std::unique_ptr<Registry>> Open(storage::Store* store,
                                                        audit::AuditLog* audit,
                                                        std::vector<std::string> bootstrap_admins);

  // Operator calls. Each change is audited in the same WriteBatch.
  absl::StatusOr<fedhub::v1::Principal> Register(const Caller& caller,
                                                 fedhub::v1::Principal principal);
  absl::StatusOr<fedhub::v1::Principal> SetStatus(const Caller& caller, const std::string& id,
                                                  fedhub::v1::PrincipalStatus status,
                                                  const std::string& reason);
  absl::StatusOr<fedhub::v1::Principal> Get(const std::string& id) const;
  absl::StatusOr<PrincipalPage> List(fedhub::v1::Role role, int page_size,
                                     const std::string& page_token) const;

  // The caller named by a certificate (`role`, `id`), if registered with that role and
  // active. UNAUTHENTICATED otherwise, with the reason.
  absl::StatusOr<Caller> Authenticate(fedhub::v1::Role role, const std::string& id) const;

  // True if `id` is a registered, active member platform.
  bool IsActivePlatform(const std::string& id) const;

 private:
  Registry(storage::Store* store, audit::AuditLog* audit, std::vector<std::string> admins)
      : store_(store), audit_(audit), bootstrap_admins_(std::move(admins)) {}
  absl::Status Load();
  bool IsBootstrapAdmin(const std::string& id) const;

  storage::Store* store_;
  audit::AuditLog* audit_;
  std::vector<std::string> bootstrap_admins_;
  mutable std::shared_mutex mu_;
  std::map<std::string, fedhub::v1::Principal> principals_;  // guarded by mu_
};

}  // namespace fedhub::registry

#endif  // FEDHUB_HUB_REGISTRY_REGISTRY_H_
