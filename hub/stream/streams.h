// Profile sync and catalogue exchange: publishing into the event log, erasure notices and
// their acknowledgements (DESIGN §5). Delivery is in delivery.h; the gRPC reactors that
// drive both are in hub/server/stream_service.cc.
//
// Publishing a batch is all or nothing. Every event is validated; a profile change must
// name a person the publisher has named to the hub before; an event id already stored is
// acknowledged with its first offset and not stored again (same content), or refused
// (different content). If any event is refused the whole batch is, with every bad event
// listed, and nothing is written but the audit entry of the refusal. Otherwise the events,
// their id records, the catalogue state they change and one audit entry are one WriteBatch.
//
// Thread-safety: thread-safe.
#ifndef FEDHUB_HUB_STREAM_STREAMS_H_
#define FEDHUB_HUB_STREAM_STREAMS_H_

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "audit/audit_log.h"
#include "consent/consent_manager.h"
#include "fedhub/v1/stream.pb.h"
#include "identity/caller.h"
#include "identity/pseudonyms.h"
#include "linking/linker.h"
#include "stream/catalogue.h"
#include "stream/event_log.h"
#include "stream/validate.h"

namespace fedhub::stream {

struct StreamOptions {
  // Most events in one PublishRequest.
  size_t max_batch_events = 1000;
  EventLimits limits;
};

class Streams {
 public:
  // Installs the erasure-notice hook on `consents`.
  Streams(storage::Store* store, audit::AuditLog* audit, linking::Linker* linker,
          consent::ConsentManager* consents, const Pseudonymizer* pseudonyms, EventLog* log,
          Catalogue* catalogue, StreamOptions options);

  // Stores one batch and calls `done` with its acknowledgement once it is durable or
  // refused (with the refusal's audit entry), on the store's committing thread (keep `done`
  // short). Batches passed in one order are answered in that order. `request` is read (and
  // its catalogue items moved from) during the call only: it may live on an arena the
  // caller resets when the call returns.
  void PublishAsync(const Caller& caller, fedhub::v1::PublishRequest& request,
                    std::function<void(fedhub::v1::PublishResponse)> done);

  // Records that the caller acted on an erasure notice addressed to it (audited).
  absl::StatusOr<fedhub::v1::AcknowledgeErasureResponse> AcknowledgeErasure(
      const Caller& caller, const fedhub::v1::AcknowledgeErasureRequest& request);

  fedhub::v1::GetStreamInfoResponse Info() const;

  // Checks where a subscriber asked to start and returns the cursor to open its tail at
  // (`snapshot` receives the snapshot to read the catalogue from, for catalogue_snapshot).
  absl::StatusOr<uint64_t> StartCursor(const fedhub::v1::SubscribeRequest& request,
                                       std::unique_ptr<storage::Snapshot>* snapshot) const;

  EventLog& log() { return *log_; }
  Catalogue& catalogue() { return *catalogue_; }
  const StreamOptions& options() const { return options_; }

 private:
  void RefuseAsync(const Caller& caller, fedhub::v1::PublishResponse refusal,
                   std::function<void(fedhub::v1::PublishResponse)> done);
  absl::Status AppendErasureNotice(storage::Txn& txn, const fedhub::storage::v1::ConsentRecord& rec);

  storage::Store* const store_;
  audit::AuditLog* const audit_;
  linking::Linker* const linker_;
  consent::ConsentManager* const consents_;
  const Pseudonymizer* const pseudonyms_;
  EventLog* const log_;
  Catalogue* const catalogue_;
  const StreamOptions options_;
};

// "erasure-" + consent id.
std::string ErasureNoticeId(const std::string& consent_id);

// What an event id is stored with, to tell a re-send from a different event under the same
// id: the SHA-256 of the event's deterministic serialisation (32 bytes). For a profile
// change it is computed from `profile_bytes`, the change's deterministic bytes (as
// ValidateEvent leaves them), instead of serialising the event again.
std::string ContentHash(const fedhub::v1::PublishEvent& event, std::string_view profile_bytes);

}  // namespace fedhub::stream

#endif  // FEDHUB_HUB_STREAM_STREAMS_H_
