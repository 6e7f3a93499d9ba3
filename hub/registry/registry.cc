#include "registry/registry.h"

#include <algorithm>
#include <mutex>

#include "core/strings.h"
#include "fedhub/storage/v1/records.pb.h"
#include "identity/ids.h"

namespace fedhub::registry {
namespace {

using fedhub::v1::Principal;
using fedhub::v1::Role;

std::string RoleName(Role role) {
  switch (role) {
    case fedhub::v1::ROLE_PLATFORM: return "platform";
    case fedhub::v1::ROLE_RECOMMENDER: return "recommender";
    case fedhub::v1::ROLE_AUDITOR: return "auditor";
    case fedhub::v1::ROLE_ADMIN: return "admin";
    default: return "unspecified";
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Registry>> Registry::Open(storage::Store* store,
                                                         audit::AuditLog* audit,
                                                         std::vector<std::string> admins) {
  std::unique_ptr<Registry> r(new Registry(store, audit, std::move(admins)));
  if (absl::Status s = r->Load(); !s.ok()) return s;
  return r;
}

absl::Status Registry::Load() {
  std::map<std::string, Principal> loaded;
  absl::Status bad;
  absl::Status s = store_->Scan(storage::Cf::kRegistry, "", "",
                                [&](std::string_view key, std::string_view value) {
                                  fedhub::storage::v1::PrincipalRecord rec;
                                  if (!rec.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                                    bad = absl::DataLossError(Cat("registry record ", key, " does not parse"));
                                    return false;
                                  }
                                  loaded[std::string(key)] = rec.principal();
                                  return true;
                                });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  std::unique_lock lock(mu_);
  principals_ = std::move(loaded);
  return absl::OkStatus();
}

bool Registry::IsBootstrapAdmin(const std::string& id) const {
  return std::find(bootstrap_admins_.begin(), bootstrap_admins_.end(), id) !=
         bootstrap_admins_.end();
}

absl::StatusOr<Principal> Registry::Register(const Caller& caller, Principal p) {
  Principal stored;
  absl::Status s = audit_->CommitAudited(
      caller, "registry.register",
      [&](storage::Txn& txn, fedhub::v1::AuditRecord& record) -> absl::Status {
        record.set_counterparty_id(p.id());
        if (absl::Status v = ids::ValidatePrincipalId(p.id(), "principal.id"); !v.ok()) return v;
        if (p.role() == fedhub::v1::ROLE_UNSPECIFIED || !fedhub::v1::Role_IsValid(p.role())) {
          return absl::InvalidArgumentError(
              "principal.role is required: platform, recommender, auditor or admin");
        }
        if (p.role() == fedhub::v1::ROLE_RECOMMENDER) {
          if (p.bound_platform_id().empty()) {
            return absl::InvalidArgumentError(
                "a recommender must name the platform it serves in principal.bound_platform_id");
          }
          if (!IsActivePlatform(p.bound_platform_id())) {
            return absl::FailedPreconditionError(
                Cat("bound platform ", p.bound_platform_id(),
                    " is not a registered active platform; register it first"));
          }
        } else if (!p.bound_platform_id().empty()) {
          return absl::InvalidArgumentError(
              "principal.bound_platform_id is only for recommenders; leave it empty");
        }
        if (p.display_name().size() > 200) {
          return absl::InvalidArgumentError("principal.display_name is longer than 200 characters");
        }
        if (IsBootstrapAdmin(p.id())) {
          return absl::AlreadyExistsError(
              Cat("principal ", p.id(), " is a bootstrap operator from the hub config"));
        }
        auto existing = txn.Get(storage::Cf::kRegistry, p.id());
        if (!existing.ok()) return existing.status();
        if (*existing) {
          return absl::AlreadyExistsError(
              Cat("principal ", p.id(), " is already registered; pick another id"));
        }
        stored = p;
        stored.set_status(fedhub::v1::PRINCIPAL_STATUS_ACTIVE);
        stored.mutable_registered_at()->set_seconds(txn.now_micros() / 1000000);
        stored.clear_status_reason();
        fedhub::storage::v1::PrincipalRecord rec;
        *rec.mutable_principal() = stored;
        txn.Put(storage::Cf::kRegistry, stored.id(), rec.SerializeAsString());
        record.set_detail(Cat("registered ", RoleName(stored.role()), " ", stored.id()));
        txn.AfterCommit([this, stored] {
          std::unique_lock lock(mu_);
          principals_[stored.id()] = stored;
        });
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return stored;
}

absl::StatusOr<Principal> Registry::SetStatus(const Caller& caller, const std::string& id,
                                              fedhub::v1::PrincipalStatus status,
                                              const std::string& reason) {
  bool suspend = status == fedhub::v1::PRINCIPAL_STATUS_SUSPENDED;
  Principal stored;
  absl::Status s = audit_->CommitAudited(
      caller, suspend ? "registry.suspend" : "registry.reinstate",
      [&](storage::Txn& txn, fedhub::v1::AuditRecord& record) -> absl::Status {
        record.set_counterparty_id(id);
        if (absl::Status v = ids::ValidatePrincipalId(id, "id"); !v.ok()) return v;
        if (reason.empty()) {
          return absl::InvalidArgumentError("reason is required; say why, it is kept in the audit log");
        }
        if (suspend && id == caller.id) {
          return absl::FailedPreconditionError("an operator cannot suspend itself");
        }
        auto existing = txn.Get(storage::Cf::kRegistry, id);
        if (!existing.ok()) return existing.status();
        if (!*existing) return absl::NotFoundError(Cat("principal ", id, " is not registered"));
        fedhub::storage::v1::PrincipalRecord rec;
        if (!rec.ParseFromString(**existing)) {
          return absl::DataLossError(Cat("registry record of ", id, " does not parse"));
        }
        if (rec.principal().status() == status) {
          return absl::FailedPreconditionError(
              Cat("principal ", id, " is already ", suspend ? "suspended" : "active"));
        }
        rec.mutable_principal()->set_status(status);
        rec.mutable_principal()->set_status_reason(reason);
        stored = rec.principal();
        txn.Put(storage::Cf::kRegistry, id, rec.SerializeAsString());
        record.set_detail(Cat(suspend ? "suspended " : "reinstated ", id, ": ", reason));
        txn.AfterCommit([this, stored] {
          std::unique_lock lock(mu_);
          principals_[stored.id()] = stored;
        });
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return stored;
}

absl::StatusOr<Principal> Registry::Get(const std::string& id) const {
  std::shared_lock lock(mu_);
  auto it = principals_.find(id);
  if (it == principals_.end()) return absl::NotFoundError(Cat("principal ", id, " is not registered"));
  return it->second;
}

absl::StatusOr<PrincipalPage> Registry::List(Role role, int page_size,
                                             const std::string& page_token) const {
  if (page_size < 0 || page_size > 1000) {
    return absl::InvalidArgumentError(
        Cat("page_size ", page_size, " is out of range; use 1 to 1000, or 0 for 100"));
  }
  if (page_size == 0) page_size = 100;
  PrincipalPage page;
  std::shared_lock lock(mu_);
  // The page token is the last id of the previous page, so pages stay stable while
  // principals are added.
  for (auto it = principals_.upper_bound(page_token); it != principals_.end(); ++it) {
    if (role != fedhub::v1::ROLE_UNSPECIFIED && it->second.role() != role) continue;
    if (static_cast<int>(page.principals.size()) == page_size) {
      page.next_page_token = page.principals.back().id();
      break;
    }
    page.principals.push_back(it->second);
  }
  return page;
}

absl::StatusOr<Caller> Registry::Authenticate(Role role, const std::string& id) const {
  if (role == fedhub::v1::ROLE_ADMIN && IsBootstrapAdmin(id)) {
    return Caller{id, role, ""};
  }
  std::shared_lock lock(mu_);
  auto it = principals_.find(id);
  if (it == principals_.end()) {
    return absl::UnauthenticatedError(
        Cat("certificate names ", RoleName(role), " ", id,
            ", which is not registered; ask the hub operator to register it"));
  }
  const Principal& p = it->second;
  if (p.role() != role) {
    return absl::UnauthenticatedError(Cat("certificate names ", id, " as ", RoleName(role),
                                          " but it is registered as ", RoleName(p.role())));
  }
  if (p.status() != fedhub::v1::PRINCIPAL_STATUS_ACTIVE) {
    return absl::UnauthenticatedError(
        Cat(RoleName(role), " ", id, " is suspended (", p.status_reason(),
            "); ask the hub operator to reinstate it"));
  }
  return Caller{p.id(), p.role(), p.bound_platform_id()};
}

bool Registry::IsActivePlatform(const std::string& id) const {
  std::shared_lock lock(mu_);
  auto it = principals_.find(id);
  return it != principals_.end() && it->second.role() == fedhub::v1::ROLE_PLATFORM &&
         it->second.status() == fedhub::v1::PRINCIPAL_STATUS_ACTIVE;
}

}  // namespace fedhub::registry
