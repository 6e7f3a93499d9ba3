// Consents: grant, revoke, check, list, and the ledger of changes (DESIGN §3-4).
//
// A grant or revocation writes the consent record, its ledger entry and its audit entry
// in one WriteBatch and returns once that batch is durable, with a receipt signed by
// the hub's Ed25519 key. Checks are answered from the in-memory index; expiry is
// compared with the clock at the moment of the check, never by a sweeper.
//
// Thread-safety: thread-safe.
#ifndef FEDHUB_HUB_CONSENT_CONSENT_MANAGER_H_
#define FEDHUB_HUB_CONSENT_CONSENT_MANAGER_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/audit_log.h"
#include "audit/hash_chain.h"
#include "consent/consent_index.h"
#include "core/crypto.h"
#include "fedhub/storage/v1/records.pb.h"
#include "fedhub/v1/consent.pb.h"
#include "identity/caller.h"
#include "identity/pseudonyms.h"
#include "linking/linker.h"
#include "registry/registry.h"

namespace fedhub::consent {

struct ConsentOptions {
  // Longest a consent may run; also the default when a grant names no expiry.
  std::chrono::hours max_lifetime{24 * 730};
};

struct ChangeResult {
  fedhub::v1::Consent consent;
  fedhub::v1::ConsentReceipt receipt;
};

struct ConsentPage {
  std::vector<fedhub::v1::Consent> consents;
  std::string next_page_token;
};

class ConsentManager {
 public:
  static absl::StatusOr<std::unique_ptr<ConsentManager>> Open(
      storage::Store* store, audit::AuditLog* audit, const registry::Registry* registry,
      linking::Linker* linker, const Pseudonymizer* pseudonyms, const crypto::SigningKey* key,
      ConsentOptions options);

  absl::StatusOr<ChangeResult> Grant(const Caller& caller, const fedhub::v1::GrantConsentRequest& req);
  // Grant without blocking the calling thread: `done` runs with Grant's result once the
  // grant is durable, on the store's committing thread (keep it short).
  void GrantAsync(const Caller& caller, const fedhub::v1::GrantConsentRequest& req,
                  std::function<void(absl::StatusOr<ChangeResult>)> done);
  absl::StatusOr<ChangeResult> Revoke(const Caller& caller, const fedhub::v1::RevokeConsentRequest& req);
  absl::StatusOr<Decision> Check(const Caller& caller, const fedhub::v1::CheckConsentRequest& req) const;
  absl::StatusOr<ConsentPage> List(const Caller& caller, const fedhub::v1::ListConsentsRequest& req) const;

  // The ledger, for WatchConsents and auditors.
  audit::HashChain& ledger() { return ledger_; }
  // Reads a consent record by id (committed state).
  absl::StatusOr<std::optional<fedhub::storage::v1::ConsentRecord>> Read(const std::string& id) const;
  // The consent as `platform` may see it: the person named by its local id if it has
  // one, else by its pairwise pseudonym. Nullopt if the platform is neither source nor
  // target (nor covered by an any-member consent).
  absl::StatusOr<std::optional<fedhub::v1::Consent>> ViewFor(
      const std::string& platform, const fedhub::storage::v1::ConsentRecord& record,
      int64_t now_micros) const;

  // Calls `fn(ledger_size)` after every durable ledger change, from the committing
  // thread. Returns a handle for RemoveListener. `fn` must not block.
  int AddListener(std::function<void(uint64_t)> fn);
  void RemoveListener(int handle);

  const ConsentIndex& index() const { return index_; }

  // Runs inside every revocation's transaction, after the consent index update has been
  // scheduled (so what the hook appends becomes visible after the index reflects the
  // revocation). The event log uses it to write the erasure notice in the same batch.
  // Set before serving; not thread-safe to change.
  using RevokeHook = std::function<absl::Status(storage::Txn&, const fedhub::storage::v1::ConsentRecord&)>;
  void set_revoke_hook(RevokeHook hook) { revoke_hook_ = std::move(hook); }

 private:
  ConsentManager(storage::Store* store, audit::AuditLog* audit, const registry::Registry* registry,
                 linking::Linker* linker, const Pseudonymizer* pseudonyms,
                 const crypto::SigningKey* key, ConsentOptions options);
  struct GrantState {
    Caller caller;
    fedhub::v1::GrantConsentRequest req;
    fedhub::storage::v1::ConsentRecord rec;
    uint64_t seq = 0;
    crypto::Digest hash{};
  };
  absl::Status GrantTxn(GrantState& st, storage::Txn& txn, fedhub::v1::AuditRecord& record);
  absl::StatusOr<ChangeResult> GrantResult(const GrantState& st) const;
  absl::Status ValidateGrant(const fedhub::v1::GrantConsentRequest& req, const Caller& caller,
                             int64_t now) const;
  absl::StatusOr<uint64_t> AppendLedger(storage::Txn& txn, fedhub::v1::LedgerAction action,
                                        const fedhub::storage::v1::ConsentRecord& rec,
                                        const std::string& actor, crypto::Digest* hash);
  void Notify(uint64_t ledger_size);
  fedhub::v1::ConsentReceipt MakeReceipt(fedhub::v1::ReceiptAction action,
                                         const fedhub::v1::Consent& consent,
                                         const std::string& platform, uint64_t seq,
                                         const crypto::Digest& hash) const;

  storage::Store* store_;
  audit::AuditLog* audit_;
  const registry::Registry* registry_;
  linking::Linker* linker_;
  const Pseudonymizer* pseudonyms_;
  const crypto::SigningKey* key_;
  ConsentOptions options_;
  audit::HashChain ledger_;
  ConsentIndex index_;
  RevokeHook revoke_hook_;

  std::mutex listeners_mu_;
  int next_listener_ = 0;
  std::map<int, std::function<void(uint64_t)>> listeners_;  // guarded by listeners_mu_
};

}  // namespace fedhub::consent

#endif  // FEDHUB_HUB_CONSENT_CONSENT_MANAGER_H_
