#include <google/protobuf/util/time_util.h>

#include <deque>
#include <memory>
#include <mutex>

#include "core/chain_codec.h"
#include "fedhub/v1/consent.grpc.pb.h"
#include "server/call.h"
#include "server/services.h"

namespace fedhub::server {
namespace {

using fedhub::v1::ROLE_PLATFORM;
// CheckConsent is answered from memory on gRPC's own thread (the callback API), with no
// hand-off to a handler thread; GrantConsent joins a group commit without parking a thread
// and is completed by the thread that makes the group durable; WatchConsents is a reactor.
// The rest block in group commit on the synchronous API's thread pool.
using Base = fedhub::v1::ConsentService::WithCallbackMethod_GrantConsent<
    fedhub::v1::ConsentService::WithCallbackMethod_CheckConsent<
        fedhub::v1::ConsentService::WithCallbackMethod_WatchConsents<
            fedhub::v1::ConsentService::Service>>>;

// Streams ledger changes that involve the calling platform. The ledger is the durable
// log: the reactor reads it from its cursor, so a slow reader costs the hub nothing but
// its cursor, and a reconnect with the last sequence misses nothing.
class WatchReactor final : public grpc::ServerWriteReactor<fedhub::v1::WatchConsentsResponse>,
                           public StreamSet::Stream {
 public:
  WatchReactor(Hub& hub, StreamSet* streams, Caller caller, uint64_t after)
      : hub_(hub), streams_(streams), caller_(std::move(caller)), cursor_(after) {
    if (!streams_->Join(this)) {
      std::lock_guard lock(mu_);
      FinishLocked(StreamSet::ShuttingDown());
      return;
    }
    joined_ = true;
    hub_.metrics().StreamOpened();
    listener_ = hub_.consents().AddListener([this](uint64_t) { Pump(); });
    Pump();
  }

  void End(const grpc::Status& status) override {
    std::lock_guard lock(mu_);
    FinishLocked(status);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream write failed"));
      return;
    }
    queue_.pop_front();
    PumpLocked();
  }

  void OnCancel() override {
    std::lock_guard lock(mu_);
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    if (joined_) {
      hub_.consents().RemoveListener(listener_);
      hub_.metrics().StreamClosed();
      streams_->Leave(this);
    }
    delete this;
  }

 private:
  void Pump() {
    std::lock_guard lock(mu_);
    PumpLocked();
  }

  void PumpLocked() {
    if (finished_ || writing_) return;
    while (queue_.empty()) {
      auto entries = hub_.consents().ledger().Read(cursor_ + 1, 64);
      if (!entries.ok()) {
        FinishLocked(ToGrpc(entries.status()));
        return;
      }
      if (entries->empty()) return;  // idle until the next ledger change
      // A principal suspended since the stream opened receives nothing more.
      if (auto still = hub_.registry().Authenticate(caller_.role, caller_.id); !still.ok()) {
        FinishLocked(ToGrpc(still.status()));
        return;
      }
      int64_t now = storage::NowMicros();
      for (const auto& e : *entries) {
        cursor_ = e.sequence();
        if (!e.has_ledger()) continue;
        const auto& l = e.ledger();
        if (l.source_platform_id() != caller_.id && l.target_platform_id() != caller_.id &&
            !l.target_platform_id().empty()) {
          continue;
        }
        auto rec = hub_.consents().Read(l.consent_id());
        if (!rec.ok() || !*rec) continue;
        auto view = hub_.consents().ViewFor(caller_.id, **rec, now);
        if (!view.ok() || !*view) continue;
        fedhub::v1::WatchConsentsResponse r;
        r.set_sequence(e.sequence());
        r.set_kind(l.action() == fedhub::v1::LEDGER_ACTION_GRANT ? fedhub::v1::CONSENT_CHANGE_KIND_GRANTED
                                                                 : fedhub::v1::CONSENT_CHANGE_KIND_REVOKED);
        *r.mutable_consent() = std::move(**view);
        queue_.push_back(std::move(r));
      }
    }
    writing_ = true;
    StartWrite(&queue_.front());
  }

  void FinishLocked(const grpc::Status& s) {
    if (finished_) return;
    finished_ = true;
    Finish(s);
  }

  Hub& hub_;
  StreamSet* const streams_;
  const Caller caller_;
  bool joined_ = false;  // set in the constructor only
  int listener_ = -1;
  std::mutex mu_;
  uint64_t cursor_;                                       // guarded by mu_
  std::deque<fedhub::v1::WatchConsentsResponse> queue_;  // guarded by mu_; front is in flight
  bool writing_ = false;                                  // guarded by mu_
  bool finished_ = false;                                 // guarded by mu_
};

class ConsentServiceImpl final : public Base {
 public:
  ConsentServiceImpl(Hub& hub, StreamSet* streams) : hub_(hub), streams_(streams) {}

  grpc::ServerUnaryReactor* GrantConsent(grpc::CallbackServerContext* ctx,
                                         const fedhub::v1::GrantConsentRequest* req,
                                         fedhub::v1::GrantConsentResponse* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    auto call = std::make_shared<Call>(hub_, *ctx, "GrantConsent");
    // Only a refused caller writes here (its audit entry), a rare path.
    auto caller = call->Authorize({ROLE_PLATFORM}, "consent.grant");
    if (!caller.ok()) {
      reactor->Finish(call->Finish(caller.status()));
      return reactor;
    }
    hub_.consents().GrantAsync(*caller, *req, [call, reactor, resp](absl::StatusOr<consent::ChangeResult> r) {
      if (!r.ok()) {
        reactor->Finish(call->Finish(r.status()));
        return;
      }
      *resp->mutable_consent() = std::move(r->consent);
      *resp->mutable_receipt() = std::move(r->receipt);
      reactor->Finish(call->Finish(absl::OkStatus()));
    });
    return reactor;
  }

  grpc::Status RevokeConsent(grpc::ServerContext* ctx, const fedhub::v1::RevokeConsentRequest* req,
                             fedhub::v1::RevokeConsentResponse* resp) override {
    Call call(hub_, *ctx, "RevokeConsent");
    auto caller = call.Authorize({ROLE_PLATFORM}, "consent.revoke");
    if (!caller.ok()) return call.Finish(caller.status());
    auto r = hub_.consents().Revoke(*caller, *req);
    if (!r.ok()) return call.Finish(r.status());
    *resp->mutable_consent() = std::move(r->consent);
    *resp->mutable_receipt() = std::move(r->receipt);
    return call.Finish(absl::OkStatus());
  }

  grpc::ServerUnaryReactor* CheckConsent(grpc::CallbackServerContext* ctx,
                                         const fedhub::v1::CheckConsentRequest* req,
                                         fedhub::v1::CheckConsentResponse* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(Check(*ctx, *req, resp));
    return reactor;
  }

  grpc::Status ListConsents(grpc::ServerContext* ctx, const fedhub::v1::ListConsentsRequest* req,
                            fedhub::v1::ListConsentsResponse* resp) override {
    Call call(hub_, *ctx, "ListConsents");
    auto caller = call.Authorize({ROLE_PLATFORM}, "consent.list");
    if (!caller.ok()) return call.Finish(caller.status());
    auto page = hub_.consents().List(*caller, *req);
    if (!page.ok()) return call.Finish(Refused(*caller, "consent.list", page.status()));
    for (auto& c : page->consents) *resp->add_consents() = std::move(c);
    resp->set_next_page_token(page->next_page_token);
    return call.Finish(absl::OkStatus());
  }

  grpc::ServerWriteReactor<fedhub::v1::WatchConsentsResponse>* WatchConsents(
      grpc::CallbackServerContext* ctx, const fedhub::v1::WatchConsentsRequest* req) override {
    Call call(hub_, *ctx, "WatchConsents");
    auto caller = call.Authorize({ROLE_PLATFORM}, "consent.watch");
    if (!caller.ok()) {
      auto* r = new RefusedWatch();
      r->Finish(call.Finish(caller.status()));
      return r;
    }
    uint64_t after = req->after_sequence();
    if (req->from_now()) {
      auto head = hub_.consents().ledger().Head();
      if (!head.ok()) {
        auto* r = new RefusedWatch();
        r->Finish(call.Finish(head.status()));
        return r;
      }
      after = head->sequence;
    }
    call.Finish(absl::OkStatus());
    return new WatchReactor(hub_, streams_, *caller, after);
  }

  // Only a refusal writes (its audit entry, synced), so the callback thread blocks only
  // for refused checks, which a well-behaved platform does not make.
  grpc::Status Check(const grpc::CallbackServerContext& ctx, const fedhub::v1::CheckConsentRequest& req,
                     fedhub::v1::CheckConsentResponse* resp) {
    Call call(hub_, ctx, "CheckConsent");
    auto caller = call.Authorize({ROLE_PLATFORM}, "consent.check");
    if (!caller.ok()) return call.Finish(caller.status());
    auto d = hub_.consents().Check(*caller, req);
    if (!d.ok()) return call.Finish(Refused(*caller, "consent.check", d.status()));
    hub_.metrics().ConsentCheck(d->allowed);
    resp->set_allowed(d->allowed);
    resp->set_consent_id(d->consent_id);
    resp->set_reason(d->reason);
    if (d->allowed) {
      *resp->mutable_expires_at() =
          google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(d->expires_at_micros);
    }
    return call.Finish(absl::OkStatus());
  }

 private:
  // Check and List write nothing when they succeed; a refusal is still an operation on
  // consent data that was denied, so it is audited (DESIGN §4). If the audit entry cannot
  // be made durable the caller gets that error instead.
  absl::Status Refused(const Caller& caller, std::string_view action, const absl::Status& refusal) {
    if (absl::Status s = hub_.audit().RecordRefusal(caller, action, refusal); !s.ok()) return s;
    return refusal;
  }

  class RefusedWatch final : public grpc::ServerWriteReactor<fedhub::v1::WatchConsentsResponse> {
    void OnDone() override { delete this; }
  };
  Hub& hub_;
  StreamSet* const streams_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewConsentService(Hub& hub, StreamSet* streams) {
  return std::make_unique<ConsentServiceImpl>(hub, streams);
}

}  // namespace fedhub::server
