#include "report/consent_reports.h"

#include <set>

#include "core/strings.h"
#include "fedhub/storage/v1/records.pb.h"
#include "storage/keys.h"

namespace fedhub::report {
namespace {

using fedhub::v1::AuditRecord;
using fedhub::v1::ChainEntry;
using fedhub::v1::ReportLine;
using storage::Cf;

constexpr int kReadChunk = 1000;

int64_t Micros(const google::protobuf::Timestamp& t) { return t.seconds() * 1'000'000 + t.nanos() / 1000; }

bool Denied(const AuditRecord& r) { return r.outcome() == fedhub::v1::AUDIT_OUTCOME_DENIED; }

// The kind of line an entry makes (see ReportLine.kind).
std::string KindOf(const AuditRecord& r) {
  if (Denied(r)) return "refused";
  if (r.action() == "consent.grant") return "consent.granted";
  if (r.action() == "consent.revoke") return "consent.revoked";
  if (r.action() == "stream.erasure_notice") return "erasure.notice";
  if (r.action() == "stream.erasure_ack") return "erasure.ack";
  if (r.action() == "stream.deliver") return "access";
  return r.action();
}

// A line carrying everything of the entry, to be narrowed by the caller.
ReportLine LineOf(const ChainEntry& e, std::string kind) {
  const AuditRecord& r = e.audit();
  ReportLine l;
  l.set_audit_sequence(e.sequence());
  l.set_entry_hash(e.entry_hash());
  l.set_time_micros(Micros(r.time()));
  l.set_kind(std::move(kind));
  l.set_action(r.action());
  l.set_actor_id(r.actor_id());
  l.set_counterparty_id(r.counterparty_id());
  l.set_consent_id(r.consent_id());
  for (int c : r.categories()) l.add_categories(static_cast<fedhub::v1::DataCategory>(c));
  for (int p : r.purposes()) l.add_purposes(static_cast<fedhub::v1::Purpose>(p));
  l.set_outcome(r.outcome());
  l.set_status_code(r.status_code());
  l.set_subject(r.subject());
  l.set_detail(r.detail());
  return l;
}

// An access line for deliveries: data moves under SYNC consents on streams.
void SetAccess(ReportLine* l, const std::set<int>& categories, uint32_t events) {
  l->clear_categories();
  for (int c : categories) l->add_categories(static_cast<fedhub::v1::DataCategory>(c));
  l->clear_purposes();
  l->add_purposes(fedhub::v1::PURPOSE_SYNC);
  l->set_events(events);
}

class Emitter {
 public:
  Emitter(const LineSink& sink, int* lines) : sink_(sink), lines_(lines) {}
  absl::Status operator()(ReportLine line) {
    ++*lines_;
    if (!sink_(std::move(line))) return absl::CancelledError("the report's reader went away");
    return absl::OkStatus();
  }

 private:
  const LineSink& sink_;
  int* lines_;
};

}  // namespace

absl::StatusOr<std::string> ConsentReports::AuditSubjectOf(const std::string& platform,
                                                           const std::string& local_id) const {
  auto subject = linker_->Resolve(platform, local_id);
  if (!subject.ok()) return subject.status();
  if (!*subject) {
    return absl::NotFoundError(Cat("platform '", platform, "' has never named a person \"", local_id,
                                   "\" to the hub; check the platform id and the local user id"));
  }
  return pseudonyms_->Audit(**subject);
}

absl::StatusOr<uint64_t> ConsentReports::Scan(const PageScope& scope, const EntryFn& fn) const {
  uint64_t next = std::max<uint64_t>(scope.start, 1);
  int lines = 0;
  while (next <= scope.end) {
    const int chunk = static_cast<int>(std::min<uint64_t>(kReadChunk, scope.end - next + 1));
    auto entries = audit_->Read(next, chunk);
    if (!entries.ok()) return entries.status();
    if (entries->empty() || entries->front().sequence() != next) {
      return absl::DataLossError(Cat("audit entry ", next, " is missing; run fedhubctl audit verify"));
    }
    for (const ChainEntry& e : *entries) {
      if (e.sequence() > scope.end) return 0;
      if (lines >= scope.limit) return e.sequence();
      if (!e.has_audit()) {
        return absl::DataLossError(Cat("audit entry ", e.sequence(), " does not decode; run fedhubctl audit verify"));
      }
      if (absl::Status s = fn(e, &lines); !s.ok()) return s;
      next = e.sequence() + 1;
    }
  }
  return 0;
}

absl::StatusOr<uint64_t> ConsentReports::Person(const std::string& subject, const PageScope& scope,
                                                const LineSink& sink) const {
  const int64_t now = storage::NowMicros();
  return Scan(scope, [&](const ChainEntry& e, int* lines) -> absl::Status {
    Emitter emit(sink, lines);
    const AuditRecord& r = e.audit();
    if (r.subject() == subject) {
      ReportLine line = LineOf(e, KindOf(r));
      const bool granted = line.kind() == "consent.granted";
      if (absl::Status s = emit(line); !s.ok()) return s;
      if (granted) {
        // Expiry is not an event of its own: it is read from the consent as it stands.
        auto raw = store_->Get(Cf::kConsents, r.consent_id());
        if (!raw.ok()) return raw.status();
        fedhub::storage::v1::ConsentRecord rec;
        if (*raw && rec.ParseFromString(**raw) && rec.revoked_at_micros() == 0 && rec.expires_at_micros() <= now) {
          line.set_kind("consent.expired");
          line.set_time_micros(rec.expires_at_micros());
          line.set_detail("expired; the line's entry is the grant");
          if (absl::Status s = emit(std::move(line)); !s.ok()) return s;
        }
      }
    }
    if (r.action() != "stream.deliver") return absl::OkStatus();
    for (const auto& a : r.accesses()) {
      if (a.subject() != subject) continue;
      // A delivery withdrawn before it was sent (its consent changed) is a refusal: no data moved.
      ReportLine line = LineOf(e, Denied(r) ? "refused" : "access");
      line.set_counterparty_id(a.source_platform_id());
      line.set_consent_id(a.consent_id());
      line.set_subject(a.subject());
      SetAccess(&line, std::set<int>(a.categories().begin(), a.categories().end()), a.events());
      if (!Denied(r)) line.set_detail(Cat("from offset ", a.first_offset()));
      if (absl::Status s = emit(std::move(line)); !s.ok()) return s;
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<uint64_t> ConsentReports::Platform(const std::string& platform, int64_t from_micros,
                                                  int64_t to_micros, const PageScope& scope, const LineSink& sink,
                                                  Totals* totals) const {
  // One access line per delivered message in each direction, with totals by category.
  auto deliveries = [&](const ChainEntry& e, Emitter& emit) -> absl::Status {
    const AuditRecord& r = e.audit();
    const bool received = r.actor_id() == platform;
    std::set<int> categories;
    uint32_t events = 0, people = 0;
    for (const auto& a : r.accesses()) {
      if (!received && a.source_platform_id() != platform) continue;
      ++people;
      events += a.events();
      for (int c : a.categories()) {
        categories.insert(c);
        const std::string direction = received ? "received" : "provided";
        auto& t = (*totals)[{direction, c, fedhub::v1::PURPOSE_SYNC}];
        t.set_direction(direction);
        t.set_category(static_cast<fedhub::v1::DataCategory>(c));
        t.set_purpose(fedhub::v1::PURPOSE_SYNC);
        t.set_accesses(t.accesses() + 1);
        t.set_events(t.events() + a.events());
      }
    }
    if (people == 0) return absl::OkStatus();
    ReportLine line = LineOf(e, "access");
    if (!received) line.set_counterparty_id(platform);
    SetAccess(&line, categories, events);
    line.set_detail(Cat(received ? "received" : "provided", ": ", people, " people"));
    return emit(std::move(line));
  };
  return Scan(scope, [&](const ChainEntry& e, int* lines) -> absl::Status {
    Emitter emit(sink, lines);
    const AuditRecord& r = e.audit();
    const int64_t t = Micros(r.time());
    if ((from_micros != 0 && t < from_micros) || (to_micros != 0 && t >= to_micros)) return absl::OkStatus();
    const bool mine = r.actor_id() == platform;
    const std::string& action = r.action();
    if (Denied(r)) return mine ? emit(LineOf(e, "refused")) : absl::OkStatus();
    if (action == "stream.deliver") return deliveries(e, emit);
    if (action == "consent.grant") {
      // Given by this platform, or received: named as the target or covered as any member.
      const bool received = !mine && (r.counterparty_id() == platform || r.counterparty_id().empty());
      if (!mine && !received) return absl::OkStatus();
      ReportLine line = LineOf(e, "consent.granted");
      line.set_detail(Cat(mine ? "given" : "received", "; ", r.detail()));
      return emit(std::move(line));
    }
    if (action == "consent.revoke") {
      return mine || r.counterparty_id() == platform ? emit(LineOf(e, "consent.revoked")) : absl::OkStatus();
    }
    if (action == "stream.erasure_ack") return mine ? emit(LineOf(e, "erasure.ack")) : absl::OkStatus();
    if (action != "stream.erasure_notice" || !mine) return absl::OkStatus();
    if (absl::Status s = emit(LineOf(e, "erasure.notice")); !s.ok()) return s;
    auto ack = store_->Get(Cf::kErasures, storage::ErasureAckKey(Cat("erasure-", r.consent_id()), platform));
    if (!ack.ok()) return ack.status();
    if (*ack) return absl::OkStatus();
    ReportLine open = LineOf(e, "revocation.unacknowledged");
    open.set_detail("the erasure notice was delivered and has not been acknowledged");
    return emit(std::move(open));
  });
}

}  // namespace fedhub::report
