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

// Audit entries of one message, one per (person, consent).
class DeliveryAudits {
 public:
  explicit DeliveryAudits(const std::string& subscriber) : subscriber_(subscriber) {}

  void Add(const std::string& audit_subject, const std::string& consent_id, const std::string& source,
           fedhub::v1::DataCategory category, uint64_t offset) {
    Entry& e = entries_[{audit_subject, consent_id}];
    if (e.first_offset == 0) {
      e.first_offset = offset;
      e.source = source;
    }
    e.last_offset = offset;
    e.categories.insert(category);
    ++e.events;
  }

  std::vector<fedhub::v1::AuditRecord> Take() {
    std::vector<fedhub::v1::AuditRecord> out;
    out.reserve(entries_.size());
    for (auto& [key, e] : entries_) {
      fedhub::v1::AuditRecord r = audit::BaseRecord(Caller{subscriber_, fedhub::v1::ROLE_PLATFORM, {}},
                                                    "stream.deliver");
      r.set_subject(key.first);
      r.set_consent_id(key.second);
      r.set_counterparty_id(e.source);
      for (auto c : e.categories) r.add_categories(c);
      r.add_purposes(fedhub::v1::PURPOSE_SYNC);
      r.set_outcome(fedhub::v1::AUDIT_OUTCOME_ALLOWED);
      r.set_detail(e.events == 1 ? Cat("event at offset ", e.first_offset)
                                 : Cat(e.events, " events at offsets ", e.first_offset, "-", e.last_offset));
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  struct Entry {
    std::string source;
    std::set<fedhub::v1::DataCategory> categories;
    uint64_t first_offset = 0, last_offset = 0;
    int events = 0;
  };
  const std::string& subscriber_;
  std::map<std::pair<std::string, std::string>, Entry> entries_;
};

}  // namespace

absl::Status Deliverer::Name(const std::string& subject, fedhub::v1::UserRef* user,
                             std::string* pseudonym) const {
  auto local = linker_->LocalIdOf(subject, view_.platform);
  if (!local.ok()) return local.status();
  if (*local) {
    user->set_local_user_id(**local);
  } else {
    *pseudonym = pseudonyms_->Pairwise(view_.platform, subject);
  }
  return absl::OkStatus();
}

absl::StatusOr<Built> Deliverer::Build(std::vector<LogEventPtr> events, uint64_t cursor) const {
  Built b;
  b.revocations = index_->revocations();
  b.message.set_cursor(cursor);
  const int64_t now = storage::NowMicros();
  DeliveryAudits audits(view_.platform);
  for (const LogEventPtr& le : events) {
    const auto& ev = le->event;
    auto add = [&]() {
      auto* d = b.message.add_events();
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
      std::string pseudonym;
      if (absl::Status s = Name(ev.subject(), u->mutable_user(), &pseudonym); !s.ok()) return s;
      if (!pseudonym.empty()) u->set_pairwise_pseudonym(pseudonym);
      *u->mutable_fields() = pc.fields();
      categories::Narrow(u->mutable_fields(), allowed);
      u->set_version(pc.version());
      const std::string audit_subject = pseudonyms_->Audit(ev.subject());
      for (auto& [cat, consent_id] : under) {
        u->add_categories(cat);
        u->add_consent_ids(consent_id);
        audits.Add(audit_subject, consent_id, ev.publisher_platform_id(), cat, le->offset);
      }
      ++b.personal_events;
    } else if (ev.has_erasure()) {
      const auto& er = ev.erasure();
      if (!view_.profile || ev.publisher_platform_id() == view_.platform) continue;
      if (!er.target_platform_id().empty() && er.target_platform_id() != view_.platform) continue;
      auto* d = add();
      auto* n = d->mutable_erasure();
      n->set_notice_id(ev.event_id());
      std::string pseudonym;
      if (absl::Status s = Name(ev.subject(), n->mutable_user(), &pseudonym); !s.ok()) return s;
      if (!pseudonym.empty()) n->set_pairwise_pseudonym(pseudonym);
      n->set_source_platform_id(ev.publisher_platform_id());
      for (int c : er.categories()) n->add_categories(static_cast<fedhub::v1::DataCategory>(c));
      n->set_consent_id(er.consent_id());
      *n->mutable_revoked_at() = TimeUtil::MicrosecondsToTimestamp(er.revoked_at_micros());
      fedhub::v1::AuditRecord r = audit::BaseRecord(Caller{view_.platform, fedhub::v1::ROLE_PLATFORM, {}},
                                                    "stream.erasure_notice");
      r.set_subject(pseudonyms_->Audit(ev.subject()));
      r.set_consent_id(er.consent_id());
      r.set_counterparty_id(ev.publisher_platform_id());
      for (int c : er.categories()) r.add_categories(static_cast<fedhub::v1::DataCategory>(c));
      r.set_outcome(fedhub::v1::AUDIT_OUTCOME_ALLOWED);
      r.set_detail(Cat("notice ", ev.event_id(), " at offset ", le->offset));
      b.audits.push_back(std::move(r));
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
  for (auto& r : audits.Take()) b.audits.push_back(std::move(r));
  b.sources = std::move(events);
  return b;
}

std::vector<fedhub::v1::AuditRecord> Deliverer::Withdrawn(const Built& before, const Built& after) {
  std::set<std::tuple<std::string, std::string, std::string>> kept;
  for (const auto& r : after.audits) kept.emplace(r.action(), r.subject(), r.consent_id());
  std::vector<fedhub::v1::AuditRecord> out;
  for (const auto& r : before.audits) {
    if (kept.count({r.action(), r.subject(), r.consent_id()}) != 0) continue;
    fedhub::v1::AuditRecord w = r;
    w.set_outcome(fedhub::v1::AUDIT_OUTCOME_DENIED);
    w.set_status_code(7);  // PERMISSION_DENIED
    w.set_detail(Cat("withdrawn before sending (consent revoked or expired): ", r.detail()));
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace fedhub::stream
