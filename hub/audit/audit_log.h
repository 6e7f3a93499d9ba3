// The audit log: every operation on personal data or consent, allowed or refused, as a
// hash-chained entry (see hash_chain.h). Entries name people only by their audit
// pseudonym and never carry field values.
//
// Thread-safety: thread-safe.
#ifndef FEDHUB_HUB_AUDIT_AUDIT_LOG_H_
#define FEDHUB_HUB_AUDIT_AUDIT_LOG_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/hash_chain.h"
#include "audit/merkle_log.h"
#include "fedhub/v1/audit.pb.h"
#include "identity/caller.h"
#include "storage/store.h"

namespace fedhub::audit {

// An audit record in the chain's encoding (core/chain_codec.h), ready to append.
struct EncodedAudit {
  std::string bytes;
  fedhub::v1::AuditOutcome outcome = fedhub::v1::AUDIT_OUTCOME_ALLOWED;
};

// What the log keeps of `record`: categories and purposes once each, in order, only
// defined values; long detail and counterparty cut. Append and AppendAllAsync do this
// themselves; an encoder writing a record's head itself calls it first.
void PrepareRecord(fedhub::v1::AuditRecord* record);

// `record`, prepared and encoded (its time is set when it is appended).
EncodedAudit EncodeRecord(const fedhub::v1::AuditRecord& record);

class AuditLog {
 public:
  explicit AuditLog(storage::Store* store)
      : store_(store), tree_(store), chain_(store, fedhub::v1::CHAIN_AUDIT, &tree_) {}

  // Appends `record` inside `txn`, stamping it with the transaction's time.
  absl::StatusOr<ChainPosition> Append(storage::Txn& txn, fedhub::v1::AuditRecord record);

  // Records a refused call that never reached a domain operation (authentication,
  // permission, malformed request), durably, in its own transaction.
  absl::Status RecordRefusal(const Caller& caller, std::string_view action,
                             const absl::Status& refusal, std::string_view counterparty = {});

  // RecordRefusal without waiting: `done` gets its result once the entry is durable, on
  // the committing thread, in commit order with every other asynchronous commit.
  void RecordRefusalAsync(const Caller& caller, std::string_view action, const absl::Status& refusal,
                          storage::DoneFn done);
  // Runs `change` and the audit entry describing it in one transaction. `change` fills
  // in what it touched (subject, consent, counterparty, detail) on `record`; on success
  // the entry is appended as ALLOWED, on failure the change's writes are dropped and the
  // entry is appended as DENIED with the status code and message, in the same group.
  using ChangeFn = std::function<absl::Status(storage::Txn&, fedhub::v1::AuditRecord&)>;
  absl::Status CommitAudited(const Caller& caller, std::string_view action, const ChangeFn& change);

  // CommitAudited without waiting: `done` gets CommitAudited's result on the committing
  // thread once the change and its entry are durable (see Store::CommitAsync).
  void CommitAuditedAsync(const Caller& caller, std::string_view action, ChangeFn change,
                          storage::DoneFn done);

  // Appends prepared records (each stamped with the commit time) in one transaction
  // without waiting; `done` runs once they are durable (see Store::CommitAsync). They are
  // encoded before the commit, off the committing thread, which only stamps the time.
  void AppendAllAsync(std::shared_ptr<const std::vector<fedhub::v1::AuditRecord>> records,
                      storage::DoneFn done);
  // AppendAllAsync of records already encoded (EncodeRecord or chain::AuditAccessEncoder
  // after PrepareRecord). The committing thread moves the bytes out of `records`.
  void AppendEncodedAsync(std::shared_ptr<std::vector<EncodedAudit>> records, storage::DoneFn done);
  HashChain& chain() { return chain_; }
  // The Merkle tree over the chain's entries (merkle_log.h).
  MerkleLog& tree() { return tree_; }
  // Called after each appended entry is durable, with its outcome (metrics).
  void set_on_durable(std::function<void(fedhub::v1::AuditOutcome)> fn) {
    on_durable_ = std::move(fn);
  }

 private:
  absl::Status AppendAllowed(storage::Txn& txn, const ChangeFn& change,
                             fedhub::v1::AuditRecord& record);
  void AppendDenied(storage::Txn& txn, fedhub::v1::AuditRecord& record, const absl::Status& refusal);
  // Appends an encoded record, stamped with the transaction's time.
  absl::StatusOr<ChainPosition> AppendEncoded(storage::Txn& txn, std::string encoded,
                                              fedhub::v1::AuditOutcome outcome);

  storage::Store* store_;
  MerkleLog tree_;
  HashChain chain_;
  std::function<void(fedhub::v1::AuditOutcome)> on_durable_;
};

fedhub::v1::AuditRecord BaseRecord(const Caller& caller, std::string_view action);

}  // namespace fedhub::audit

#endif  // FEDHUB_HUB_AUDIT_AUDIT_LOG_H_
