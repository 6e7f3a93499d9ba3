#include <google/protobuf/arena.h>

#include <deque>
#include <memory>
#include <mutex>

#include "core/strings.h"
#include "fedhub/v1/catalogue.grpc.pb.h"
#include "fedhub/v1/stream.grpc.pb.h"
#include "server/call.h"
#include "server/services.h"
#include "server/subscribe_reactor.h"
#include "stream/validate.h"

namespace fedhub::server {
namespace {

using fedhub::v1::ROLE_PLATFORM;

// Batches a Publish stream may have read and not yet answered. Reading pauses beyond it,
// so a publisher that outpaces the disk, or does not read its answers, is slowed by gRPC
// flow control, not buffered.
constexpr int kPublishWindow = 8;

// A Publish stream parses each batch onto an arena: blocks from 64 KiB to 1 MiB (a full
// batch of small events takes a few hundred KiB).
google::protobuf::ArenaOptions PublishArenaOptions() {
  google::protobuf::ArenaOptions o;
  o.start_block_size = 64 << 10;
  o.max_block_size = 1 << 20;
  return o;
}

// The server side of one Publish stream: each batch read is handed to Streams::PublishAsync
// at once (up to kPublishWindow in storage), and acknowledgements are written in the order
// the batches were read (group commits complete in order).
class PublishReactor final
    : public grpc::ServerBidiReactor<fedhub::v1::PublishRequest, fedhub::v1::PublishResponse>,
      public StreamSet::Stream {
 public:
  PublishReactor(Hub& hub, StreamSet* streams, Caller caller)
      : hub_(hub), streams_(streams), caller_(std::move(caller)) {
    std::lock_guard lock(mu_);
    if (!streams_->Join(this)) {
      FinishLocked(StreamSet::ShuttingDown());
      return;
    }
    joined_ = true;
    hub_.metrics().StreamOpened();
    StartRead(request_);
  }

  void End(const grpc::Status& status) override {
    std::lock_guard lock(mu_);
    FinishLocked(status);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      std::lock_guard lock(mu_);
      reads_done_ = true;
      MaybeFinishLocked();
      return;
    }
    {
      std::lock_guard lock(mu_);
      if (finished_) return;
      ++in_storage_;
      ++unanswered_;
    }
    // A platform suspended since the stream opened may publish nothing more.
    if (auto still = hub_.registry().Authenticate(caller_.role, caller_.id); !still.ok()) {
      bool destroy;
      {
        std::lock_guard lock(mu_);
        --in_storage_;
        --unanswered_;
        FinishLocked(ToGrpc(still.status()));
        destroy = done_ && in_storage_ == 0;
      }
      if (destroy) Destroy();
      return;
    }
    // Queued for storage before the next read starts, so batches are stored and answered
    // in the order they were sent.
    hub_.streams().PublishAsync(caller_, *request_,
                                [this](fedhub::v1::PublishResponse ack) { OnStored(std::move(ack)); });
    // The batch is no longer read: its memory goes back in one step and the next read
    // parses into the same blocks.
    NewRequest();
    std::lock_guard lock(mu_);
    if (finished_) return;
    if (unanswered_ < kPublishWindow) {
      StartRead(request_);
    } else {
      read_paused_ = true;
    }
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writing_ = false;
    acks_.pop_front();
    --unanswered_;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream write failed"));
      return;
    }
    if (read_paused_ && !reads_done_ && !finished_) {
      read_paused_ = false;
      StartRead(request_);
    }
    WriteNextLocked();
    MaybeFinishLocked();
  }

  void OnCancel() override {
    std::lock_guard lock(mu_);
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    bool destroy;
    {
      std::lock_guard lock(mu_);
      done_ = true;
      destroy = in_storage_ == 0;
    }
    if (destroy) Destroy();
  }

 private:
  void OnStored(fedhub::v1::PublishResponse ack) {
    if (ack.has_accepted()) hub_.metrics().EventsPublished(ack.accepted().offsets_size());
    bool destroy = false;
    {
      std::lock_guard lock(mu_);
      --in_storage_;
      if (done_) {
        destroy = in_storage_ == 0;
      } else if (!finished_) {
        acks_.push_back(std::move(ack));
        WriteNextLocked();
        MaybeFinishLocked();
      }
    }
    if (destroy) Destroy();
  }

  // A fresh request on a reset arena. Only when no read is outstanding (the constructor,
  // OnReadDone before the next StartRead).
  void NewRequest() {
    arena_.Reset();
    request_ = google::protobuf::Arena::CreateMessage<fedhub::v1::PublishRequest>(&arena_);
  }

  void WriteNextLocked() {
    if (writing_ || acks_.empty() || finished_) return;
    writing_ = true;
    StartWrite(&acks_.front());
  }

  void MaybeFinishLocked() {
    if (reads_done_ && in_storage_ == 0 && acks_.empty() && !writing_) FinishLocked(grpc::Status::OK);
  }

  void FinishLocked(const grpc::Status& status) {
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  void Destroy() {
    if (joined_) {
      hub_.metrics().StreamClosed();
      streams_->Leave(this);
    }
    delete this;
  }

  Hub& hub_;
  StreamSet* const streams_;
  const Caller caller_;
  // The read in progress, parsed onto an arena: a batch of hundreds of events is
  // hundreds of strings and messages, freed at once when the batch has been handed on.
  google::protobuf::Arena arena_{PublishArenaOptions()};
  fedhub::v1::PublishRequest* request_ =
      google::protobuf::Arena::CreateMessage<fedhub::v1::PublishRequest>(&arena_);
  std::mutex mu_;
  bool joined_ = false;                         // guarded by mu_
  int in_storage_ = 0;                          // guarded by mu_: batches handed to storage
  int unanswered_ = 0;                          // guarded by mu_: batches read, answer not written
  std::deque<fedhub::v1::PublishResponse> acks_;  // guarded by mu_; front is being written
  bool writing_ = false;                        // guarded by mu_
  bool read_paused_ = false;                    // guarded by mu_
  bool reads_done_ = false;                     // guarded by mu_
  bool finished_ = false;                       // guarded by mu_
  bool done_ = false;                           // guarded by mu_
};

template <typename Request, typename Response>
class Refused final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit Refused(const grpc::Status& s) { this->Finish(s); }
  void OnDone() override { delete this; }
};

class RefusedPublish final
    : public grpc::ServerBidiReactor<fedhub::v1::PublishRequest, fedhub::v1::PublishResponse> {
 public:
  explicit RefusedPublish(const grpc::Status& s) { Finish(s); }
  void OnDone() override { delete this; }
};

absl::Status ValidateSubscribe(const fedhub::v1::SubscribeRequest& req) {
  bool catalogue = req.kinds().empty();
  for (int i = 0; i < req.kinds_size(); ++i) {
    int k = req.kinds(i);
    if (k != fedhub::v1::STREAM_KIND_PROFILE && k != fedhub::v1::STREAM_KIND_CATALOGUE) {
      return absl::InvalidArgumentError(
          Cat("kinds[", i, "] is ", k, "; use STREAM_KIND_PROFILE or STREAM_KIND_CATALOGUE"));
    }
    catalogue |= k == fedhub::v1::STREAM_KIND_CATALOGUE;
  }
  if (req.max_events_per_message() > 1000) {
    return absl::InvalidArgumentError(Cat("max_events_per_message ", req.max_events_per_message(),
                                          " is too large; use 1 to 1000 (0 means 500)"));
  }
  if (absl::Status s = stream::ValidateCatalogueFilter(req.catalogue_filter(), "catalogue_filter"); !s.ok()) {
    return s;
  }
  if (req.start_case() == fedhub::v1::SubscribeRequest::kCatalogueSnapshot && !catalogue) {
    return absl::InvalidArgumentError(
        "catalogue_snapshot asks for the catalogue, but kinds does not include STREAM_KIND_CATALOGUE");
  }
  return absl::OkStatus();
}

// Subscribe is registered raw: its messages are encoded by the hub (Built::Encode).
using StreamBase = fedhub::v1::StreamService::WithCallbackMethod_Publish<
    fedhub::v1::StreamService::WithRawCallbackMethod_Subscribe<fedhub::v1::StreamService::Service>>;

class StreamServiceImpl final : public StreamBase {
 public:
  StreamServiceImpl(Hub& hub, StreamSet* streams, stream::WorkPool* pool)
      : hub_(hub), streams_(streams), pool_(pool) {}

  grpc::ServerBidiReactor<fedhub::v1::PublishRequest, fedhub::v1::PublishResponse>* Publish(
      grpc::CallbackServerContext* ctx) override {
    Call call(hub_, *ctx, "Publish");
    auto caller = call.Authorize({ROLE_PLATFORM}, "stream.publish");
    if (!caller.ok()) return new RefusedPublish(call.Finish(caller.status()));
    call.Finish(absl::OkStatus());
    return new PublishReactor(hub_, streams_, *caller);
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* Subscribe(grpc::CallbackServerContext* ctx,
                                                       const grpc::ByteBuffer* raw) override {
    using RefusedSubscribe = Refused<grpc::ByteBuffer, grpc::ByteBuffer>;
    Call call(hub_, *ctx, "Subscribe");
    auto caller = call.Authorize({ROLE_PLATFORM}, "stream.subscribe");
    if (!caller.ok()) return new RefusedSubscribe(call.Finish(caller.status()));
    fedhub::v1::SubscribeRequest request;
    const fedhub::v1::SubscribeRequest* req = &request;
    grpc::ByteBuffer copy(*raw);
    absl::Status s =
        grpc::SerializationTraits<fedhub::v1::SubscribeRequest>::Deserialize(&copy, &request).ok()
            ? ValidateSubscribe(request)
            : absl::InvalidArgumentError("the SubscribeRequest does not parse as fedhub.v1.SubscribeRequest");
    std::unique_ptr<storage::Snapshot> snapshot;
    absl::StatusOr<uint64_t> cursor = s.ok() ? hub_.streams().StartCursor(*req, &snapshot) : s;
    if (!cursor.ok()) {
      (void)hub_.audit().RecordRefusal(*caller, "stream.subscribe", cursor.status());
      return new RefusedSubscribe(call.Finish(cursor.status()));
    }
    call.Finish(absl::OkStatus());
    return SubscribeReactor::Start(hub_, streams_, pool_, *caller, *req, *cursor, std::move(snapshot));
  }

  grpc::Status AcknowledgeErasure(grpc::ServerContext* ctx, const fedhub::v1::AcknowledgeErasureRequest* req,
                                  fedhub::v1::AcknowledgeErasureResponse* resp) override {
    Call call(hub_, *ctx, "AcknowledgeErasure");
    auto caller = call.Authorize({ROLE_PLATFORM}, "stream.erasure_ack");
    if (!caller.ok()) return call.Finish(caller.status());
    auto r = hub_.streams().AcknowledgeErasure(*caller, *req);
    if (!r.ok()) return call.Finish(r.status());
    *resp = std::move(*r);
    return call.Finish(absl::OkStatus());
  }

  grpc::Status GetStreamInfo(grpc::ServerContext* ctx, const fedhub::v1::GetStreamInfoRequest*,
                             fedhub::v1::GetStreamInfoResponse* resp) override {
    Call call(hub_, *ctx, "GetStreamInfo");
    auto caller = call.Authorize({ROLE_PLATFORM}, "stream.info");
    if (!caller.ok()) return call.Finish(caller.status());
    *resp = hub_.streams().Info();
    return call.Finish(absl::OkStatus());
  }

 private:
  Hub& hub_;
  StreamSet* const streams_;
  stream::WorkPool* const pool_;
};

class CatalogueServiceImpl final : public fedhub::v1::CatalogueService::Service {
 public:
  explicit CatalogueServiceImpl(Hub& hub) : hub_(hub) {}

  grpc::Status SetSharingPolicy(grpc::ServerContext* ctx, const fedhub::v1::SetSharingPolicyRequest* req,
                                fedhub::v1::SetSharingPolicyResponse* resp) override {
    Call call(hub_, *ctx, "SetSharingPolicy");
    auto caller = call.Authorize({ROLE_PLATFORM}, "catalogue.set_policy");
    if (!caller.ok()) return call.Finish(caller.status());
    auto policy = hub_.catalogue().SetPolicy(*caller, req->policy());
    if (!policy.ok()) return call.Finish(policy.status());
    *resp->mutable_policy() = std::move(*policy);
    return call.Finish(absl::OkStatus());
  }

  grpc::Status GetSharingPolicy(grpc::ServerContext* ctx, const fedhub::v1::GetSharingPolicyRequest*,
                                fedhub::v1::GetSharingPolicyResponse* resp) override {
    Call call(hub_, *ctx, "GetSharingPolicy");
    auto caller = call.Authorize({ROLE_PLATFORM}, "catalogue.get_policy");
    if (!caller.ok()) return call.Finish(caller.status());
    *resp->mutable_policy() = hub_.catalogue().Policy(caller->id);
    return call.Finish(absl::OkStatus());
  }

  grpc::Status ListCatalogue(grpc::ServerContext* ctx, const fedhub::v1::ListCatalogueRequest* req,
                             fedhub::v1::ListCatalogueResponse* resp) override {
    Call call(hub_, *ctx, "ListCatalogue");
    auto caller = call.Authorize({ROLE_PLATFORM}, "catalogue.list");
    if (!caller.ok()) return call.Finish(caller.status());
    auto r = hub_.catalogue().List(*caller, *req);
    if (!r.ok()) return call.Finish(r.status());
    *resp = std::move(*r);
    return call.Finish(absl::OkStatus());
  }

 private:
  Hub& hub_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewStreamService(Hub& hub, StreamSet* streams, stream::WorkPool* pool) {
  return std::make_unique<StreamServiceImpl>(hub, streams, pool);
}

std::unique_ptr<grpc::Service> NewCatalogueService(Hub& hub) {
  return std::make_unique<CatalogueServiceImpl>(hub);
}

}  // namespace fedhub::server
