#include "audit/audit_log.h"

#include <algorithm>
#include <memory>
#include <set>

#include "core/chain_codec.h"

namespace fedhub::audit {
namespace {

// Longest detail and counterparty kept in an entry; refusal messages can quote input.
constexpr size_t kMaxText = 512;

void Truncate(std::string* s) {
  if (s->size() > kMaxText) {
    s->resize(kMaxText);
    s->append("...");
  }
}

// A refused request is audited with what it asked for, which may be anything a client
// sent: keep each defined value once, in order, so the entry always encodes in the
// chain's format (a u8 count of u8 values) and an entry can never be made undecodable.
template <typename Repeated, typename IsValid>
void Normalize(Repeated* values, IsValid is_valid) {
  std::set<int> seen;
  for (int v : *values) {
    if (is_valid(v)) seen.insert(v);
  }
  values->Clear();
  for (int v : seen) values->Add(static_cast<typename Repeated::value_type>(v));
}

// Would PrepareRecord change `record`?
bool NeedsPrepare(const fedhub::v1::AuditRecord& record) {
  auto ordered = [](const auto& values, auto is_valid) {
    for (int i = 0; i < values.size(); ++i) {
      if (!is_valid(values[i]) || (i > 0 && values[i - 1] >= values[i])) return false;
    }
    return true;
  };
  return record.detail().size() > kMaxText || record.counterparty_id().size() > kMaxText ||
         !ordered(record.categories(), fedhub::v1::DataCategory_IsValid) ||
         !ordered(record.purposes(), fedhub::v1::Purpose_IsValid);
}

}  // namespace

void PrepareRecord(fedhub::v1::AuditRecord* record) {
  Normalize(record->mutable_categories(), fedhub::v1::DataCategory_IsValid);
  Normalize(record->mutable_purposes(), fedhub::v1::Purpose_IsValid);
  Truncate(record->mutable_detail());
  Truncate(record->mutable_counterparty_id());
}

EncodedAudit EncodeRecord(const fedhub::v1::AuditRecord& record) {
  if (!NeedsPrepare(record)) return {chain::EncodeAudit(record), record.outcome()};
  fedhub::v1::AuditRecord copy = record;
  PrepareRecord(&copy);
  return {chain::EncodeAudit(copy), copy.outcome()};
}

fedhub::v1::AuditRecord BaseRecord(const Caller& caller, std::string_view action) {
  fedhub::v1::AuditRecord r;
  r.set_actor_id(caller.id);
  r.set_actor_role(caller.role);
  r.set_action(std::string(action));
  return r;
}

absl::StatusOr<ChainPosition> AuditLog::Append(storage::Txn& txn,
                                               fedhub::v1::AuditRecord record) {
  PrepareRecord(&record);
  std::string encoded = chain::EncodeAudit(record);
  return AppendEncoded(txn, std::move(encoded), record.outcome());
}

absl::StatusOr<ChainPosition> AuditLog::AppendEncoded(storage::Txn& txn, std::string encoded,
                                                      fedhub::v1::AuditOutcome outcome) {
  chain::SetEncodedAuditTime(&encoded, txn.now_micros());
  auto pos = chain_.Append(txn, encoded);
  if (pos.ok() && on_durable_) {
    txn.AfterCommit([this, outcome] { on_durable_(outcome); });
  }
  return pos;
}

void AuditLog::RecordRefusalAsync(const Caller& caller, std::string_view action,
                                  const absl::Status& refusal, storage::DoneFn done) {
  fedhub::v1::AuditRecord r = BaseRecord(caller, action);
  r.set_outcome(fedhub::v1::AUDIT_OUTCOME_DENIED);
  r.set_status_code(static_cast<int32_t>(refusal.code()));
  r.set_detail(std::string(refusal.message()));
  store_->CommitAsync([this, r = std::move(r)](storage::Txn& txn) { return Append(txn, r).status(); },
                      nullptr, std::move(done));
}

absl::Status AuditLog::RecordRefusal(const Caller& caller, std::string_view action,
                                     const absl::Status& refusal,
                                     std::string_view counterparty) {
  fedhub::v1::AuditRecord r = BaseRecord(caller, action);
  r.set_outcome(fedhub::v1::AUDIT_OUTCOME_DENIED);
  r.set_status_code(static_cast<int32_t>(refusal.code()));
  r.set_detail(std::string(refusal.message()));
  r.set_counterparty_id(std::string(counterparty));
  return store_->Commit([&](storage::Txn& txn) { return Append(txn, r).status(); });
}

absl::Status AuditLog::AppendAllowed(storage::Txn& txn, const ChangeFn& change,
                                     fedhub::v1::AuditRecord& record) {
  absl::Status s = change(txn, record);
  if (!s.ok()) return s;
  record.set_outcome(fedhub::v1::AUDIT_OUTCOME_ALLOWED);
  return Append(txn, record).status();
}

void AuditLog::AppendDenied(storage::Txn& txn, fedhub::v1::AuditRecord& record,
                            const absl::Status& refusal) {
  record.set_outcome(fedhub::v1::AUDIT_OUTCOME_DENIED);
  record.set_status_code(static_cast<int32_t>(refusal.code()));
  record.set_detail(std::string(refusal.message()));
  // If even the audit append fails the whole group fails and the caller sees it.
  (void)Append(txn, record);
}

absl::Status AuditLog::CommitAudited(const Caller& caller, std::string_view action,
                                     const ChangeFn& change) {
  fedhub::v1::AuditRecord record = BaseRecord(caller, action);
  return store_->Commit(
      [&](storage::Txn& txn) { return AppendAllowed(txn, change, record); },
      [&](storage::Txn& txn, const absl::Status& refusal) { AppendDenied(txn, record, refusal); });
}

void AuditLog::CommitAuditedAsync(const Caller& caller, std::string_view action, ChangeFn change,
                                  storage::DoneFn done) {
  auto record = std::make_shared<fedhub::v1::AuditRecord>(BaseRecord(caller, action));
  store_->CommitAsync(
      [this, record, change = std::move(change)](storage::Txn& txn) {
        return AppendAllowed(txn, change, *record);
      },
      [this, record](storage::Txn& txn, const absl::Status& refusal) {
        AppendDenied(txn, *record, refusal);
      },
      std::move(done));
}

void AuditLog::AppendAllAsync(std::shared_ptr<const std::vector<fedhub::v1::AuditRecord>> records,
                              storage::DoneFn done) {
  auto encoded = std::make_shared<std::vector<EncodedAudit>>();
  encoded->reserve(records->size());
  for (const auto& r : *records) encoded->push_back(EncodeRecord(r));
  AppendEncodedAsync(std::move(encoded), std::move(done));
}

void AuditLog::AppendEncodedAsync(std::shared_ptr<std::vector<EncodedAudit>> records, storage::DoneFn done) {
  store_->CommitAsync(
      [this, records = std::move(records)](storage::Txn& txn) -> absl::Status {
        for (auto& e : *records) {
          auto pos = AppendEncoded(txn, std::move(e.bytes), e.outcome);
          if (!pos.ok()) return pos.status();
        }
        return absl::OkStatus();
      },
      nullptr, std::move(done));
}

}  // namespace fedhub::audit
