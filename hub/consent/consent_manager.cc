#include "consent/consent_manager.h"

#include <google/protobuf/util/time_util.h>

#include <set>

#include "core/chain_codec.h"
#include "core/receipt.h"
#include "core/strings.h"
#include "identity/ids.h"
#include "storage/keys.h"

namespace fedhub::consent {
namespace {

using fedhub::storage::v1::ConsentRecord;
using google::protobuf::util::TimeUtil;
using storage::Cf;

constexpr int64_t kClockSkewMicros = 5 * 60 * 1000000LL;

google::protobuf::Timestamp Ts(int64_t micros) { return TimeUtil::MicrosecondsToTimestamp(micros); }

template <typename Enum, typename IsValid, typename Name>
absl::Status ValidateEnumList(const google::protobuf::RepeatedField<int>& values,
                              std::string_view field, IsValid is_valid, Name name) {
  if (values.empty()) return absl::InvalidArgumentError(Cat(field, " must name at least one value"));
  std::set<int> seen;
  for (int v : values) {
    if (v == 0 || !is_valid(v)) {
      return absl::InvalidArgumentError(Cat(field, " has an unspecified or unknown value ", v));
    }
    if (!seen.insert(v).second) {
      return absl::InvalidArgumentError(
          Cat(field, " names ", name(static_cast<Enum>(v)), " twice; list each once"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

ConsentManager::ConsentManager(storage::Store* store, audit::AuditLog* audit,
                               const registry::Registry* registry, linking::Linker* linker,
                               const Pseudonymizer* pseudonyms, const crypto::SigningKey* key,
                               ConsentOptions options)
    : store_(store),
      audit_(audit),
      registry_(registry),
      linker_(linker),
      pseudonyms_(pseudonyms),
      key_(key),
      options_(options),
      ledger_(store, fedhub::v1::CHAIN_LEDGER) {}

absl::StatusOr<std::unique_ptr<ConsentManager>> ConsentManager::Open(
    storage::Store* store, audit::AuditLog* audit, const registry::Registry* registry,
    linking::Linker* linker, const Pseudonymizer* pseudonyms, const crypto::SigningKey* key,
    ConsentOptions options) {
  std::unique_ptr<ConsentManager> m(
      new ConsentManager(store, audit, registry, linker, pseudonyms, key, options));
  if (absl::Status s = m->index_.Load(*store); !s.ok()) return s;
  return m;
}

absl::Status ConsentManager::ValidateGrant(const fedhub::v1::GrantConsentRequest& req,
                                           const Caller& caller, int64_t now) const {
  if (absl::Status s = ids::ValidateLocalUserId(req.user().local_user_id(), "user.local_user_id");
      !s.ok()) {
    return s;
  }
  const std::string& target = req.target_platform_id();
  if (!target.empty()) {
    if (absl::Status s = ids::ValidatePrincipalId(target, "target_platform_id"); !s.ok()) return s;
    if (target == caller.id) {
      return absl::InvalidArgumentError(
          "target_platform_id is the calling platform itself; name another platform or leave it "
          "empty for any member");
    }
    if (!registry_->IsActivePlatform(target)) {
      return absl::NotFoundError(
          Cat("target platform ", target, " is not a registered, active member platform"));
    }
  }
  if (absl::Status s = ValidateEnumList<fedhub::v1::DataCategory>(
          req.categories(), "categories", fedhub::v1::DataCategory_IsValid,
          [](fedhub::v1::DataCategory c) { return fedhub::v1::DataCategory_Name(c); });
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateEnumList<fedhub::v1::Purpose>(
          req.purposes(), "purposes", fedhub::v1::Purpose_IsValid,
          [](fedhub::v1::Purpose p) { return fedhub::v1::Purpose_Name(p); });
      !s.ok()) {
    return s;
  }
  int64_t max_expiry = now + std::chrono::duration_cast<std::chrono::microseconds>(
                                 options_.max_lifetime).count();
  if (req.has_expires_at()) {
    int64_t expires = TimeUtil::TimestampToMicroseconds(req.expires_at());
    if (expires <= now) {
      return absl::InvalidArgumentError(
          Cat("expires_at ", FormatMicros(expires), " is not in the future"));
    }
    if (expires > max_expiry) {
      return absl::InvalidArgumentError(
          Cat("expires_at ", FormatMicros(expires), " is later than the hub's maximum consent lifetime (",
              FormatMicros(max_expiry), "); choose an earlier time"));
    }
  }
  const auto& ev = req.evidence();
  if (ev.method().empty()) {
    return absl::InvalidArgumentError(
        "evidence.method is required: say how the person consented, e.g. \"web-form\"");
  }
  if (ev.method().size() > 64 || ev.reference().size() > 256) {
    return absl::InvalidArgumentError(
        "evidence.method is limited to 64 bytes and evidence.reference to 256");
  }
  if (ev.has_collected_at() &&
      TimeUtil::TimestampToMicroseconds(ev.collected_at()) > now + kClockSkewMicros) {
    return absl::InvalidArgumentError("evidence.collected_at is in the future; check the platform's clock");
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ConsentManager::AppendLedger(storage::Txn& txn,
                                                      fedhub::v1::LedgerAction action,
                                                      const ConsentRecord& rec,
                                                      const std::string& actor,
                                                      crypto::Digest* hash) {
  fedhub::v1::LedgerRecord l;
  *l.mutable_time() = Ts(txn.now_micros());
  l.set_action(action);
  l.set_consent_id(rec.consent_id());
  l.set_subject(pseudonyms_->Audit(rec.subject()));
  l.set_source_platform_id(rec.source_platform_id());
  l.set_target_platform_id(rec.target_platform_id());
  for (int c : rec.categories()) l.add_categories(static_cast<fedhub::v1::DataCategory>(c));
  for (int p : rec.purposes()) l.add_purposes(static_cast<fedhub::v1::Purpose>(p));
  *l.mutable_expires_at() = Ts(rec.expires_at_micros());
  if (action == fedhub::v1::LEDGER_ACTION_GRANT) {
    l.set_evidence_method(rec.evidence().method());
    l.set_evidence_reference(rec.evidence().reference());
  }
  l.set_actor_platform_id(actor);
  auto pos = ledger_.Append(txn, chain::EncodeLedger(l));
  if (!pos.ok()) return pos.status();
  *hash = pos->hash;
  uint64_t seq = pos->sequence;
  txn.AfterCommit([this, seq] { Notify(seq); });
  return seq;
}

fedhub::v1::ConsentReceipt ConsentManager::MakeReceipt(fedhub::v1::ReceiptAction action,
                                                       const fedhub::v1::Consent& consent,
                                                       const std::string& platform, uint64_t seq,
                                                       const crypto::Digest& hash) const {
  fedhub::v1::ReceiptBody body;
  body.set_action(action);
  *body.mutable_consent() = consent;
  body.set_issued_to_platform_id(platform);
  body.set_ledger_sequence(seq);
  body.set_ledger_entry_hash(crypto::ToString(hash));
  *body.mutable_issued_at() = Ts(storage::NowMicros());
  body.set_signing_key_id(key_->key_id());
  return receipt::Sign(*key_, body);
}

// The transaction of a grant, shared by Grant and GrantAsync.
absl::Status ConsentManager::GrantTxn(GrantState& st, storage::Txn& txn,
                                      fedhub::v1::AuditRecord& record) {
  record.set_counterparty_id(st.req.target_platform_id());
  for (int c : st.req.categories()) record.add_categories(static_cast<fedhub::v1::DataCategory>(c));
  for (int p : st.req.purposes()) record.add_purposes(static_cast<fedhub::v1::Purpose>(p));
  int64_t now = txn.now_micros();
  if (absl::Status v = ValidateGrant(st.req, st.caller, now); !v.ok()) return v;
  auto subject = linker_->ResolveOrCreate(txn, st.caller.id, st.req.user().local_user_id());
  if (!subject.ok()) return subject.status();
  record.set_subject(pseudonyms_->Audit(*subject));

  st.rec.set_consent_id(ids::NewConsentId());
  st.rec.set_subject(*subject);
  st.rec.set_source_platform_id(st.caller.id);
  st.rec.set_target_platform_id(st.req.target_platform_id());
  for (int c : st.req.categories()) st.rec.add_categories(c);
  for (int p : st.req.purposes()) st.rec.add_purposes(p);
  st.rec.set_granted_at_micros(now);
  st.rec.set_expires_at_micros(
      st.req.has_expires_at()
          ? TimeUtil::TimestampToMicroseconds(st.req.expires_at())
          : now + std::chrono::duration_cast<std::chrono::microseconds>(options_.max_lifetime).count());
  *st.rec.mutable_evidence() = st.req.evidence();
  auto ledger_seq = AppendLedger(txn, fedhub::v1::LEDGER_ACTION_GRANT, st.rec, st.caller.id, &st.hash);
  if (!ledger_seq.ok()) return ledger_seq.status();
  st.seq = *ledger_seq;
  st.rec.set_grant_ledger_sequence(st.seq);

  auto subject_value = txn.Get(Cf::kSubjects, *subject);
  if (!subject_value.ok()) return subject_value.status();
  fedhub::storage::v1::SubjectRecord srec;
  if (*subject_value) srec.ParseFromString(**subject_value);
  srec.set_consent_count(srec.consent_count() + 1);
  txn.Put(Cf::kSubjects, *subject, srec.SerializeAsString());
  txn.Put(Cf::kConsents, st.rec.consent_id(), st.rec.SerializeAsString());
  txn.Put(Cf::kSubjectConsents, storage::SubjectConsentKey(*subject, st.rec.consent_id()), "");
  record.set_consent_id(st.rec.consent_id());
  record.set_detail(Cat("ledger entry ", st.seq));
  txn.AfterCommit([this, rec = st.rec] { index_.Upsert(rec); });
  return absl::OkStatus();
}

absl::StatusOr<ChangeResult> ConsentManager::GrantResult(const GrantState& st) const {
  ChangeResult out;
  auto view = ViewFor(st.caller.id, st.rec, st.rec.granted_at_micros());
  if (!view.ok()) return view.status();
  out.consent = **view;
  out.receipt = MakeReceipt(fedhub::v1::RECEIPT_ACTION_GRANT, out.consent, st.caller.id, st.seq, st.hash);
  return out;
}

absl::StatusOr<ChangeResult> ConsentManager::Grant(const Caller& caller,
                                                   const fedhub::v1::GrantConsentRequest& req) {
  GrantState st{caller, req, {}};
  absl::Status s = audit_->CommitAudited(
      caller, "consent.grant", [&](storage::Txn& txn, fedhub::v1::AuditRecord& record) {
        return GrantTxn(st, txn, record);
      });
  if (!s.ok()) return s;
  return GrantResult(st);
}

void ConsentManager::GrantAsync(const Caller& caller, const fedhub::v1::GrantConsentRequest& req,
                                std::function<void(absl::StatusOr<ChangeResult>)> done) {
  auto st = std::make_shared<GrantState>(GrantState{caller, req, {}});
  audit_->CommitAuditedAsync(
      caller, "consent.grant",
      [this, st](storage::Txn& txn, fedhub::v1::AuditRecord& record) { return GrantTxn(*st, txn, record); },
      [this, st, done = std::move(done)](const absl::Status& s) {
        if (!s.ok()) {
          done(s);
        } else {
          done(GrantResult(*st));
        }
      });
}

absl::StatusOr<ChangeResult> ConsentManager::Revoke(const Caller& caller,
                                                    const fedhub::v1::RevokeConsentRequest& req) {
  ConsentRecord rec;
  uint64_t seq = 0;
  crypto::Digest hash{};
  absl::Status s = audit_->CommitAudited(
      caller, "consent.revoke", [&](storage::Txn& txn, fedhub::v1::AuditRecord& record) -> absl::Status {
        if (absl::Status v = ids::ValidateLocalUserId(req.user().local_user_id(), "user.local_user_id");
            !v.ok()) {
          return v;
        }
        if (!ids::LooksLikeConsentId(req.consent_id())) {
          return absl::InvalidArgumentError(
              Cat("consent_id \"", req.consent_id(), "\" is malformed; a consent id is c- followed by 32 lowercase hex digits"));
        }
        record.set_consent_id(req.consent_id());
        // One answer for "no such consent" and "not this person's consent", so a
        // platform learns nothing about consents of people it does not serve.
        absl::Status not_found = absl::NotFoundError(
            Cat("consent ", req.consent_id(), " not found for the user in user.local_user_id"));
        auto subject = linker_->Resolve(txn, caller.id, req.user().local_user_id());
        if (!subject.ok()) return subject.status();
        if (!*subject) return not_found;
        record.set_subject(pseudonyms_->Audit(**subject));
        auto value = txn.Get(Cf::kConsents, req.consent_id());
        if (!value.ok()) return value.status();
        if (!*value) return not_found;
        if (!rec.ParseFromString(**value)) return absl::DataLossError("consent record does not parse");
        if (rec.subject() != **subject) return not_found;
        for (int c : rec.categories()) record.add_categories(static_cast<fedhub::v1::DataCategory>(c));
        for (int p : rec.purposes()) record.add_purposes(static_cast<fedhub::v1::Purpose>(p));
        // The other side of the consent from the revoking platform's point of view.
        record.set_counterparty_id(caller.id == rec.source_platform_id() ? rec.target_platform_id()
                                                                         : rec.source_platform_id());
        if (rec.revoked_at_micros() != 0) {
          return absl::FailedPreconditionError(Cat("consent ", rec.consent_id(), " was already revoked at ",
                                                   FormatMicros(rec.revoked_at_micros())));
        }
        rec.set_revoked_at_micros(txn.now_micros());
        rec.set_revoked_by_platform_id(caller.id);
        auto ledger_seq = AppendLedger(txn, fedhub::v1::LEDGER_ACTION_REVOKE, rec, caller.id, &hash);
        if (!ledger_seq.ok()) return ledger_seq.status();
        seq = *ledger_seq;
        rec.set_revoke_ledger_sequence(seq);
        txn.Put(Cf::kConsents, rec.consent_id(), rec.SerializeAsString());
        record.set_detail(Cat("ledger entry ", seq));
        // The index changes only once the revocation is durable; from then on every
        // check sees it (the AfterCommit hook runs before Commit returns).
        txn.AfterCommit([this, rec] { index_.Upsert(rec); });
        if (revoke_hook_) return revoke_hook_(txn, rec);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  ChangeResult out;
  // The revoking platform may be neither source nor target: it still gets its receipt.
  auto view = ViewFor(rec.source_platform_id(), rec, rec.revoked_at_micros());
  if (!view.ok()) return view.status();
  out.consent = **view;
  out.consent.clear_pairwise_pseudonym();
  out.consent.mutable_user()->set_local_user_id(req.user().local_user_id());
  out.receipt = MakeReceipt(fedhub::v1::RECEIPT_ACTION_REVOKE, out.consent, caller.id, seq, hash);
  return out;
}

absl::StatusOr<Decision> ConsentManager::Check(const Caller& caller,
                                               const fedhub::v1::CheckConsentRequest& req) const {
  if (absl::Status s = ids::ValidateLocalUserId(req.user().local_user_id(), "user.local_user_id"); !s.ok()) {
    return s;
  }
  if (absl::Status s = ids::ValidatePrincipalId(req.source_platform_id(), "source_platform_id"); !s.ok()) {
    return s;
  }
  if (absl::Status s = ids::ValidatePrincipalId(req.target_platform_id(), "target_platform_id"); !s.ok()) {
    return s;
  }
  if (req.source_platform_id() != caller.id && req.target_platform_id() != caller.id) {
    return absl::PermissionDeniedError(
        "a platform may only check flows it takes part in: set source_platform_id or "
        "target_platform_id to your own platform id");
  }
  if (req.category() == fedhub::v1::DATA_CATEGORY_UNSPECIFIED) {
    return absl::InvalidArgumentError("category is required");
  }
  if (!fedhub::v1::DataCategory_IsValid(req.category())) {
    return absl::InvalidArgumentError(
        Cat("category ", static_cast<int>(req.category()), " is not a known DataCategory value"));
  }
  if (req.purpose() == fedhub::v1::PURPOSE_UNSPECIFIED) {
    return absl::InvalidArgumentError("purpose is required");
  }
  if (!fedhub::v1::Purpose_IsValid(req.purpose())) {
    return absl::InvalidArgumentError(
        Cat("purpose ", static_cast<int>(req.purpose()), " is not a known Purpose value"));
  }
  auto subject = linker_->Resolve(caller.id, req.user().local_user_id());
  if (!subject.ok()) return subject.status();
  if (!*subject) {
    Decision d;
    d.reason = Cat("user ", req.user().local_user_id(), " is not known to the hub; no consent covers them");
    return d;
  }
  return index_.Check(**subject, req.source_platform_id(), req.target_platform_id(), req.category(),
                      req.purpose(), storage::NowMicros());
}

absl::StatusOr<ConsentPage> ConsentManager::List(const Caller& caller,
                                                 const fedhub::v1::ListConsentsRequest& req) const {
  if (absl::Status s = ids::ValidateLocalUserId(req.user().local_user_id(), "user.local_user_id"); !s.ok()) {
    return s;
  }
  int page_size = req.page().page_size();
  if (page_size < 0 || page_size > 1000) {
    return absl::InvalidArgumentError(Cat("page.page_size ", page_size, " is out of range; use 1 to 1000"));
  }
  if (page_size == 0) page_size = 100;
  const std::string& token = req.page().page_token();
  if (!token.empty() && !ids::LooksLikeConsentId(token)) {
    return absl::InvalidArgumentError("page.page_token is not one this hub issued; start without one");
  }
  ConsentPage page;
  auto subject = linker_->Resolve(caller.id, req.user().local_user_id());
  if (!subject.ok()) return subject.status();
  if (!*subject) return page;
  int64_t now = storage::NowMicros();
  std::string start = token.empty() ? "" : storage::SubjectConsentKey(**subject, token) + '\0';
  absl::Status inner;
  absl::Status s = store_->Scan(Cf::kSubjectConsents, **subject, start,
                                [&](std::string_view key, std::string_view) {
    std::string id(key.substr(subject->value().size()));
    auto rec = Read(id);
    if (!rec.ok()) {
      inner = rec.status();
      return false;
    }
    if (!*rec) return true;
    auto view = ViewFor(caller.id, **rec, now);
    if (!view.ok()) {
      inner = view.status();
      return false;
    }
    if (!*view) return true;
    if (!req.include_inactive() && (*view)->state() != fedhub::v1::CONSENT_STATE_ACTIVE) return true;
    if (static_cast<int>(page.consents.size()) == page_size) {
      page.next_page_token = page.consents.back().consent_id();
      return false;
    }
    page.consents.push_back(std::move(**view));
    return true;
  });
  if (!s.ok()) return s;
  if (!inner.ok()) return inner;
  return page;
}

absl::StatusOr<std::optional<ConsentRecord>> ConsentManager::Read(const std::string& id) const {
  auto value = store_->Get(Cf::kConsents, id);
  if (!value.ok()) return value.status();
  if (!*value) return std::optional<ConsentRecord>();
  ConsentRecord rec;
  if (!rec.ParseFromString(**value)) return absl::DataLossError(Cat("consent ", id, " does not parse"));
  return std::optional<ConsentRecord>(std::move(rec));
}

absl::StatusOr<std::optional<fedhub::v1::Consent>> ConsentManager::ViewFor(
    const std::string& platform, const ConsentRecord& rec, int64_t now) const {
  bool involved = rec.source_platform_id() == platform || rec.target_platform_id() == platform ||
                  rec.target_platform_id().empty();
  if (!involved) return std::optional<fedhub::v1::Consent>();
  fedhub::v1::Consent c;
  c.set_consent_id(rec.consent_id());
  auto local = linker_->LocalIdOf(rec.subject(), platform);
  if (!local.ok()) return local.status();
  if (*local) {
    c.mutable_user()->set_local_user_id(**local);
  } else {
    c.set_pairwise_pseudonym(pseudonyms_->Pairwise(platform, rec.subject()));
  }
  c.set_source_platform_id(rec.source_platform_id());
  c.set_target_platform_id(rec.target_platform_id());
  for (int v : rec.categories()) c.add_categories(static_cast<fedhub::v1::DataCategory>(v));
  for (int v : rec.purposes()) c.add_purposes(static_cast<fedhub::v1::Purpose>(v));
  *c.mutable_granted_at() = Ts(rec.granted_at_micros());
  *c.mutable_expires_at() = Ts(rec.expires_at_micros());
  *c.mutable_evidence() = rec.evidence();
  // The evidence reference points into the source platform's own records; other platforms
  // (the target, or every member for an any-member consent) see how and when, not where.
  if (platform != rec.source_platform_id()) c.mutable_evidence()->clear_reference();
  if (rec.revoked_at_micros() != 0) {
    c.set_state(fedhub::v1::CONSENT_STATE_REVOKED);
    *c.mutable_revoked_at() = Ts(rec.revoked_at_micros());
    c.set_revoked_by_platform_id(rec.revoked_by_platform_id());
  } else if (rec.expires_at_micros() <= now) {
    c.set_state(fedhub::v1::CONSENT_STATE_EXPIRED);
  } else {
    c.set_state(fedhub::v1::CONSENT_STATE_ACTIVE);
  }
  c.set_grant_ledger_sequence(rec.grant_ledger_sequence());
  return std::optional<fedhub::v1::Consent>(std::move(c));
}

int ConsentManager::AddListener(std::function<void(uint64_t)> fn) {
  std::lock_guard lock(listeners_mu_);
  int h = next_listener_++;
  listeners_[h] = std::move(fn);
  return h;
}

void ConsentManager::RemoveListener(int handle) {
  std::lock_guard lock(listeners_mu_);
  listeners_.erase(handle);
}

void ConsentManager::Notify(uint64_t ledger_size) {
  std::lock_guard lock(listeners_mu_);
  for (auto& [_, fn] : listeners_) fn(ledger_size);
}

}  // namespace fedhub::consent
