#include "stream/streams.h"

#include <google/protobuf/util/time_util.h>

#include <set>

#include "absl/container/flat_hash_map.h"
#include "core/crypto.h"
#include "core/strings.h"
#include "identity/ids.h"
#include "storage/keys.h"

namespace fedhub::stream {
namespace {

using fedhub::storage::v1::EventIdRecord;
using fedhub::storage::v1::StoredEvent;
using fedhub::v1::PublishResponse;
using google::protobuf::util::TimeUtil;
using storage::Cf;

constexpr std::string_view kNoticePrefix = "erasure-";

PublishResponse Refusal(uint64_t batch_id, const absl::Status& status,
                        std::vector<fedhub::v1::EventError> errors) {
  PublishResponse r;
  r.set_batch_id(batch_id);
  auto* refused = r.mutable_refused();
  refused->set_code(static_cast<int>(status.code()));
  refused->set_message(std::string(status.message()));
  for (auto& e : errors) *refused->add_errors() = std::move(e);
  return r;
}

// The batch's status: the first bad event's code, with a message that names it and says
// how many others are bad.
absl::Status BatchStatus(const std::vector<fedhub::v1::EventError>& errors) {
  const auto& e = errors.front();
  std::string more = errors.size() > 1 ? Cat(" (and ", errors.size() - 1, " more bad events)") : "";
  return absl::Status(static_cast<absl::StatusCode>(e.code()),
                      Cat("events[", e.index(), "] (event_id \"", e.event_id(), "\"): ", e.message(), more,
                          "; nothing of the batch was stored"));
}

// What the audit log keeps of a refused batch: codes and positions only. The platform's
// answer quotes its event ids and the values that were wrong, which may be or embed a local
// user id or a field value; the audit log names people only by their audit pseudonym.
absl::Status AuditedBatchStatus(uint64_t batch_id, const std::vector<fedhub::v1::EventError>& errors) {
  const auto& e = errors.front();
  const auto code = static_cast<absl::StatusCode>(e.code());
  return absl::Status(code, Cat("batch ", batch_id, ": events[", e.index(), "] refused with ",
                                absl::StatusCodeToString(code),
                                errors.size() > 1 ? Cat(" (and ", errors.size() - 1, " more bad events)") : "",
                                "; nothing of the batch was stored"));
}

fedhub::v1::EventError EventErrorOf(uint32_t index, const std::string& event_id, const absl::Status& s) {
  fedhub::v1::EventError e;
  e.set_index(index);
  e.set_event_id(event_id);
  e.set_code(static_cast<int>(s.code()));
  e.set_message(std::string(s.message()));
  return e;
}

}  // namespace

std::string ErasureNoticeId(const std::string& consent_id) { return Cat(kNoticePrefix, consent_id); }

std::string ContentHash(const fedhub::v1::PublishEvent& event, std::string_view profile_bytes) {
  if (!event.has_profile()) return crypto::ToString(crypto::Sha256(DeterministicBytes(event)));
  // PublishEvent: event_id (1), then the profile (2).
  std::string head;
  WireWriter w(&head);
  w.BytesField(1, event.event_id());
  w.Header(2, profile_bytes.size());
  return crypto::ToString(crypto::Sha256Parts({head, profile_bytes}));
}

Streams::Streams(storage::Store* store, audit::AuditLog* audit, linking::Linker* linker,
                 consent::ConsentManager* consents, const Pseudonymizer* pseudonyms, EventLog* log,
                 Catalogue* catalogue, StreamOptions options)
    : store_(store), audit_(audit), linker_(linker), consents_(consents), pseudonyms_(pseudonyms),
      log_(log), catalogue_(catalogue), options_(options) {
  consents_->set_revoke_hook([this](storage::Txn& txn, const fedhub::storage::v1::ConsentRecord& rec) {
    return AppendErasureNotice(txn, rec);
  });
}

absl::Status Streams::AppendErasureNotice(storage::Txn& txn,
                                          const fedhub::storage::v1::ConsentRecord& rec) {
  StoredEvent ev;
  ev.set_publisher_platform_id(rec.source_platform_id());
  ev.set_event_id(ErasureNoticeId(rec.consent_id()));
  ev.set_published_at_micros(txn.now_micros());
  ev.set_subject(rec.subject());
  auto* er = ev.mutable_erasure();
  er->set_consent_id(rec.consent_id());
  er->set_target_platform_id(rec.target_platform_id());
  for (int c : rec.categories()) er->add_categories(c);
  er->set_revoked_at_micros(rec.revoked_at_micros());
  std::vector<StoredEvent> events;
  events.push_back(std::move(ev));
  return log_->Append(txn, std::move(events)).status();
}

void Streams::PublishAsync(const Caller& caller, fedhub::v1::PublishRequest& request,
                           std::function<void(PublishResponse)> done) {
  const uint64_t batch_id = request.batch_id();
  const int n = request.events_size();
  if (n == 0 || static_cast<size_t>(n) > options_.max_batch_events) {
    absl::Status s = absl::InvalidArgumentError(
        Cat("a batch carries 1 to ", options_.max_batch_events, " events; this one has ", n,
            n == 0 ? "" : "; split it"));
    RefuseAsync(caller, Refusal(batch_id, s, {}), std::move(done));
    return;
  }

  // Everything that needs no stored state is checked here, on the caller's thread.
  struct State {
    std::vector<EventLog::Prepared> events;
    std::vector<std::string> hashes;
    std::vector<fedhub::v1::EventError> errors;
    std::vector<uint64_t> offsets;
    uint32_t duplicates = 0;
    std::set<int> categories;
  };
  auto st = std::make_shared<State>();
  st->events.resize(n);
  st->hashes.resize(n);
  st->offsets.assign(n, 0);
  absl::flat_hash_map<std::string_view, int> seen;  // event id -> index; the ids live in `request`
  seen.reserve(n);
  const int64_t now = storage::NowMicros();
  for (int i = 0; i < n; ++i) {
    fedhub::v1::PublishEvent& pe = *request.mutable_events(i);
    std::string profile_bytes;  // serialised once, by the validation: hashed and stored from
    absl::Status s = ValidateEvent(pe, options_.limits, &profile_bytes);
    if (s.ok()) {
      auto [it, fresh] = seen.emplace(pe.event_id(), i);
      if (!fresh) {
        s = absl::InvalidArgumentError(Cat("event_id \"", pe.event_id(), "\" is also used by events[",
                                           it->second, "] of this batch; every event needs its own id"));
      }
    }
    StoredEvent ev;
    if (s.ok() && pe.has_profile()) {
      auto subject = linker_->Resolve(caller.id, pe.profile().user().local_user_id());
      if (!subject.ok()) {
        s = subject.status();
      } else if (!*subject) {
        s = absl::NotFoundError(Cat("profile.user.local_user_id \"", pe.profile().user().local_user_id(),
                                    "\" names a person platform '", caller.id,
                                    "' never named to the hub; record a consent or create a link "
                                    "ticket for them first"));
      } else {
        ev.set_subject(**subject);
      }
    }
    if (!s.ok()) {
      st->errors.push_back(EventErrorOf(i, pe.event_id(), s));
      continue;
    }
    st->hashes[i] = ContentHash(pe, profile_bytes);
    ev.set_publisher_platform_id(caller.id);
    ev.set_event_id(pe.event_id());
    ev.set_published_at_micros(now);
    EventLog::Prepared& prepared = st->events[i];
    if (pe.has_profile()) {
      const fedhub::v1::ProfileChange& change = pe.profile();
      for (int c : change.categories()) st->categories.insert(c);
      // Stored from the validated bytes without the publisher's local id (not kept). The
      // log event keeps the change without its fields: MakeLogEvent splits them, as bytes,
      // by category.
      auto stored = StoredProfileEventBytes(ev.SerializeAsString(), profile_bytes);
      if (!stored.ok()) {
        st->errors.push_back(EventErrorOf(i, pe.event_id(), stored.status()));
        continue;
      }
      prepared.encoded = std::move(*stored);
      fedhub::v1::ProfileChange* kept = ev.mutable_profile();
      *kept->mutable_categories() = change.categories();
      kept->set_version(change.version());
    } else {
      *ev.mutable_catalogue() = std::move(*pe.mutable_catalogue());
      ev.SerializeToString(&prepared.encoded);
    }
    auto le = MakeLogEvent(0, std::move(ev), prepared.encoded);
    if (!le.ok()) {
      st->errors.push_back(EventErrorOf(i, pe.event_id(), le.status()));
      continue;
    }
    prepared.event = std::move(*le);
  }
  if (!st->errors.empty()) {
    absl::Status s = BatchStatus(st->errors);
    RefuseAsync(caller, Refusal(batch_id, s, std::move(st->errors)), std::move(done));
    return;
  }

  audit_->CommitAuditedAsync(
      caller, "stream.publish",
      [this, st, caller_id = caller.id, batch_id](storage::Txn& txn, fedhub::v1::AuditRecord& record) -> absl::Status {
        std::vector<int> fresh_index;
        std::vector<std::string> keys;
        keys.reserve(st->events.size());
        for (const auto& p : st->events) keys.push_back(storage::EventIdKey(caller_id, p.event->event.event_id()));
        auto found = txn.GetMany(Cf::kEventIds, keys);
        if (!found.ok()) return found.status();
        for (size_t i = 0; i < st->events.size(); ++i) {
          const StoredEvent& ev = st->events[i].event->event;
          if (const auto& existing = (*found)[i]) {
            EventIdRecord rec;
            if (!rec.ParseFromString(*existing)) return absl::DataLossError("event id record does not parse");
            if (rec.content_hash() != st->hashes[i]) {
              st->errors.push_back(EventErrorOf(
                  i, ev.event_id(),
                  absl::AlreadyExistsError(Cat("event_id \"", ev.event_id(), "\" was already used for a different "
                                               "event (stored at offset ", rec.offset(),
                                               "); re-send it unchanged or give the new event a new id"))));
              continue;
            }
            st->offsets[i] = rec.offset();
            ++st->duplicates;
            continue;
          }
          fresh_index.push_back(static_cast<int>(i));
        }
        if (!st->errors.empty()) return AuditedBatchStatus(batch_id, st->errors);
        // Only now, with the batch accepted, are the events moved out of the shared state.
        std::vector<EventLog::Prepared> fresh;
        fresh.reserve(fresh_index.size());
        std::vector<std::shared_ptr<const LogEvent>> kept;  // the events, after the move
        kept.reserve(fresh_index.size());
        for (int i : fresh_index) {
          kept.push_back(st->events[i].event);
          fresh.push_back(std::move(st->events[i]));
        }
        uint64_t first = 0;
        const size_t stored = fresh.size();
        if (!fresh.empty()) {
          auto appended = log_->Append(txn, std::move(fresh));
          if (!appended.ok()) return appended.status();
          first = *appended;
        }
        for (size_t k = 0; k < stored; ++k) {
          uint64_t offset = first + k;
          int i = fresh_index[k];
          const StoredEvent& ev = kept[k]->event;
          st->offsets[i] = offset;
          EventIdRecord rec;
          rec.set_offset(offset);
          rec.set_content_hash(st->hashes[i]);
          txn.Put(Cf::kEventIds, keys[i], rec.SerializeAsString());
          if (ev.has_catalogue()) catalogue_->Apply(txn, caller_id, ev.catalogue(), offset);
        }
        for (int c : st->categories) record.add_categories(static_cast<fedhub::v1::DataCategory>(c));
        record.set_detail(stored == 0
                              ? Cat("batch ", batch_id, ": ", st->events.size(), " events, all re-sent")
                              : Cat("batch ", batch_id, ": ", st->events.size(), " events (", st->duplicates,
                                    " re-sent) stored at offsets ", first, "-", first + stored - 1));
        return absl::OkStatus();
      },
      [st, batch_id, done = std::move(done)](const absl::Status& s) {
        if (!s.ok()) {
          // The platform is told exactly what was wrong; the audit entry kept only codes.
          done(Refusal(batch_id, st->errors.empty() ? s : BatchStatus(st->errors), std::move(st->errors)));
          return;
        }
        PublishResponse r;
        r.set_batch_id(batch_id);
        auto* a = r.mutable_accepted();
        for (uint64_t o : st->offsets) a->add_offsets(o);
        a->set_duplicates(st->duplicates);
        done(std::move(r));
      });
}

// The refusal is audited and answered in commit order, behind batches queued before it,
// so a stream's answers keep the order of its batches.
void Streams::RefuseAsync(const Caller& caller, PublishResponse refusal,
                          std::function<void(PublishResponse)> done) {
  const auto& refused = refusal.refused();
  absl::Status s = refused.errors().empty()
                       ? absl::Status(static_cast<absl::StatusCode>(refused.code()), refused.message())
                       : AuditedBatchStatus(refusal.batch_id(), {refused.errors().begin(), refused.errors().end()});
  audit_->RecordRefusalAsync(caller, "stream.publish", s,
                             [refusal = std::move(refusal), done = std::move(done)](const absl::Status&) mutable {
                               done(std::move(refusal));
                             });
}

absl::StatusOr<fedhub::v1::AcknowledgeErasureResponse> Streams::AcknowledgeErasure(
    const Caller& caller, const fedhub::v1::AcknowledgeErasureRequest& request) {
  const std::string& notice = request.notice_id();
  fedhub::v1::AcknowledgeErasureResponse resp;
  absl::Status s = audit_->CommitAudited(
      caller, "stream.erasure_ack", [&](storage::Txn& txn, fedhub::v1::AuditRecord& record) -> absl::Status {
        std::string_view id(notice);
        if (id.substr(0, kNoticePrefix.size()) != kNoticePrefix ||
            !ids::LooksLikeConsentId(id.substr(kNoticePrefix.size()))) {
          return absl::InvalidArgumentError(Cat("notice_id \"", notice.substr(0, 80),
                                                "\" is malformed; use the notice_id of an ErasureNotice "
                                                "(\"erasure-\" followed by a consent id)"));
        }
        std::string consent_id(id.substr(kNoticePrefix.size()));
        record.set_consent_id(consent_id);
        absl::Status not_found = absl::NotFoundError(
            Cat("no erasure notice \"", notice, "\" is addressed to platform '", caller.id, "'"));
        auto raw = txn.Get(Cf::kConsents, consent_id);
        if (!raw.ok()) return raw.status();
        if (!*raw) return not_found;
        fedhub::storage::v1::ConsentRecord rec;
        if (!rec.ParseFromString(**raw)) return absl::DataLossError("consent record does not parse");
        bool addressed = rec.target_platform_id().empty() ? caller.id != rec.source_platform_id()
                                                          : caller.id == rec.target_platform_id();
        if (rec.revoked_at_micros() == 0 || !addressed) return not_found;
        record.set_subject(pseudonyms_->Audit(rec.subject()));
        record.set_counterparty_id(rec.source_platform_id());
        for (int c : rec.categories()) record.add_categories(static_cast<fedhub::v1::DataCategory>(c));
        std::string key = storage::ErasureAckKey(notice, caller.id);
        auto ack = txn.Get(Cf::kErasures, key);
        if (!ack.ok()) return ack.status();
        fedhub::storage::v1::ErasureAckRecord ack_rec;
        if (*ack) {
          if (!ack_rec.ParseFromString(**ack)) return absl::DataLossError("erasure record does not parse");
          resp.set_already_acknowledged(true);
          record.set_detail(Cat("notice ", notice, " acknowledged again"));
        } else {
          ack_rec.set_acknowledged_at_micros(txn.now_micros());
          txn.Put(Cf::kErasures, key, ack_rec.SerializeAsString());
          record.set_detail(Cat("notice ", notice, " acknowledged: data erased"));
        }
        *resp.mutable_acknowledged_at() = TimeUtil::MicrosecondsToTimestamp(ack_rec.acknowledged_at_micros());
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return resp;
}

fedhub::v1::GetStreamInfoResponse Streams::Info() const {
  LogExtent e = log_->extent();
  fedhub::v1::GetStreamInfoResponse r;
  r.set_oldest_cursor(e.oldest_cursor());
  r.set_head_cursor(e.head);
  r.set_retained_events(e.events());
  r.set_retained_bytes(e.bytes);
  return r;
}

absl::StatusOr<uint64_t> Streams::StartCursor(const fedhub::v1::SubscribeRequest& request,
                                              std::unique_ptr<storage::Snapshot>* snapshot) const {
  switch (request.start_case()) {
    case fedhub::v1::SubscribeRequest::kFromNow:
      return log_->visible_head();
    case fedhub::v1::SubscribeRequest::kCatalogueSnapshot: {
      // The catalogue state and the log extent in one snapshot: the items are exactly
      // the catalogue as of `head`, and the live changes continue after it.
      *snapshot = store_->GetSnapshot();
      auto extent = EventLog::ExtentAt(**snapshot);
      if (!extent.ok()) return extent.status();
      return extent->head;
    }
    case fedhub::v1::SubscribeRequest::kAfterCursor:
    case fedhub::v1::SubscribeRequest::START_NOT_SET: {
      uint64_t cursor = request.after_cursor();
      if (cursor == 0) return log_->extent().oldest_cursor();
      if (absl::Status s = log_->CheckCursor(cursor); !s.ok()) return s;
      return cursor;
    }
  }
  return absl::InvalidArgumentError("start is not a known choice");
}

}  // namespace fedhub::stream
