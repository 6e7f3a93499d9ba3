#include "stream/delivery.h"

#include <google/protobuf/util/time_util.h>

#include <optional>
#include <set>
#include <unordered_map>

#include "audit/audit_log.h"
#include "core/categories.h"
#include "core/strings.h"
#include "stream/validate.h"
#include "stream/wire.h"

namespace fedhub::stream {
namespace {

using google::protobuf::util::TimeUtil;

// People whose names a subscriber's stream remembers at most.
constexpr size_t kMaxCachedNames = 100'000;

// The audit entry of one message: every person and consent it carries data of.
class DeliveryAudit {
 public:
  void Add(const PersonNames* names, const std::shared_ptr<const std::string>& consent_id,
           const std::string& source, uint32_t categories, uint64_t offset) {
    auto [it, fresh] = index_.try_emplace({names, consent_id.get()}, accesses_.size());
    if (fresh) {
      fedhub::v1::AuditAccess a;
      a.set_subject(names->audit);
      a.set_consent_id(*consent_id);
      a.set_source_platform_id(source);
      a.set_first_offset(offset);
      accesses_.push_back(std::move(a));
      state_.push_back({0, 0});
    }
    fedhub::v1::AuditAccess& a = accesses_[it->second];
    State& st = state_[it->second];
    if (st.last_offset != offset) {
      st.last_offset = offset;
      a.set_events(a.events() + 1);
    }
    st.categories |= categories;
  }

  // Nullopt if the message carries no personal data.
  std::optional<fedhub::v1::AuditRecord> Take(const std::string& subscriber, uint64_t cursor) {
    if (accesses_.empty()) return std::nullopt;
    fedhub::v1::AuditRecord r =
        audit::BaseRecord(Caller{subscriber, fedhub::v1::ROLE_PLATFORM, {}}, "stream.deliver");
    uint32_t all = 0;
    for (size_t i = 0; i < accesses_.size(); ++i) {
      AddCategories(state_[i].categories, accesses_[i].mutable_categories());
      all |= state_[i].categories;
      *r.add_accesses() = std::move(accesses_[i]);
    }
    AddCategories(all, r.mutable_categories());
    r.add_purposes(fedhub::v1::PURPOSE_SYNC);
    r.set_outcome(fedhub::v1::AUDIT_OUTCOME_ALLOWED);
    r.set_detail(Cat("message up to cursor ", cursor, ": ", r.accesses_size(), " people"));
    return r;
  }

 private:
  struct State {
    uint64_t last_offset;
    uint32_t categories;
  };
  struct KeyHash {
    size_t operator()(const std::pair<const void*, const void*>& k) const {
      return std::hash<const void*>()(k.first) * 31 + std::hash<const void*>()(k.second);
    }
  };
  static void AddCategories(uint32_t bits, google::protobuf::RepeatedField<int>* out) {
    for (; bits != 0; bits &= bits - 1) out->Add(__builtin_ctz(bits));
  }
  // (names, consent id) -> index; both pointers stay valid while the message is built.
  std::unordered_map<std::pair<const void*, const void*>, size_t, KeyHash> index_;
  std::vector<fedhub::v1::AuditAccess> accesses_;
  std::vector<State> state_;
};

uint32_t CategoryBits(const google::protobuf::RepeatedField<int>& categories) {
  uint32_t bits = 0;
  for (int c : categories) {
    if (c > 0 && c < kCategorySlots) bits |= 1u << c;
  }
  return bits;
}

void WriteTimestamp(WireWriter& w, int field, int64_t micros) {
  auto ts = TimeUtil::MicrosecondsToTimestamp(micros);
  std::string t;
  WireWriter tw(&t);
  tw.VarintField(1, static_cast<uint64_t>(ts.seconds()));
  tw.VarintField(2, static_cast<uint64_t>(static_cast<int64_t>(ts.nanos())));
  w.LengthDelimited(field, t);
}

}  // namespace

std::string Built::Encode() const {
  std::string out, event, update;
  WireWriter w(&out);
  for (const Item& item : items) {
    if (item.source == nullptr) {
      w.LengthDelimited(1, item.encoded);
      continue;
    }
    const LogEvent& le = *item.source;
    const auto& ev = le.event;
    // ProfileUpdate
    update.clear();
    WireWriter u(&update);
    if (!item.names->local_id.empty()) {
      std::string user;
      WireWriter(&user).BytesField(1, item.names->local_id);
      u.LengthDelimited(1, user);
    } else {
      u.LengthDelimited(2, item.names->pairwise);
    }
    uint32_t allowed = 0;
    for (uint32_t g = 0; g < item.grant_count; ++g) allowed |= grants[item.first_grant + g].categories;
    size_t packed = 0;
    for (uint32_t bits = allowed; bits != 0; bits &= bits - 1) packed += VarintSize(__builtin_ctz(bits));
    u.Tag(3, 2);
    u.Varint(packed);
    for (uint32_t bits = allowed; bits != 0; bits &= bits - 1) u.Varint(__builtin_ctz(bits));
    size_t fields = le.parts[0].size();
    for (uint32_t bits = allowed; bits != 0; bits &= bits - 1) fields += le.parts[__builtin_ctz(bits)].size();
    u.Tag(4, 2);
    u.Varint(fields);
    update.append(le.parts[0]);
    for (uint32_t bits = allowed; bits != 0; bits &= bits - 1) update.append(le.parts[__builtin_ctz(bits)]);
    u.VarintField(5, static_cast<uint64_t>(ev.profile().version()));
    for (uint32_t bits = allowed; bits != 0; bits &= bits - 1) {
      const uint32_t bit = bits & (~bits + 1);
      for (uint32_t g = 0; g < item.grant_count; ++g) {
        const auto& grant = grants[item.first_grant + g];
        if (grant.categories & bit) u.LengthDelimited(6, *grant.consent_id);
      }
    }
    // DeliveredEvent
    event.clear();
    WireWriter e(&event);
    e.VarintField(1, le.offset);
    e.BytesField(2, ev.event_id());
    e.BytesField(3, ev.publisher_platform_id());
    WriteTimestamp(e, 4, ev.published_at_micros());
    e.LengthDelimited(5, update);
    w.LengthDelimited(1, event);
  }
  w.VarintField(2, cursor);
  w.VarintField(3, snapshot ? 1 : 0);
  w.VarintField(4, snapshot_complete ? 1 : 0);
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
  DeliveryAudit audit;
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
        audit.Add(item.names.get(), grant.consent_id, ev.publisher_platform_id(), grant.categories, le->offset);
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
      b.audits->push_back(std::move(r));
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
  if (auto r = audit.Take(view_.platform, cursor)) b.audits->push_back(std::move(*r));
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
      if (left == 0) continue;  // dropped
    }
    if (kept != i) b.items[kept] = std::move(item);
    ++kept;
  }
  b.items.resize(kept);

  std::vector<fedhub::v1::AuditRecord> out;
  if (withdrawn.empty()) return out;
  for (const auto& r : *b.audits) {
    if (r.action() != "stream.deliver") continue;
    fedhub::v1::AuditRecord w = r;
    w.clear_accesses();
    for (const auto& a : r.accesses()) {
      if (withdrawn.count({a.subject(), a.consent_id()}) != 0) *w.add_accesses() = a;
    }
    if (w.accesses_size() == 0) continue;
    w.set_outcome(fedhub::v1::AUDIT_OUTCOME_DENIED);
    w.set_status_code(7);  // PERMISSION_DENIED
    w.set_detail(Cat("withdrawn before sending (consent revoked or expired): ", r.detail()));
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace fedhub::stream
