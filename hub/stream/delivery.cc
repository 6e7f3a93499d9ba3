#include "stream/delivery.h"

#include <google/protobuf/util/time_util.h>

#include <map>
#include <set>

#include "audit/audit_log.h"
#include "core/categories.h"
#include "core/strings.h"
#include "stream/validate.h"

namespace fedhub::stream {
namespace {

using google::protobuf::util::TimeUtil;

// People whose names a subscriber's stream remembers at most.
constexpr size_t kMaxCachedNames = 100'000;

// The audit entry of one message: every person and consent it carries data of.
class DeliveryAudit {
 public:
  void Add(const std::string& audit_subject, const std::string& consent_id, const std::string& source,
           fedhub::v1::DataCategory category, uint64_t offset) {
    auto [it, fresh] = index_.try_emplace({audit_subject, consent_id}, accesses_.size());
    if (fresh) {
      fedhub::v1::AuditAccess a;
      a.set_subject(audit_subject);
      a.set_consent_id(consent_id);
      a.set_source_platform_id(source);
      a.set_first_offset(offset);
      accesses_.push_back(std::move(a));
      last_offset_.push_back(0);
    }
    fedhub::v1::AuditAccess& a = accesses_[it->second];
    if (last_offset_[it->second] != offset) {
      last_offset_[it->second] = offset;
      a.set_events(a.events() + 1);
    }
    bool seen = false;
    for (int c : a.categories()) seen |= c == category;
    if (!seen) a.add_categories(category);
  }

  // Nullopt if the message carries no personal data.
  std::optional<fedhub::v1::AuditRecord> Take(const std::string& subscriber, uint64_t cursor) {
    if (accesses_.empty()) return std::nullopt;
    fedhub::v1::AuditRecord r =
        audit::BaseRecord(Caller{subscriber, fedhub::v1::ROLE_PLATFORM, {}}, "stream.deliver");
    std::set<fedhub::v1::DataCategory> all;
    for (auto& a : accesses_) {
      for (int c : a.categories()) all.insert(static_cast<fedhub::v1::DataCategory>(c));
      *r.add_accesses() = std::move(a);
    }
    for (auto c : all) r.add_categories(c);
    r.add_purposes(fedhub::v1::PURPOSE_SYNC);
    r.set_outcome(fedhub::v1::AUDIT_OUTCOME_ALLOWED);
    r.set_detail(Cat("message up to cursor ", cursor, ": ", r.accesses_size(), " people"));
    return r;
  }

 private:
  std::map<std::pair<std::string, std::string>, size_t> index_;
  std::vector<fedhub::v1::AuditAccess> accesses_;
  std::vector<uint64_t> last_offset_;
};

}  // namespace

Built::Built() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 64 << 10;
  options.max_block_size = 1 << 20;
  arena = std::make_unique<google::protobuf::Arena>(options);
  message = google::protobuf::Arena::CreateMessage<fedhub::v1::SubscribeResponse>(arena.get());
  audits = std::make_shared<std::vector<fedhub::v1::AuditRecord>>();
}

absl::StatusOr<const Deliverer::Names*> Deliverer::NamesOf(const std::string& subject) const {
  if (auto it = names_.find(subject); it != names_.end()) return &it->second;
  if (names_.size() >= kMaxCachedNames) names_.clear();
  Names n;
  auto local = linker_->LocalIdOf(subject, view_.platform);
  if (!local.ok()) return local.status();
  if (*local) {
    n.local_id = std::move(**local);
  } else {
    n.pairwise = pseudonyms_->Pairwise(view_.platform, subject);
  }
  n.audit = pseudonyms_->Audit(subject);
  return &names_.emplace(subject, std::move(n)).first->second;
}

absl::StatusOr<Built> Deliverer::Build(std::vector<LogEventPtr> events, uint64_t cursor) const {
  Built b;
  b.revocations = index_->revocations();
  if (uint64_t epoch = linker_->changes(); epoch != names_epoch_) {
    names_.clear();
    names_epoch_ = epoch;
  }
  b.message->set_cursor(cursor);
  const int64_t now = storage::NowMicros();
  DeliveryAudit audit;
  for (const LogEventPtr& le : events) {
    const auto& ev = le->event;
    auto add = [&]() {
      auto* d = b.message->add_events();
      d->set_offset(le->offset);
      d->set_event_id(ev.event_id());
      d->set_publisher_platform_id(ev.publisher_platform_id());
      *d->mutable_published_at() = TimeUtil::MicrosecondsToTimestamp(ev.published_at_micros());
      return d;
    };
    if (ev.has_profile()) {
      if (!view_.profile || ev.publisher_platform_id() == view_.platform) continue;
      const auto& pc = ev.profile();
      std::set<fedhub::v1::DataCategory> allowed;
      std::vector<std::pair<fedhub::v1::DataCategory, std::string>> under;
      for (int c : pc.categories()) {
        auto cat = static_cast<fedhub::v1::DataCategory>(c);
        consent::Decision d = index_->Check(ev.subject(), ev.publisher_platform_id(), view_.platform, cat,
                                            fedhub::v1::PURPOSE_SYNC, now);
        if (!d.allowed) continue;
        allowed.insert(cat);
        under.emplace_back(cat, d.consent_id);
        b.expires_at_micros = std::min(b.expires_at_micros, d.expires_at_micros);
      }
      if (allowed.empty()) continue;
      auto* d = add();
      auto* u = d->mutable_profile();
      auto names = NamesOf(ev.subject());
      if (!names.ok()) return names.status();
      if (!(*names)->local_id.empty()) {
        u->mutable_user()->set_local_user_id((*names)->local_id);
      } else {
        u->set_pairwise_pseudonym((*names)->pairwise);
      }
      *u->mutable_fields() = pc.fields();
      categories::Narrow(u->mutable_fields(), allowed);
      u->set_version(pc.version());
      const std::string& audit_subject = (*names)->audit;
      for (auto& [cat, consent_id] : under) {
        u->add_categories(cat);
        u->add_consent_ids(consent_id);
        audit.Add(audit_subject, consent_id, ev.publisher_platform_id(), cat, le->offset);
      }
      ++b.personal_events;
    } else if (ev.has_erasure()) {
      const auto& er = ev.erasure();
      if (!view_.profile || ev.publisher_platform_id() == view_.platform) continue;
      if (!er.target_platform_id().empty() && er.target_platform_id() != view_.platform) continue;
      auto* d = add();
      auto* n = d->mutable_erasure();
      n->set_notice_id(ev.event_id());
      auto names = NamesOf(ev.subject());
      if (!names.ok()) return names.status();
      if (!(*names)->local_id.empty()) {
        n->mutable_user()->set_local_user_id((*names)->local_id);
      } else {
        n->set_pairwise_pseudonym((*names)->pairwise);
      }
      n->set_source_platform_id(ev.publisher_platform_id());
      for (int c : er.categories()) n->add_categories(static_cast<fedhub::v1::DataCategory>(c));
      n->set_consent_id(er.consent_id());
      *n->mutable_revoked_at() = TimeUtil::MicrosecondsToTimestamp(er.revoked_at_micros());
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
      auto* u = add()->mutable_catalogue();
      *u->mutable_item() = cc.item();
      u->set_removed(cc.removed());
    }
  }
  if (auto r = audit.Take(view_.platform, cursor)) b.audits->push_back(std::move(*r));
  b.sources = std::move(events);
  return b;
}

absl::StatusOr<std::vector<fedhub::v1::AuditRecord>> Deliverer::Recheck(Built& b) const {
  b.revocations = index_->revocations();
  b.expires_at_micros = INT64_MAX;
  const int64_t now = storage::NowMicros();
  std::set<std::pair<std::string, std::string>> withdrawn;  // (audit subject, consent)
  auto* events = b.message->mutable_events();
  size_t src = 0;
  int kept = 0;
  for (int i = 0; i < events->size(); ++i) {
    fedhub::v1::DeliveredEvent* d = events->Mutable(i);
    if (d->has_profile()) {
      while (src < b.sources.size() && b.sources[src]->offset != d->offset()) ++src;
      if (src == b.sources.size()) return absl::InternalError("a delivered event has no source");
      const auto& ev = b.sources[src]->event;
      auto names = NamesOf(ev.subject());
      if (!names.ok()) return names.status();
      fedhub::v1::ProfileUpdate* u = d->mutable_profile();
      std::set<fedhub::v1::DataCategory> allowed;
      std::vector<std::pair<int, std::string>> still;
      for (int k = 0; k < u->categories_size(); ++k) {
        auto cat = static_cast<fedhub::v1::DataCategory>(u->categories(k));
        consent::Decision dec = index_->Check(ev.subject(), ev.publisher_platform_id(), view_.platform, cat,
                                              fedhub::v1::PURPOSE_SYNC, now);
        if (dec.allowed && dec.consent_id == u->consent_ids(k)) {
          allowed.insert(cat);
          still.emplace_back(cat, u->consent_ids(k));
          b.expires_at_micros = std::min(b.expires_at_micros, dec.expires_at_micros);
        } else {
          withdrawn.emplace((*names)->audit, u->consent_ids(k));
        }
      }
      if (allowed.empty()) continue;  // dropped
      if (static_cast<int>(still.size()) != u->categories_size()) {
        categories::Narrow(u->mutable_fields(), allowed);
        u->clear_categories();
        u->clear_consent_ids();
        for (auto& [cat, id] : still) {
          u->add_categories(static_cast<fedhub::v1::DataCategory>(cat));
          u->add_consent_ids(id);
        }
      }
    }
    if (kept != i) events->SwapElements(kept, i);
    ++kept;
  }
  while (events->size() > kept) events->RemoveLast();

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
