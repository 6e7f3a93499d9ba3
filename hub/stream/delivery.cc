#include "stream/delivery.h"

#include <google/protobuf/util/time_util.h>

#include <cassert>
#include <optional>
#include <set>

#include "audit/audit_log.h"
#include "core/categories.h"
#include "core/chain_codec.h"
#include "core/strings.h"
#include "stream/validate.h"
#include "stream/wire.h"

namespace fedhub::stream {
namespace {

using google::protobuf::util::TimeUtil;

// People whose names a subscriber's stream remembers at most.
constexpr size_t kMaxCachedNames = 100'000;

// The head of a delivery's audit entry: everything but the accesses.
fedhub::v1::AuditRecord DeliveryHead(const std::string& subscriber, uint64_t cursor,
                                     const std::vector<Built::Access>& accesses) {
  fedhub::v1::AuditRecord r =
      audit::BaseRecord(Caller{subscriber, fedhub::v1::ROLE_PLATFORM, {}}, "stream.deliver");
  uint32_t all = 0;
  for (const auto& a : accesses) all |= a.categories;
  for (uint32_t bits = all; bits != 0; bits &= bits - 1) {
    r.add_categories(static_cast<fedhub::v1::DataCategory>(__builtin_ctz(bits)));
  }
  r.add_purposes(fedhub::v1::PURPOSE_SYNC);
  r.set_outcome(fedhub::v1::AUDIT_OUTCOME_ALLOWED);
  r.set_detail(Cat("message up to cursor ", cursor, ": ", accesses.size(), " people"));
  return r;
}

// The audit entry of one message: every person and consent it carries data of, collected
// into Built::accesses and encoded straight into the chain's format.
class DeliveryAudit {
 public:
  explicit DeliveryAudit(std::vector<Built::Access>* accesses) : accesses_(accesses) {}

  void Add(const PersonNames* names, const std::string* consent_id, const std::string* source,
           uint32_t categories, uint64_t offset) {
    auto [it, fresh] = index_.try_emplace({names, consent_id}, accesses_->size());
    if (fresh) {
      accesses_->push_back({names, consent_id, source, 0, offset, 0});
      last_offset_.push_back(0);
    }
    Built::Access& a = (*accesses_)[it->second];
    if (uint64_t& last = last_offset_[it->second]; last != offset) {
      last = offset;
      ++a.events;
    }
    a.categories |= categories;
  }

  // Nullopt if the message carries no personal data.
  std::optional<audit::EncodedAudit> Encode(const std::string& subscriber, uint64_t cursor) const {
    if (accesses_->empty()) return std::nullopt;
    fedhub::v1::AuditRecord head = DeliveryHead(subscriber, cursor, *accesses_);
    audit::PrepareRecord(&head);
    // An access is about 100 bytes: two 32-byte ids, the source, five small numbers.
    chain::AuditAccessEncoder encoder(head, static_cast<uint32_t>(accesses_->size()), 112);
    for (const auto& a : *accesses_) {
      encoder.Add(a.names->audit, *a.consent_id, *a.source, a.categories, a.first_offset, a.events);
    }
    return audit::EncodedAudit{std::move(encoder).Take(), head.outcome()};
  }

 private:
  std::vector<Built::Access>* accesses_;
  std::vector<uint64_t> last_offset_;  // per access: the last event counted
  // (names, consent id) -> index; both pointers stay valid while the message is built.
  absl::flat_hash_map<std::pair<const void*, const void*>, size_t> index_;
};

uint32_t CategoryBits(const google::protobuf::RepeatedField<int>& categories) {
  uint32_t bits = 0;
  for (int c : categories) {
    if (c > 0 && c < kCategorySlots) bits |= 1u << c;
  }
  return bits;
}

// A google.protobuf.Timestamp field.
template <class W>
void EmitTimestamp(W& w, int field, int64_t micros) {
  int64_t seconds = micros / 1'000'000, rem = micros % 1'000'000;
  if (rem < 0) {
    --seconds;
    rem += 1'000'000;
  }
  const auto s = static_cast<uint64_t>(seconds), nanos = static_cast<uint64_t>(rem * 1000);
  WireSizer size;
  size.VarintField(1, s);
  size.VarintField(2, nanos);
  w.Header(field, size.size());
  w.VarintField(1, s);
  w.VarintField(2, nanos);
}

// A profile item's DeliveredEvent up to its ProfileUpdate (fields 1-4).
template <class W>
void EmitEventHead(W& w, const LogEvent& le) {
  w.VarintField(1, le.offset);
  w.BytesField(2, le.event.event_id());
  w.BytesField(3, le.event.publisher_platform_id());
  EmitTimestamp(w, 4, le.event.published_at_micros());
}

// A profile item's ProfileUpdate: the person, the `allowed` categories, their fields (the
// event's per-category bytes, concatenated), the version and the consents.
template <class W>
void EmitUpdate(W& w, const Built::Item& item, const std::vector<consent::ConsentIndex::Grant>& grants,
                uint32_t allowed) {
  const LogEvent& le = *item.source;
  const PersonNames& names = *item.names;
  if (!names.local_id.empty()) {
    w.Header(1, 1 + VarintSize(names.local_id.size()) + names.local_id.size());  // UserRef
    w.BytesField(1, names.local_id);
  } else {
    w.LengthDelimited(2, names.pairwise);
  }
  size_t packed = 0;
  for (uint32_t bits = allowed; bits != 0; bits &= bits - 1) packed += VarintSize(__builtin_ctz(bits));
  w.Header(3, packed);
  for (uint32_t bits = allowed; bits != 0; bits &= bits - 1) w.Varint(__builtin_ctz(bits));
  size_t fields = le.parts[0].size();
  for (uint32_t bits = allowed; bits != 0; bits &= bits - 1) fields += le.parts[__builtin_ctz(bits)].size();
  w.Header(4, fields);
  w.Raw(le.parts[0]);
  for (uint32_t bits = allowed; bits != 0; bits &= bits - 1) w.Raw(le.parts[__builtin_ctz(bits)]);
  w.VarintField(5, static_cast<uint64_t>(le.event.profile().version()));
  for (uint32_t bits = allowed; bits != 0; bits &= bits - 1) {
    const uint32_t bit = bits & (~bits + 1);
    for (uint32_t g = 0; g < item.grant_count; ++g) {
      const auto& grant = grants[item.first_grant + g];
      if (grant.categories & bit) w.LengthDelimited(6, *grant.consent_id);
    }
  }
}

}  // namespace

std::string Built::Encode() const {
  // Sized first, then written once in place: each event's field bytes are copied once.
  struct Sizes {
    uint32_t allowed;
    size_t event;
    size_t update;
  };
  std::vector<Sizes> sizes(items.size());
  WireSizer total;  // everything but the profile events' bodies
  size_t bodies = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& item = items[i];
    if (item.source == nullptr) {
      total.LengthDelimited(1, item.encoded);
      continue;
    }
    Sizes& z = sizes[i];
    z.allowed = 0;
    for (uint32_t g = 0; g < item.grant_count; ++g) z.allowed |= grants[item.first_grant + g].categories;
    WireSizer update, event;
    EmitUpdate(update, item, grants, z.allowed);
    EmitEventHead(event, *item.source);
    event.Header(5, update.size());
    z.update = update.size();
    z.event = event.size() + update.size();
    total.Header(1, z.event);
    bodies += z.event;
  }
  WireSizer tail;
  EmitTail(tail);
  std::string out(total.size() + bodies + tail.size(), '\0');
  WireSpanWriter w(out.data());
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& item = items[i];
    if (item.source == nullptr) {
      w.LengthDelimited(1, item.encoded);
      continue;
    }
    const Sizes& z = sizes[i];
    w.Header(1, z.event);
    EmitEventHead(w, *item.source);
    w.Header(5, z.update);
    EmitUpdate(w, item, grants, z.allowed);
  }
  EmitTail(w);
  assert(w.position() == out.data() + out.size());
  return out;
}

absl::StatusOr<std::shared_ptr<const PersonNames>> Deliverer::NamesOf(const std::string& subject) const {
  if (auto it = names_.find(subject); it != names_.end()) return it->second;
  if (names_.size() >= kMaxCachedNames) names_.clear();
  auto n = std::make_shared<PersonNames>();
  auto local = linker_->LocalIdOf(subject, view_.platform);
  if (!local.ok()) return local.status();
  if (*local) {
    n->local_id = std::move(**local);
  } else {
    n->pairwise = pseudonyms_->Pairwise(view_.platform, subject);
  }
  n->audit = pseudonyms_->Audit(subject);
  names_.emplace(subject, n);
  return n;
}

absl::StatusOr<Built> Deliverer::Build(std::vector<LogEventPtr> events, uint64_t cursor) const {
  Built b;
  b.revocations = index_->revocations();
  if (uint64_t epoch = linker_->changes(); epoch != names_epoch_) {
    names_.clear();
    names_epoch_ = epoch;
  }
  b.cursor = cursor;
  b.items.reserve(events.size());
  const int64_t now = storage::NowMicros();
  DeliveryAudit audit(&b.accesses);
  // A non-profile event, encoded now.
  auto add_encoded = [&](const LogEvent& le, const auto& fill) {
    const auto& ev = le.event;
    fedhub::v1::DeliveredEvent d;
    d.set_offset(le.offset);
    d.set_event_id(ev.event_id());
    d.set_publisher_platform_id(ev.publisher_platform_id());
    *d.mutable_published_at() = TimeUtil::MicrosecondsToTimestamp(ev.published_at_micros());
    fill(d);
    b.items.emplace_back().encoded = d.SerializeAsString();
  };
  for (LogEventPtr& le : events) {
    const auto& ev = le->event;
    if (ev.has_profile()) {
      if (!view_.profile || ev.publisher_platform_id() == view_.platform) continue;
      const uint32_t first = static_cast<uint32_t>(b.grants.size());
      uint32_t allowed = index_->Allowed(ev.subject(), ev.publisher_platform_id(), view_.platform,
                                         CategoryBits(ev.profile().categories()), fedhub::v1::PURPOSE_SYNC,
                                         now, &b.grants);
      if (allowed == 0) continue;
      auto names = NamesOf(ev.subject());
      if (!names.ok()) return names.status();
      Built::Item& item = b.items.emplace_back();
      item.names = std::move(*names);
      item.first_grant = first;
      item.grant_count = static_cast<uint32_t>(b.grants.size()) - first;
      for (uint32_t g = first; g < b.grants.size(); ++g) {
        const auto& grant = b.grants[g];
        b.expires_at_micros = std::min(b.expires_at_micros, grant.expires_at_micros);
        audit.Add(item.names.get(), grant.consent_id.get(), &ev.publisher_platform_id(), grant.categories,
                  le->offset);
      }
      item.source = std::move(le);
      ++b.personal_events;
    } else if (ev.has_erasure()) {
      const auto& er = ev.erasure();
      if (!view_.profile || ev.publisher_platform_id() == view_.platform) continue;
      if (!er.target_platform_id().empty() && er.target_platform_id() != view_.platform) continue;
      auto names = NamesOf(ev.subject());
      if (!names.ok()) return names.status();
      add_encoded(*le, [&](fedhub::v1::DeliveredEvent& d) {
        auto* n = d.mutable_erasure();
        n->set_notice_id(ev.event_id());
        if (!(*names)->local_id.empty()) {
          n->mutable_user()->set_local_user_id((*names)->local_id);
        } else {
          n->set_pairwise_pseudonym((*names)->pairwise);
        }
        n->set_source_platform_id(ev.publisher_platform_id());
        for (int c : er.categories()) n->add_categories(static_cast<fedhub::v1::DataCategory>(c));
        n->set_consent_id(er.consent_id());
        *n->mutable_revoked_at() = TimeUtil::MicrosecondsToTimestamp(er.revoked_at_micros());
      });
      fedhub::v1::AuditRecord r = audit::BaseRecord(Caller{view_.platform, fedhub::v1::ROLE_PLATFORM, {}},
                                                    "stream.erasure_notice");
      r.set_subject((*names)->audit);
      r.set_consent_id(er.consent_id());
      r.set_counterparty_id(ev.publisher_platform_id());
      for (int c : er.categories()) r.add_categories(static_cast<fedhub::v1::DataCategory>(c));
      r.set_outcome(fedhub::v1::AUDIT_OUTCOME_ALLOWED);
      r.set_detail(Cat("notice ", ev.event_id(), " at offset ", le->offset));
      b.audits->push_back(audit::EncodeRecord(r));
      ++b.personal_events;
    } else if (ev.has_catalogue()) {
      if (!view_.catalogue) continue;
      const auto& cc = ev.catalogue();
      if (!catalogue_->Shares(ev.publisher_platform_id(), view_.platform, cc.item().kind())) continue;
      if (!cc.removed() && !MatchesFilter(view_.filter, cc.item())) continue;
      if (cc.removed() && !view_.filter.kinds().empty()) {
        bool kind_ok = false;
        for (int k : view_.filter.kinds()) kind_ok |= k == cc.item().kind();
        if (!kind_ok) continue;
      }
      add_encoded(*le, [&](fedhub::v1::DeliveredEvent& d) {
        auto* u = d.mutable_catalogue();
        *u->mutable_item() = cc.item();
        u->set_removed(cc.removed());
      });
    }
  }
  if (auto r = audit.Encode(view_.platform, cursor)) b.audits->push_back(std::move(*r));
  return b;
}

absl::StatusOr<std::vector<fedhub::v1::AuditRecord>> Deliverer::Recheck(Built& b) const {
  b.revocations = index_->revocations();
  b.expires_at_micros = INT64_MAX;
  const int64_t now = storage::NowMicros();
  std::set<std::pair<std::string, std::string>> withdrawn;  // (audit subject, consent)
  std::vector<consent::ConsentIndex::Grant> now_allowed;
  size_t kept = 0;
  for (size_t i = 0; i < b.items.size(); ++i) {
    Built::Item& item = b.items[i];
    if (item.source != nullptr) {
      const auto& ev = item.source->event;
      uint32_t had = 0;
      for (uint32_t g = 0; g < item.grant_count; ++g) had |= b.grants[item.first_grant + g].categories;
      now_allowed.clear();
      index_->Allowed(ev.subject(), ev.publisher_platform_id(), view_.platform, had, fedhub::v1::PURPOSE_SYNC,
                      now, &now_allowed);
      uint32_t left = 0;
      for (uint32_t g = 0; g < item.grant_count; ++g) {
        auto& grant = b.grants[item.first_grant + g];
        // Only what the same consent still allows stays: nothing is added or re-attributed.
        uint32_t still = 0;
        for (const auto& n : now_allowed) {
          if (*n.consent_id == *grant.consent_id) {
            still = n.categories & grant.categories;
            b.expires_at_micros = std::min(b.expires_at_micros, n.expires_at_micros);
          }
        }
        if (still != grant.categories) withdrawn.emplace(item.names->audit, *grant.consent_id);
        grant.categories = still;
        left |= still;
      }
      if (left == 0) {  // dropped, and kept alive for the accesses that point into it
        b.withdrawn.push_back(std::move(item));
        continue;
      }
    }
    if (kept != i) b.items[kept] = std::move(item);
    ++kept;
  }
  b.items.resize(kept);

  std::vector<fedhub::v1::AuditRecord> out;
  if (withdrawn.empty()) return out;
  // The delivery entry's accesses whose consent no longer allows them, as refused.
  fedhub::v1::AuditRecord w = DeliveryHead(view_.platform, b.cursor, b.accesses);
  for (const auto& a : b.accesses) {
    if (withdrawn.count({a.names->audit, *a.consent_id}) == 0) continue;
    fedhub::v1::AuditAccess* x = w.add_accesses();
    x->set_subject(a.names->audit);
    x->set_consent_id(*a.consent_id);
    x->set_source_platform_id(*a.source);
    for (uint32_t bits = a.categories; bits != 0; bits &= bits - 1) {
      x->add_categories(static_cast<fedhub::v1::DataCategory>(__builtin_ctz(bits)));
    }
    x->set_first_offset(a.first_offset);
    x->set_events(a.events);
  }
  if (w.accesses_size() == 0) return out;
  w.set_outcome(fedhub::v1::AUDIT_OUTCOME_DENIED);
  w.set_status_code(7);  // PERMISSION_DENIED
  w.set_detail(Cat("withdrawn before sending (consent revoked or expired): ", w.detail()));
  out.push_back(std::move(w));
  return out;
}

}  // namespace fedhub::stream
