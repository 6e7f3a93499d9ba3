#include "linking/linker.h"

#include "core/crypto.h"
#include "core/strings.h"
#include "fedhub/storage/v1/records.pb.h"
#include "identity/ids.h"
#include "storage/keys.h"

namespace fedhub::linking {
namespace {

using storage::Cf;
using SubjectRecord = fedhub::storage::v1::SubjectRecord;
using TicketRecord = fedhub::storage::v1::TicketRecord;

absl::StatusOr<SubjectRecord> ReadSubject(storage::Txn& txn, const std::string& subject) {
  auto v = txn.Get(Cf::kSubjects, subject);
  if (!v.ok()) return v.status();
  SubjectRecord rec;
  if (*v && !rec.ParseFromString(**v)) return absl::DataLossError("subject record does not parse");
  return rec;
}

}  // namespace

absl::StatusOr<std::optional<std::string>> Linker::Resolve(storage::Txn& txn,
                                                           const std::string& platform,
                                                           const std::string& local_id) const {
  return txn.Get(Cf::kLinks, storage::LinkKey(platform, local_id));
}

absl::StatusOr<std::optional<std::string>> Linker::Resolve(const std::string& platform,
                                                           const std::string& local_id) const {
  // People a cache remembers at most; past that it starts over.
  constexpr size_t kMaxResolved = 100'000;
  std::string key = storage::LinkKey(platform, local_id);
  const uint64_t epoch = changes();
  {
    std::lock_guard lock(resolved_mu_);
    if (resolved_epoch_ != epoch) {
      resolved_.clear();
      resolved_epoch_ = epoch;
    }
    if (auto it = resolved_.find(key); it != resolved_.end()) return it->second;
  }
  auto subject = store_->Get(Cf::kLinks, key);
  if (!subject.ok() || !*subject) return subject;
  std::lock_guard lock(resolved_mu_);
  // Kept only if no link changed since `epoch` was read, before the read above.
  if (resolved_epoch_ == epoch && changes() == epoch) {
    if (resolved_.size() >= kMaxResolved) resolved_.clear();
    resolved_.emplace(std::move(key), **subject);
  }
  return subject;
}

absl::StatusOr<std::optional<std::string>> Linker::LocalIdOf(const std::string& subject,
                                                             const std::string& platform) const {
  return store_->Get(Cf::kLinks, storage::ReverseLinkKey(subject, platform));
}

absl::Status Linker::AddLink(storage::Txn& txn, const std::string& subject,
                             const std::string& platform, const std::string& local_id) {
  auto rec = ReadSubject(txn, subject);
  if (!rec.ok()) return rec.status();
  if (rec->created_at_micros() == 0) rec->set_created_at_micros(txn.now_micros());
  rec->set_link_count(rec->link_count() + 1);
  txn.Put(Cf::kSubjects, subject, rec->SerializeAsString());
  txn.Put(Cf::kLinks, storage::LinkKey(platform, local_id), subject);
  txn.Put(Cf::kLinks, storage::ReverseLinkKey(subject, platform), local_id);
  txn.AfterCommit([this] { changes_.fetch_add(1, std::memory_order_acq_rel); });
  return absl::OkStatus();
}

absl::StatusOr<std::string> Linker::ResolveOrCreate(storage::Txn& txn, const std::string& platform,
                                                    const std::string& local_id) {
  auto existing = Resolve(txn, platform, local_id);
  if (!existing.ok()) return existing.status();
  if (*existing) return **existing;
  std::string subject = ids::NewSubjectId();
  if (absl::Status s = AddLink(txn, subject, platform, local_id); !s.ok()) return s;
  return subject;
}

absl::StatusOr<Ticket> Linker::CreateTicket(const Caller& caller, const std::string& local_id) {
  Ticket out;
  absl::Status s = audit_->CommitAudited(
      caller, "link.ticket", [&](storage::Txn& txn, fedhub::v1::AuditRecord& record) -> absl::Status {
        if (absl::Status v = ids::ValidateLocalUserId(local_id, "user.local_user_id"); !v.ok()) return v;
        auto subject = ResolveOrCreate(txn, caller.id, local_id);
        if (!subject.ok()) return subject.status();
        record.set_subject(pseudonyms_->Audit(*subject));
        out.ticket = crypto::Base64UrlEncode(crypto::RandomBytes(32));
        out.expires_at_micros =
            txn.now_micros() + std::chrono::duration_cast<std::chrono::microseconds>(options_.ticket_ttl).count();
        TicketRecord t;
        t.set_issuer_platform_id(caller.id);
        t.set_subject(*subject);
        t.set_expires_at_micros(out.expires_at_micros);
        // Only the ticket's hash is stored: a copy of the database cannot redeem tickets.
        txn.Put(Cf::kTickets, crypto::ToString(crypto::Sha256(out.ticket)), t.SerializeAsString());
        record.set_detail("link ticket issued");
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::string> Linker::Redeem(const Caller& caller, const std::string& ticket,
                                           const std::string& local_id) {
  std::string issuer;
  absl::Status s = audit_->CommitAudited(
      caller, "link.redeem", [&](storage::Txn& txn, fedhub::v1::AuditRecord& record) -> absl::Status {
        if (ticket.empty()) return absl::InvalidArgumentError("ticket is required");
        if (absl::Status v = ids::ValidateLocalUserId(local_id, "user.local_user_id"); !v.ok()) return v;
        std::string key = crypto::ToString(crypto::Sha256(ticket));
        auto v = txn.Get(Cf::kTickets, key);
        if (!v.ok()) return v.status();
        if (!*v) {
          return absl::NotFoundError(
              "link ticket not found; check it was copied whole, or ask the other platform for a new one");
        }
        TicketRecord t;
        if (!t.ParseFromString(**v)) return absl::DataLossError("ticket record does not parse");
        record.set_subject(pseudonyms_->Audit(t.subject()));
        record.set_counterparty_id(t.issuer_platform_id());
        if (t.redeemed()) {
          return absl::FailedPreconditionError(
              "link ticket was already used; tickets are single-use, ask for a new one");
        }
        if (txn.now_micros() >= t.expires_at_micros()) {
          return absl::FailedPreconditionError(
              "link ticket expired; ask the other platform for a new one");
        }
        // The issuer's account may have been merged into another person or unlinked since
        // the ticket was issued; the ticket then names a person record that is gone.
        auto issuer_link = txn.Get(Cf::kLinks, storage::ReverseLinkKey(t.subject(), t.issuer_platform_id()));
        if (!issuer_link.ok()) return issuer_link.status();
        if (!*issuer_link) {
          return absl::FailedPreconditionError(
              "the account this link ticket was issued for was linked or unlinked since; ask the "
              "other platform for a new ticket");
        }
        if (t.issuer_platform_id() == caller.id) {
          return absl::InvalidArgumentError(
              "a link ticket must be redeemed by another platform than the one that issued it");
        }
        auto current = Resolve(txn, caller.id, local_id);
        if (!current.ok()) return current.status();
        if (*current && **current == t.subject()) {
          return absl::AlreadyExistsError("the user in user.local_user_id is already linked to this person");
        }
        auto other = txn.Get(Cf::kLinks, storage::ReverseLinkKey(t.subject(), caller.id));
        if (!other.ok()) return other.status();
        if (*other) {
          return absl::AlreadyExistsError(
              "this person is already linked to another of your users; unlink that account first");
        }
        if (*current) {
          // The caller named this user before (a person record of its own). Joining two
          // person records would merge their consents; refuse unless that record is
          // bare: only this one link and no consents.
          auto rec = ReadSubject(txn, **current);
          if (!rec.ok()) return rec.status();
          if (rec->link_count() > 1 || rec->consent_count() > 0) {
            return absl::FailedPreconditionError(
                "the user in user.local_user_id already has consents or links of its own at the "
                "hub; unlink it first");
          }
          txn.Delete(Cf::kSubjects, **current);
          txn.Delete(Cf::kLinks, storage::ReverseLinkKey(**current, caller.id));
        }
        if (absl::Status a = AddLink(txn, t.subject(), caller.id, local_id); !a.ok()) return a;
        t.set_redeemed(true);
        t.set_redeemed_by_platform_id(caller.id);
        txn.Put(Cf::kTickets, key, t.SerializeAsString());
        issuer = t.issuer_platform_id();
        record.set_detail(Cat("linked account at ", caller.id, " to account at ", issuer));
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return issuer;
}

absl::Status Linker::Unlink(const Caller& caller, const std::string& local_id) {
  return audit_->CommitAudited(
      caller, "link.unlink", [&](storage::Txn& txn, fedhub::v1::AuditRecord& record) -> absl::Status {
        if (absl::Status v = ids::ValidateLocalUserId(local_id, "user.local_user_id"); !v.ok()) return v;
        auto subject = Resolve(txn, caller.id, local_id);
        if (!subject.ok()) return subject.status();
        if (!*subject) return absl::NotFoundError("the user in user.local_user_id is not known to the hub");
        record.set_subject(pseudonyms_->Audit(**subject));
        auto rec = ReadSubject(txn, **subject);
        if (!rec.ok()) return rec.status();
        rec->set_link_count(rec->link_count() > 0 ? rec->link_count() - 1 : 0);
        txn.Put(Cf::kSubjects, **subject, rec->SerializeAsString());
        txn.Delete(Cf::kLinks, storage::LinkKey(caller.id, local_id));
        txn.Delete(Cf::kLinks, storage::ReverseLinkKey(**subject, caller.id));
        txn.AfterCommit([this] { changes_.fetch_add(1, std::memory_order_acq_rel); });
        record.set_detail("account unlinked");
        return absl::OkStatus();
      });
}

}  // namespace fedhub::linking
