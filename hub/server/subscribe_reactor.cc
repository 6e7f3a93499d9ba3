#include "server/subscribe_reactor.h"

#include "server/call.h"

namespace fedhub::server {
namespace {

// Rounds of events that hold nothing for the subscriber read before a bare cursor is sent.
constexpr int kQuietRounds = 16;

}  // namespace

SubscribeReactor* SubscribeReactor::Start(Hub& hub, StreamSet* streams, stream::WorkPool* pool,
                                          Caller caller, const fedhub::v1::SubscribeRequest& request,
                                          uint64_t cursor, std::unique_ptr<storage::Snapshot> snapshot) {
  stream::SubscriberView view;
  view.platform = caller.id;
  if (!request.kinds().empty()) {
    view.profile = view.catalogue = false;
    for (int k : request.kinds()) {
      view.profile |= k == fedhub::v1::STREAM_KIND_PROFILE;
      view.catalogue |= k == fedhub::v1::STREAM_KIND_CATALOGUE;
    }
  }
  view.filter = request.catalogue_filter();
  size_t max = request.max_events_per_message() == 0 ? 500 : request.max_events_per_message();
  auto* r = new SubscribeReactor(hub, streams, pool, std::move(caller), std::move(view), max, cursor,
                                 std::move(snapshot));
  {
    std::lock_guard lock(r->mu_);
    if (!streams->Join(r)) {
      r->FinishLocked(StreamSet::ShuttingDown());
      return r;
    }
    r->joined_ = true;
  }
  hub.metrics().StreamOpened();
  auto tail = hub.event_log().OpenTail(cursor, [r] { r->Wake(); });
  std::lock_guard lock(r->mu_);
  if (!tail.ok()) {
    r->FinishLocked(ToGrpc(tail.status()));
    return r;
  }
  r->tail_ = std::move(*tail);
  r->ScheduleBuildLocked();
  return r;
}

SubscribeReactor::SubscribeReactor(Hub& hub, StreamSet* streams, stream::WorkPool* pool, Caller caller,
                                   stream::SubscriberView view, size_t max_events, uint64_t cursor,
                                   std::unique_ptr<storage::Snapshot> snapshot)
    : hub_(hub), streams_(streams), pool_(pool), caller_(std::move(caller)), max_events_(max_events),
      deliverer_(&hub.consents().index(), &hub.linker(), &hub.pseudonyms(), &hub.catalogue(), std::move(view)),
      snapshot_(std::move(snapshot)), snapshot_cursor_(cursor), built_cursor_(cursor) {}

void SubscribeReactor::End(const grpc::Status& status) {
  std::lock_guard lock(mu_);
  FinishLocked(status);
}

void SubscribeReactor::OnCancel() {
  std::lock_guard lock(mu_);
  FinishLocked(grpc::Status::CANCELLED);
}

void SubscribeReactor::OnDone() {
  bool destroy;
  {
    std::lock_guard lock(mu_);
    done_ = true;
    destroy = IdleLocked();
  }
  if (destroy) Destroy();
}

void SubscribeReactor::Destroy() {
  tail_.reset();  // no Wake after this returns
  if (joined_) {
    hub_.metrics().StreamClosed();
    streams_->Leave(this);
  }
  delete this;
}

bool SubscribeReactor::IdleLocked() const { return done_ && !building_ && !sending_ && audits_ == 0; }

void SubscribeReactor::FinishLocked(const grpc::Status& status) {
  if (finished_) return;
  finished_ = true;
  pipeline_.clear();
  Finish(status);
}

void SubscribeReactor::Wake() {
  std::lock_guard lock(mu_);
  ScheduleBuildLocked();
}

void SubscribeReactor::ScheduleBuildLocked() {
  if (finished_ || tail_ == nullptr) return;
  if (building_) {
    dirty_ = true;
    return;
  }
  if (pipeline_.size() >= kPipelineDepth) return;  // OnWriteDone schedules again
  building_ = true;
  pool_->Submit([this] { BuildLoop(); });
}

void SubscribeReactor::BuildLoop() {
  // Ends the builder; the reactor is destroyed if nothing else runs for it.
  auto stop = [this](const absl::Status* failure) {
    bool destroy;
    {
      std::lock_guard lock(mu_);
      if (failure != nullptr) FinishLocked(ToGrpc(*failure));
      building_ = false;
      destroy = IdleLocked();
    }
    if (destroy) Destroy();
  };
  while (true) {
    bool stop_now = false, destroy = false;
    {
      std::lock_guard lock(mu_);
      if (finished_ || pipeline_.size() >= kPipelineDepth) {
        building_ = false;
        stop_now = true;
        destroy = IdleLocked();
      }
    }
    if (stop_now) {
      if (destroy) Destroy();
      return;
    }
    // A platform suspended since the stream opened receives nothing more.
    if (auto still = hub_.registry().Authenticate(caller_.role, caller_.id); !still.ok()) {
      stop(&still.status());
      return;
    }
    auto next = NextMessage();
    if (!next.ok()) {
      stop(&next.status());
      return;
    }
    if (!next->has_value()) {
      bool destroy;
      {
        std::lock_guard lock(mu_);
        if (dirty_ && !finished_) {
          dirty_ = false;
          continue;
        }
        building_ = false;
        destroy = IdleLocked();
      }
      if (destroy) Destroy();
      return;
    }
    auto slot = std::make_shared<Slot>();
    slot->built = std::move(**next);
    built_cursor_ = slot->built.cursor;
    const bool audit = !slot->built.audits->empty();
    {
      std::lock_guard lock(mu_);
      if (finished_) continue;  // the top of the loop ends the builder
      pipeline_.push_back(slot);
      if (audit) {
        ++audits_;
      } else {
        slot->ready = true;
        TrySendLocked();
      }
    }
    if (audit) {
      // Audited before it is sent: the entries are durable when the callback runs, on the
      // committing thread.
      hub_.audit().AppendEncodedAsync(slot->built.audits,
                                      [this, slot](const absl::Status& s) { Audited(slot, s); });
    }
  }
}

void SubscribeReactor::Audited(const std::shared_ptr<Slot>& slot, const absl::Status& status) {
  bool destroy;
  {
    std::lock_guard lock(mu_);
    --audits_;
    if (!status.ok()) {
      FinishLocked(ToGrpc(status));
    } else {
      slot->ready = true;
      TrySendLocked();
    }
    destroy = IdleLocked();
  }
  if (destroy) Destroy();
}

void SubscribeReactor::TrySendLocked() {
  if (finished_ || sending_ || pipeline_.empty() || !pipeline_.front()->ready) return;
  sending_ = true;
  std::shared_ptr<Slot> slot = std::move(pipeline_.front());
  pipeline_.pop_front();
  pool_->Submit([this, slot = std::move(slot)]() mutable { Send(std::move(slot)); });
}

absl::StatusOr<std::optional<stream::Built>> SubscribeReactor::NextMessage() {
  if (snapshot_) return SnapshotPage();
  for (int round = 0;; ++round) {
    auto events = tail_->Next(max_events_);
    if (!events.ok()) return events.status();
    uint64_t cursor = tail_->cursor();
    if (events->empty()) {
      if (cursor <= built_cursor_) return std::nullopt;
      stream::Built progress;  // caught up: tell the subscriber how far it has read
      progress.cursor = cursor;
      return progress;
    }
    auto built = deliverer_.Build(std::move(*events), cursor);
    if (!built.ok()) return built.status();
    if (built->events() > 0 || round + 1 >= kQuietRounds) return std::move(*built);
  }
}

absl::StatusOr<stream::Built> SubscribeReactor::SnapshotPage() {
  auto page = hub_.catalogue().ScanShared(*snapshot_, caller_.id, deliverer_.view().filter, snapshot_key_,
                                          max_events_);
  if (!page.ok()) return page.status();
  stream::Built b;
  b.snapshot = true;
  b.cursor = snapshot_cursor_;
  fedhub::v1::DeliveredEvent d;
  for (auto& item : page->items) {
    d.Clear();
    d.set_offset(item.offset());
    d.set_publisher_platform_id(item.publisher_platform_id());
    *d.mutable_catalogue()->mutable_item() = std::move(*item.mutable_item());
    b.items.emplace_back().encoded = d.SerializeAsString();
  }
  if (page->next_key.empty()) {
    b.snapshot_complete = true;
    snapshot_.reset();
  } else {
    snapshot_key_ = std::move(page->next_key);
  }
  return b;
}

void SubscribeReactor::Send(std::shared_ptr<Slot> slot) {
  stream::Built& built = slot->built;
  auto bytes = std::make_unique<std::string>(built.Encode());
  absl::Status failure;
  std::shared_ptr<const std::vector<fedhub::v1::AuditRecord>> withdrawn_records;
  // From here until the message is handed to gRPC, no revocation can complete.
  auto gate = hub_.consents().index().DeliveryGuard();
  if (built.personal_events > 0 && deliverer_.Stale(built, storage::NowMicros())) {
    // A revocation or an expiry since the check: check again, narrowing only, and record
    // what is withdrawn.
    auto withdrawn = deliverer_.Recheck(built);
    if (!withdrawn.ok()) {
      failure = withdrawn.status();
    } else {
      if (!withdrawn->empty()) {
        withdrawn_records = std::make_shared<const std::vector<fedhub::v1::AuditRecord>>(std::move(*withdrawn));
      }
      *bytes = built.Encode();
    }
  }
  bool destroy = false;
  {
    std::lock_guard lock(mu_);
    if (!failure.ok()) FinishLocked(ToGrpc(failure));
    if (withdrawn_records != nullptr) ++audits_;
    if (finished_) {
      sending_ = false;
    } else {
      std::string* raw = bytes.release();
      grpc::Slice slice(raw->data(), raw->size(), [](void* p) { delete static_cast<std::string*>(p); }, raw);
      in_flight_ = grpc::ByteBuffer(&slice, 1);
      hub_.metrics().EventsDelivered(built.events());
      StartWrite(&in_flight_);
    }
    destroy = IdleLocked();
  }
  gate.unlock();
  if (withdrawn_records != nullptr) {
    hub_.audit().AppendAllAsync(withdrawn_records, [this](const absl::Status& s) {
      bool destroy;
      {
        std::lock_guard lock(mu_);
        --audits_;
        if (!s.ok()) FinishLocked(ToGrpc(s));
        destroy = IdleLocked();
      }
      if (destroy) Destroy();
    });
  }
  if (destroy) Destroy();
}

void SubscribeReactor::OnWriteDone(bool ok) {
  bool destroy;
  {
    std::lock_guard lock(mu_);
    in_flight_.Clear();
    sending_ = false;
    if (!ok) FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream write failed"));
    TrySendLocked();
    ScheduleBuildLocked();
    destroy = IdleLocked();
  }
  if (destroy) Destroy();
}

}  // namespace fedhub::server
