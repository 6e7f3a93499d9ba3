#include "stream/catalogue.h"

#include <mutex>

#include "core/crypto.h"
#include "core/strings.h"
#include "fedhub/storage/v1/records.pb.h"
#include "storage/keys.h"
#include "stream/validate.h"

namespace fedhub::stream {
namespace {

using fedhub::storage::v1::CatalogueEntryRecord;
using fedhub::storage::v1::SharingPolicyRecord;
using storage::Cf;

}  // namespace

absl::StatusOr<std::unique_ptr<Catalogue>> Catalogue::Open(storage::Store* store,
                                                           audit::AuditLog* audit,
                                                           const registry::Registry* registry) {
  std::unique_ptr<Catalogue> c(new Catalogue(store, audit, registry));
  if (absl::Status s = c->Load(); !s.ok()) return s;
  return c;
}

absl::Status Catalogue::Load() {
  absl::Status inner;
  absl::Status s = store_->Scan(Cf::kCatalogue, "p", "", [&](std::string_view key, std::string_view value) {
    SharingPolicyRecord rec;
    if (!rec.ParseFromArray(value.data(), value.size())) {
      inner = absl::DataLossError(Cat("sharing policy of '", key.substr(1), "' cannot be decoded"));
      return false;
    }
    policies_[std::string(key.substr(1))] = rec.policy();
    return true;
  });
  return s.ok() ? inner : s;
}

void Catalogue::Apply(storage::Txn& txn, const std::string& publisher,
                      const fedhub::v1::CatalogueChange& change, uint64_t offset) const {
  std::string key = storage::CatalogueItemKey(publisher, change.item().item_id());
  if (change.removed()) {
    txn.Delete(Cf::kCatalogue, key);
    return;
  }
  CatalogueEntryRecord rec;
  *rec.mutable_item() = change.item();
  rec.set_offset(offset);
  txn.Put(Cf::kCatalogue, key, rec.SerializeAsString());
}

absl::StatusOr<fedhub::v1::SharingPolicy> Catalogue::SetPolicy(const Caller& caller,
                                                               const fedhub::v1::SharingPolicy& policy) {
  absl::Status s = ValidateSharingPolicy(policy, "policy");
  if (s.ok()) {
    for (int i = 0; i < policy.platform_ids_size() && !policy.all_members(); ++i) {
      const std::string& id = policy.platform_ids(i);
      if (id == caller.id) {
        s = absl::InvalidArgumentError(Cat("policy.platform_ids[", i, "] is the caller itself; a platform "
                                           "always sees its own catalogue with ListCatalogue(own)"));
        break;
      }
      if (!registry_->IsActivePlatform(id)) {
        s = absl::NotFoundError(Cat("policy.platform_ids[", i, "]: '", id,
                                    "' is not a registered, active member platform"));
        break;
      }
    }
  }
  fedhub::v1::SharingPolicy stored = policy;
  if (stored.all_members()) stored.clear_platform_ids();
  s = audit_->CommitAudited(caller, "catalogue.set_policy",
                            [&](storage::Txn& txn, fedhub::v1::AuditRecord& record) -> absl::Status {
    if (!s.ok()) return s;
    SharingPolicyRecord rec;
    *rec.mutable_policy() = stored;
    rec.set_updated_at_micros(txn.now_micros());
    txn.Put(Cf::kCatalogue, storage::SharingPolicyKey(caller.id), rec.SerializeAsString());
    record.set_detail(stored.all_members()
                          ? Cat("shares with all members, ", stored.kinds_size(), " kinds listed")
                          : Cat("shares with ", stored.platform_ids_size(), " platforms, ", stored.kinds_size(),
                                " kinds listed"));
    txn.AfterCommit([this, id = caller.id, stored] {
      std::unique_lock lock(mu_);
      policies_[id] = stored;
    });
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return stored;
}

fedhub::v1::SharingPolicy Catalogue::Policy(const std::string& publisher) const {
  std::shared_lock lock(mu_);
  auto it = policies_.find(publisher);
  return it == policies_.end() ? fedhub::v1::SharingPolicy() : it->second;
}

bool Catalogue::Shares(const std::string& publisher, const std::string& subscriber,
                       fedhub::v1::ItemKind kind) const {
  if (publisher == subscriber) return false;
  std::shared_lock lock(mu_);
  auto it = policies_.find(publisher);
  return it != policies_.end() && stream::Shares(it->second, subscriber, kind);
}

absl::StatusOr<ItemPage> Catalogue::Scan(
    const storage::Snapshot& snapshot, const std::string& prefix, const std::string& start_key,
    size_t max, const std::function<bool(const fedhub::v1::SharedItem&)>& keep) const {
  ItemPage page;
  absl::Status inner;
  std::string last_kept;
  bool more = false;
  absl::Status s = snapshot.Scan(Cf::kCatalogue, prefix, start_key, [&](std::string_view key,
                                                                        std::string_view value) {
    if (!start_key.empty() && key <= start_key) return true;  // continuation is exclusive
    if (page.items.size() == max) {
      more = true;
      return false;
    }
    CatalogueEntryRecord rec;
    if (!rec.ParseFromArray(value.data(), value.size())) {
      inner = absl::DataLossError("a catalogue item cannot be decoded; the data directory is damaged");
      return false;
    }
    size_t sep = key.find('\0');
    fedhub::v1::SharedItem item;
    item.set_publisher_platform_id(std::string(key.substr(1, sep - 1)));
    *item.mutable_item() = std::move(*rec.mutable_item());
    item.set_offset(rec.offset());
    if (keep(item)) {
      page.items.push_back(std::move(item));
      last_kept = std::string(key);
    }
    return true;
  });
  if (!s.ok()) return s;
  if (!inner.ok()) return inner;
  if (more) page.next_key = last_kept;
  return page;
}

absl::StatusOr<ItemPage> Catalogue::ScanShared(const storage::Snapshot& snapshot,
                                               const std::string& subscriber,
                                               const fedhub::v1::CatalogueFilter& filter,
                                               const std::string& start_key, size_t max) const {
  return Scan(snapshot, storage::CatalogueItemPrefix(), start_key, max,
              [&](const fedhub::v1::SharedItem& it) {
                return Shares(it.publisher_platform_id(), subscriber, it.item().kind()) &&
                       MatchesFilter(filter, it.item());
              });
}

absl::StatusOr<fedhub::v1::ListCatalogueResponse> Catalogue::List(
    const Caller& caller, const fedhub::v1::ListCatalogueRequest& req) const {
  if (absl::Status s = ValidateCatalogueFilter(req.filter(), "filter"); !s.ok()) return s;
  int page_size = req.page().page_size();
  if (page_size < 0 || page_size > 1000) {
    return absl::InvalidArgumentError(Cat("page.page_size ", page_size, " is out of range; use 1 to 1000"));
  }
  if (page_size == 0) page_size = 100;
  std::string start;
  if (!req.page().page_token().empty()) {
    auto key = crypto::HexDecode(req.page().page_token());
    if (!key.ok() || key->empty() || (*key)[0] != 'i') {
      return absl::InvalidArgumentError("page.page_token is not one this hub issued; start without one");
    }
    start = *key;
  }
  auto snapshot = store_->GetSnapshot();
  std::string prefix = req.own() ? storage::CatalogueItemPrefix(caller.id) : storage::CatalogueItemPrefix();
  if (!start.empty() && start.compare(0, prefix.size(), prefix) != 0) {
    return absl::InvalidArgumentError("page.page_token belongs to another listing; start without one");
  }
  auto page = Scan(*snapshot, prefix, start, page_size, [&](const fedhub::v1::SharedItem& it) {
    if (!req.own() && !Shares(it.publisher_platform_id(), caller.id, it.item().kind())) return false;
    return MatchesFilter(req.filter(), it.item());
  });
  if (!page.ok()) return page.status();
  fedhub::v1::ListCatalogueResponse resp;
  for (auto& it : page->items) *resp.add_items() = std::move(it);
  if (!page->next_key.empty()) resp.set_next_page_token(crypto::HexEncode(page->next_key));
  return resp;
}

}  // namespace fedhub::stream
