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
// Thread-safety: Build and Stale may be called from any thread, one at a time per Deliverer.
#ifndef FEDHUB_HUB_STREAM_DELIVERY_H_
#define FEDHUB_HUB_STREAM_DELIVERY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
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

// A message ready to be audited and sent.
struct Built {
  fedhub::v1::SubscribeResponse message;
  // Audit entries to make durable before sending (empty: nothing personal in it).
  std::vector<fedhub::v1::AuditRecord> audits;
  // The log events it was built from, for a re-check.
  std::vector<LogEventPtr> sources;
  // ConsentIndex::revocations() before the checks, and the earliest expiry of a consent
  // used: past either, the message must be checked again before it is sent.
  uint64_t revocations = 0;
  int64_t expires_at_micros = INT64_MAX;
  // Events that carried personal data, for metrics.
  size_t personal_events = 0;
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

  // Audit entries of `before` that `after` (the same events re-checked) no longer covers,
  // turned into refusals: what was withdrawn between the check and the send.
  static std::vector<fedhub::v1::AuditRecord> Withdrawn(const Built& before, const Built& after);

  const SubscriberView& view() const { return view_; }

 private:
  // The subscriber's name for the person: its local id, else its pairwise pseudonym.
  absl::Status Name(const std::string& subject, fedhub::v1::UserRef* user, std::string* pseudonym) const;

  const consent::ConsentIndex* index_;
  const linking::Linker* linker_;
  const Pseudonymizer* pseudonyms_;
  const Catalogue* catalogue_;
  const SubscriberView view_;
};

}  // namespace fedhub::stream

#endif  // FEDHUB_HUB_STREAM_DELIVERY_H_
