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
  r->ScheduleLocked();
  return r;
}

SubscribeReactor::SubscribeReactor(Hub& hub, StreamSet* streams, stream::WorkPool* pool, Caller caller,
                                   stream::SubscriberView view, size_t max_events, uint64_t cursor,
                                   std::unique_ptr<storage::Snapshot> snapshot)
    : hub_(hub), streams_(streams), pool_(pool), caller_(std::move(caller)), max_events_(max_events),
      deliverer_(&hub.consents().index(), &hub.linker(), &hub.pseudonyms(), &hub.catalogue(), std::move(view)),
      snapshot_(std::move(snapshot)), snapshot_cursor_(cursor), sent_cursor_(cursor) {}

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
    destroy = !busy_;
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

void SubscribeReactor::Wake() {
  std::lock_guard lock(mu_);
  ScheduleLocked();
}

void SubscribeReactor::ScheduleLocked() {
  if (finished_ || tail_ == nullptr) return;
  if (busy_) {
    dirty_ = true;
    return;
  }
  busy_ = true;
  pool_->Submit([this] { Pump(); });
}

bool SubscribeReactor::IdleLocked() {
  busy_ = false;
  dirty_ = false;
  return done_;
}

void SubscribeReactor::FinishLocked(const grpc::Status& status) {
  if (finished_) return;
  finished_ = true;
  Finish(status);
}

void SubscribeReactor::Fail(const absl::Status& status) {
  bool destroy;
  {
    std::lock_guard lock(mu_);
    FinishLocked(ToGrpc(status));
    destroy = IdleLocked();
  }
  if (destroy) Destroy();
}

void SubscribeReactor::Pump() {
  while (true) {
    bool stop = false, destroy = false;
    {
      std::lock_guard lock(mu_);
      if (finished_) {
        stop = true;
        destroy = IdleLocked();
      }
    }
    if (stop) {
      if (destroy) Destroy();
      return;
    }
    // A platform suspended since the stream opened receives nothing more.
    if (auto still = hub_.registry().Authenticate(caller_.role, caller_.id); !still.ok()) {
      Fail(still.status());
      return;
    }
    auto next = NextMessage();
    if (!next.ok()) {
      Fail(next.status());
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
        destroy = IdleLocked();
      }
      if (destroy) Destroy();
      return;
    }
    auto built = std::make_shared<stream::Built>(std::move(**next));
    if (built->audits->empty()) {
      Send(std::move(*built));
      return;
    }
    // Audited before it is sent: the entries are durable when the callback runs, on the
    // committing thread, which hands the rest (serialising, sending) back to the pool.
    hub_.audit().AppendAllAsync(built->audits, [this, built](const absl::Status& s) mutable {
      if (!s.ok()) {
        Fail(s);
        return;
      }
      pool_->Submit([this, built = std::move(built)] { Send(std::move(*built)); });
    });
    return;
  }
}

absl::StatusOr<std::optional<stream::Built>> SubscribeReactor::NextMessage() {
  if (snapshot_) return SnapshotPage();
  for (int round = 0;; ++round) {
    auto events = tail_->Next(max_events_);
    if (!events.ok()) return events.status();
    uint64_t cursor = tail_->cursor();
    if (events->empty()) {
      if (cursor <= sent_cursor_) return std::nullopt;
      stream::Built progress;  // caught up: tell the subscriber how far it has read
      progress.message->set_cursor(cursor);
      return progress;
    }
    auto built = deliverer_.Build(std::move(*events), cursor);
    if (!built.ok()) return built.status();
    if (built->message->events_size() > 0 || round + 1 >= kQuietRounds) return std::move(*built);
  }
}

absl::StatusOr<stream::Built> SubscribeReactor::SnapshotPage() {
  auto page = hub_.catalogue().ScanShared(*snapshot_, caller_.id, deliverer_.view().filter, snapshot_key_,
                                          max_events_);
  if (!page.ok()) return page.status();
  stream::Built b;
  b.message->set_snapshot(true);
  b.message->set_cursor(snapshot_cursor_);
  for (auto& item : page->items) {
    auto* d = b.message->add_events();
    d->set_offset(item.offset());
    d->set_publisher_platform_id(item.publisher_platform_id());
    *d->mutable_catalogue()->mutable_item() = std::move(*item.mutable_item());
  }
  if (page->next_key.empty()) {
    b.message->set_snapshot_complete(true);
    snapshot_.reset();
  } else {
    snapshot_key_ = std::move(page->next_key);
  }
  return b;
}

void SubscribeReactor::Send(stream::Built built) {
  auto gate = hub_.consents().index().DeliveryGuard();
  if (built.personal_events > 0 && deliverer_.Stale(built, storage::NowMicros())) {
    // A revocation or an expiry since the check: check again, narrowing only, and record
    // what is withdrawn.
    auto withdrawn = deliverer_.Recheck(built);
    if (!withdrawn.ok()) {
      gate.unlock();
      Fail(withdrawn.status());
      return;
    }
    if (!withdrawn->empty()) {
      auto records = std::make_shared<const std::vector<fedhub::v1::AuditRecord>>(std::move(*withdrawn));
      hub_.audit().AppendAllAsync(records, [this](const absl::Status& s) {
        if (!s.ok()) Fail(s);
      });
    }
  }
  bool destroy = false;
  {
    std::lock_guard lock(mu_);
    if (finished_) {
      destroy = IdleLocked();
    } else {
      in_flight_arena_ = std::move(built.arena);
      in_flight_ = built.message;
      sent_cursor_ = in_flight_->cursor();
      hub_.metrics().EventsDelivered(in_flight_->events_size());
      StartWrite(in_flight_);
    }
  }
  gate.unlock();
  if (destroy) Destroy();
}

void SubscribeReactor::OnWriteDone(bool ok) {
  bool destroy = false;
  {
    std::lock_guard lock(mu_);
    in_flight_ = nullptr;
    in_flight_arena_.reset();
    if (!ok) FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream write failed"));
    if (finished_) {
      destroy = IdleLocked();
    } else {
      dirty_ = false;
      pool_->Submit([this] { Pump(); });  // the chain goes on
    }
  }
  if (destroy) Destroy();
}

}  // namespace fedhub::server
