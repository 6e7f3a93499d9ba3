// What one subscriber may see of the event log, turned into messages (DESIGN §5).
//
// A Deliverer belongs to one Subscribe stream. For each log event it decides, at the
// moment the message is built, whether the subscriber may see it:
//   - a profile change: for each category the change carries, a consent of the person
//     from the publisher to the subscriber (or any member) for purpose SYNC, checked in the
//     consent index now; the fields of the other categories are removed; the person is
//     named by the subscriber's own local id if linked, else by its pairwise pseudonym;
//   - an erasure notice: addressed to the subscriber;
//   - a catalogue change: the publisher's current policy shares that kind with the
//     subscriber, and it matches the subscriber's filter.
// Each delivery of personal data yields an audit entry (one per person and consent per
// message) that must be durable before the message is sent.
//
// Thread-safety: Build is called by one thread at a time; Stale and Recheck may run at the
// same time as Build (they use only the Built and the consent index).
#ifndef FEDHUB_HUB_STREAM_DELIVERY_H_
#define FEDHUB_HUB_STREAM_DELIVERY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "audit/audit_log.h"
#include "consent/consent_index.h"
#include "fedhub/v1/audit.pb.h"
#include "fedhub/v1/stream.pb.h"
#include "identity/pseudonyms.h"
#include "linking/linker.h"
#include "stream/catalogue.h"
#include "stream/event_log.h"

namespace fedhub::stream {

struct SubscriberView {
  std::string platform;
  bool profile = true;
  bool catalogue = true;
  fedhub::v1::CatalogueFilter filter;
};

// How a subscriber and the audit log name a person.
struct PersonNames {
  std::string local_id;  // the subscriber's own id, if the person has an account there
  std::string pairwise;  // else the subscriber's pairwise pseudonym
  std::string audit;     // the audit pseudonym
};

// A message ready to be audited, checked again if needed, and encoded for sending. Profile
// changes are kept as what to send (the log event, how the person is named, the consents
// and the categories each allows) and encoded only at the end, from the event's
// per-category field bytes: no per-subscriber copy of the fields is made.
struct Built {
  struct Item {
    LogEventPtr source;                        // profile changes: the event
    std::shared_ptr<const PersonNames> names;  // profile changes
    uint32_t first_grant = 0;                  // profile changes: grants[first, first + count)
    uint32_t grant_count = 0;
    std::string encoded;                       // anything else: the DeliveredEvent's bytes
  };
  uint64_t cursor = 0;
  bool snapshot = false;
  bool snapshot_complete = false;
  // What the message's delivery entry lists: per person and consent, the categories and
  // the events. The pointers are into `items` (names, the event's source platform) and
  // `grants` (consent ids), which keep them alive: an item Recheck drops moves to
  // `withdrawn`.
  struct Access {
    const PersonNames* names;
    const std::string* consent_id;
    const std::string* source;
    uint32_t categories;
    uint64_t first_offset;
    uint32_t events;
  };
  std::vector<Item> items;
  std::vector<Item> withdrawn;
  std::vector<consent::ConsentIndex::Grant> grants;
  std::vector<Access> accesses;
  // Audit entries to make durable before sending, encoded (empty: nothing personal in
  // it). Shared so the commit can take them while the message waits.
  std::shared_ptr<std::vector<audit::EncodedAudit>> audits = std::make_shared<std::vector<audit::EncodedAudit>>();
  // ConsentIndex::revocations() before the checks, and the earliest expiry of a consent
  // used: past either, the message must be checked again before it is sent.
  uint64_t revocations = 0;
  int64_t expires_at_micros = INT64_MAX;
  // Events that carried personal data, for metrics.
  size_t personal_events = 0;

  size_t events() const { return items.size(); }
  // The SubscribeResponse, in wire format.
  std::string Encode() const;

 private:
  // The SubscribeResponse's fields after the events: cursor and snapshot flags.
  template <class W>
  void EmitTail(W& w) const {
    w.VarintField(2, cursor);
    w.VarintField(3, snapshot ? 1 : 0);
    w.VarintField(4, snapshot_complete ? 1 : 0);
  }
};

class Deliverer {
 public:
  Deliverer(const consent::ConsentIndex* index, const linking::Linker* linker,
            const Pseudonymizer* pseudonyms, const Catalogue* catalogue, SubscriberView view)
      : index_(index), linker_(linker), pseudonyms_(pseudonyms), catalogue_(catalogue),
        view_(std::move(view)) {}

  // The message for `events` (in log order), with `cursor` as its resume point.
  absl::StatusOr<Built> Build(std::vector<LogEventPtr> events, uint64_t cursor) const;

  // Must `built` be checked again before sending at `now_micros`?
  bool Stale(const Built& built, int64_t now_micros) const {
    return index_->revocations() != built.revocations || now_micros >= built.expires_at_micros;
  }

  // Checks `built` again (call under the consent index's delivery gate) and narrows it in
  // place: a category whose consent no longer allows it is removed, and an event left with
  // none is dropped. It never adds anything, so what is sent stays within what was audited.
  // Returns the refusals to audit for what was withdrawn.
  absl::StatusOr<std::vector<fedhub::v1::AuditRecord>> Recheck(Built& built) const;

  const SubscriberView& view() const { return view_; }

 private:
  absl::StatusOr<std::shared_ptr<const PersonNames>> NamesOf(const std::string& subject) const;

  const consent::ConsentIndex* index_;
  const linking::Linker* linker_;
  const Pseudonymizer* pseudonyms_;
  const Catalogue* catalogue_;
  const SubscriberView view_;
  // Names already looked up, valid while the linker's change count stays `names_epoch_`.
  mutable absl::flat_hash_map<std::string, std::shared_ptr<const PersonNames>> names_;
  mutable uint64_t names_epoch_ = ~uint64_t{0};
};

}  // namespace fedhub::stream

#endif  // FEDHUB_HUB_STREAM_DELIVERY_H_
