#include "relay_server.h"

#include <google/protobuf/timestamp.pb.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "bench_support.h"
#include "core/strings.h"
#include "fedhub/v1/stream.grpc.pb.h"

namespace fedhub::bench {
namespace {

using v1::PublishRequest;
using v1::PublishResponse;
using v1::SubscribeRequest;
using v1::SubscribeResponse;

// Acknowledgements a publisher may have waiting to be written before the relay stops
// reading its next batch.
constexpr size_t kMaxPendingAcks = 64;

grpc::Status ShuttingDown() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the benchmark relay is shutting down");
}

// Every PublishEvent of `in` as a DeliveredEvent, offsets still unset.
void Convert(const PublishRequest& in, const RelayOptions& options,
             const google::protobuf::Timestamp& now, SubscribeResponse* out) {
  out->mutable_events()->Reserve(in.events_size());
  for (const v1::PublishEvent& e : in.events()) {
    v1::DeliveredEvent* d = out->add_events();
    d->set_event_id(e.event_id());
    d->set_publisher_platform_id(options.publisher_platform_id);
    *d->mutable_published_at() = now;
    if (e.has_profile()) {
      const v1::ProfileChange& p = e.profile();
      v1::ProfileUpdate* u = d->mutable_profile();
      u->set_pairwise_pseudonym(options.pseudonym);
      *u->mutable_categories() = p.categories();
      *u->mutable_fields() = p.fields();
      u->set_version(p.version());
    } else if (e.has_catalogue()) {
      v1::CatalogueUpdate* c = d->mutable_catalogue();
      *c->mutable_item() = e.catalogue().item();
      c->set_removed(e.catalogue().removed());
    }
  }
}

class Relay;

// A stream the relay can end at shutdown. End must not block and must not call into
// the Relay.
class RelayStream {
 public:
  virtual void End(const grpc::Status& status) = 0;

 protected:
  ~RelayStream() = default;
};

// One Subscribe call: a bounded queue of messages, written one at a time. Owned by a
// shared_ptr (itself until OnDone, and the relay's fan-out list), so the relay can start
// writes on it without holding the relay's lock.
//
// Thread-safety: thread-safe; lock order is Relay::mu_ before mu_.
class SubscribeReactor final : public grpc::ServerWriteReactor<SubscribeResponse>,
                               public RelayStream {
 public:
  SubscribeReactor(Relay& relay, size_t capacity) : relay_(relay), capacity_(capacity) {}

  // Called once, before the reactor is handed to gRPC.
  void Own(std::shared_ptr<SubscribeReactor> self) { self_ = std::move(self); }

  // A finished subscriber takes (and drops) everything, so it never holds a publisher.
  bool HasRoom() {
    std::lock_guard lock(mu_);
    return finished_ || queue_.size() < capacity_;
  }
  void Push(std::shared_ptr<const SubscribeResponse> message) {
    std::lock_guard lock(mu_);
    if (!finished_) queue_.push_back(std::move(message));
  }
  // Starts writing the queue if no write is in flight. Serialization runs here, under
  // this subscriber's lock only.
  void Kick() {
    std::lock_guard lock(mu_);
    WriteNextLocked();
  }

  void End(const grpc::Status& status) override {
    std::lock_guard lock(mu_);
    FinishLocked(status);
  }
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  void WriteNextLocked() {
    if (finished_ || writing_ || queue_.empty()) return;
    writing_ = true;
    StartWrite(queue_.front().get());
  }
  void FinishLocked(const grpc::Status& s) {
    if (finished_) return;
    finished_ = true;
    // The message in flight (if any) stays until its OnWriteDone; the rest is dropped.
    while (queue_.size() > (writing_ ? 1u : 0u)) queue_.pop_back();
    Finish(s);
  }

  Relay& relay_;
  const size_t capacity_;
  std::shared_ptr<SubscribeReactor> self_;  // reset in OnDone
  std::mutex mu_;
  std::deque<std::shared_ptr<const SubscribeResponse>> queue_;  // guarded by mu_; front in flight
  bool writing_ = false;                                        // guarded by mu_
  bool finished_ = false;                                       // guarded by mu_
};

// One Publish call. Reads a batch, hands it to the relay and reads the next once the
// relay took it; acknowledgements are written in order, one at a time.
//
// Thread-safety: thread-safe; lock order is Relay::mu_ before mu_. request_ is touched
// only between StartRead and the OnReadDone it leads to, and there is one read at a time.
class PublishReactor final : public grpc::ServerBidiReactor<PublishRequest, PublishResponse>,
                             public RelayStream {
 public:
  explicit PublishReactor(Relay& relay) : relay_(relay) {}

  void Begin() {
    std::lock_guard lock(mu_);
    StartRead(&request_);
  }

  // The relay forwarded the batch under offsets [first, first + count).
  void Accepted(uint64_t batch_id, uint64_t first, int count) {
    std::lock_guard lock(mu_);
    if (finished_) return;
    PublishResponse& ack = acks_.emplace_back();
    ack.set_batch_id(batch_id);
    auto* offsets = ack.mutable_accepted()->mutable_offsets();
    offsets->Reserve(count);
    for (int i = 0; i < count; ++i) offsets->Add(first + i);
    WriteNextLocked();
    if (acks_.size() < kMaxPendingAcks) {
      StartRead(&request_);
    } else {
      read_paused_ = true;
    }
  }

  void End(const grpc::Status& status) override {
    std::lock_guard lock(mu_);
    FinishLocked(status);
  }
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override {
    std::lock_guard lock(mu_);
    FinishLocked(grpc::Status::CANCELLED);
  }
  void OnDone() override;

 private:
  void WriteNextLocked() {
    if (finished_ || writing_ || acks_.empty()) return;
    writing_ = true;
    StartWrite(&acks_.front());
  }
  void MaybeFinishLocked() {
    if (reads_done_ && acks_.empty() && !writing_) FinishLocked(grpc::Status::OK);
  }
  void FinishLocked(const grpc::Status& s) {
    if (finished_) return;
    finished_ = true;
    Finish(s);
  }

  Relay& relay_;
  PublishRequest request_;
  std::mutex mu_;
  std::deque<PublishResponse> acks_;  // guarded by mu_; front is in flight while writing_
  bool writing_ = false;              // guarded by mu_
  bool read_paused_ = false;          // guarded by mu_
  bool reads_done_ = false;           // guarded by mu_
  bool finished_ = false;             // guarded by mu_
};

// The fan-out: subscribers, publishers waiting for room, offsets and counters.
//
// Thread-safety: thread-safe.
class Relay {
 public:
  explicit Relay(const RelayOptions& options) : options_(options) {}

  const RelayOptions& options() const { return options_; }

  // False once shutdown began: the stream must finish at once.
  bool Join(RelayStream* stream) {
    std::lock_guard lock(mu_);
    if (closing_) return false;
    open_.insert(stream);
    return true;
  }
  // The last call a stream makes into the relay, from its OnDone.
  void Leave(RelayStream* stream, PublishReactor* publisher) {
    std::lock_guard lock(mu_);
    open_.erase(stream);
    if (publisher != nullptr) {
      std::erase_if(blocked_, [&](const Pending& p) { return p.publisher == publisher; });
    }
    if (open_.empty()) empty_.notify_all();
  }

  void AddSubscriber(std::shared_ptr<SubscribeReactor> s) {
    std::lock_guard lock(mu_);
    subscribers_.push_back(std::move(s));
  }
  void RemoveSubscriber(SubscribeReactor* s) {
    std::lock_guard lock(mu_);
    std::erase_if(subscribers_, [&](const auto& p) { return p.get() == s; });
  }

  // Forwards the batch now if every subscriber has room and no publisher waits before
  // it; otherwise the publisher waits (reads nothing more) until RetryBlocked.
  void Forward(PublishReactor* publisher, uint64_t batch_id,
               std::unique_ptr<SubscribeResponse> message) {
    std::vector<std::shared_ptr<SubscribeReactor>> kick;
    {
      std::lock_guard lock(mu_);
      Pending p{publisher, batch_id, std::move(message)};
      if (!blocked_.empty() || !AllHaveRoomLocked()) {
        blocked_.push_back(std::move(p));
        ++stats_.publisher_waits;
        return;
      }
      ForwardLocked(std::move(p), &kick);
    }
    for (auto& s : kick) s->Kick();
  }

  // Forwards waiting batches, in arrival order, while every subscriber has room.
  void RetryBlocked() {
    std::vector<std::shared_ptr<SubscribeReactor>> kick;
    {
      std::lock_guard lock(mu_);
      while (!blocked_.empty() && AllHaveRoomLocked()) {
        Pending p = std::move(blocked_.front());
        blocked_.pop_front();
        ForwardLocked(std::move(p), &kick);
      }
    }
    for (auto& s : kick) s->Kick();
  }

  // Refuses new streams and ends the open ones.
  void EndAll() {
    std::lock_guard lock(mu_);
    closing_ = true;
    // A stream leaves only from its OnDone, which gRPC never runs inside End's Finish.
    for (RelayStream* s : open_) s->End(ShuttingDown());
  }
  void WaitUntilEmpty() {
    std::unique_lock lock(mu_);
    empty_.wait(lock, [this] { return open_.empty(); });
  }

  RelayStats stats() const {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  struct Pending {
    PublishReactor* publisher;
    uint64_t batch_id;
    std::unique_ptr<SubscribeResponse> message;
  };

  bool AllHaveRoomLocked() {
    return std::all_of(subscribers_.begin(), subscribers_.end(),
                       [](const auto& s) { return s->HasRoom(); });
  }

  // Numbers the events, queues the message for every subscriber (in offset order, which
  // holding mu_ guarantees across publishers) and acknowledges the batch.
  void ForwardLocked(Pending p, std::vector<std::shared_ptr<SubscribeReactor>>* kick) {
    const uint64_t first = next_offset_;
    const int count = p.message->events_size();
    for (v1::DeliveredEvent& e : *p.message->mutable_events()) e.set_offset(next_offset_++);
    p.message->set_cursor(next_offset_ - 1);
    std::shared_ptr<const SubscribeResponse> shared = std::move(p.message);
    for (const auto& s : subscribers_) s->Push(shared);
    *kick = subscribers_;
    ++stats_.batches;
    stats_.events += count;
    p.publisher->Accepted(p.batch_id, first, count);
  }

  const RelayOptions options_;
  mutable std::mutex mu_;
  std::condition_variable empty_;
  std::set<RelayStream*> open_;                                 // guarded by mu_
  bool closing_ = false;                                        // guarded by mu_
  std::vector<std::shared_ptr<SubscribeReactor>> subscribers_;  // guarded by mu_
  std::deque<Pending> blocked_;                                 // guarded by mu_
  uint64_t next_offset_ = 1;                                    // guarded by mu_
  RelayStats stats_;                                            // guarded by mu_
};

void SubscribeReactor::OnWriteDone(bool ok) {
  bool room_opened = false;
  {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!queue_.empty()) {
      room_opened = queue_.size() == capacity_;
      queue_.pop_front();
    }
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "writing to the subscriber failed"));
      room_opened = true;  // it now takes and drops everything
    }
    WriteNextLocked();
  }
  if (room_opened) relay_.RetryBlocked();
}

void SubscribeReactor::OnCancel() {
  {
    std::lock_guard lock(mu_);
    FinishLocked(grpc::Status::CANCELLED);
  }
  relay_.RetryBlocked();
}

void SubscribeReactor::OnDone() {
  relay_.RemoveSubscriber(this);
  relay_.Leave(this, nullptr);
  relay_.RetryBlocked();
  // Last: may destroy this reactor (unless a Kick in progress still holds it).
  std::shared_ptr<SubscribeReactor> last = std::move(self_);
}

void PublishReactor::OnReadDone(bool ok) {
  if (!ok) {
    std::lock_guard lock(mu_);
    reads_done_ = true;
    MaybeFinishLocked();
    return;
  }
  google::protobuf::Timestamp now;
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  now.set_seconds(micros / 1000000);
  now.set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  auto message = std::make_unique<SubscribeResponse>();
  Convert(request_, relay_.options(), now, message.get());
  relay_.Forward(this, request_.batch_id(), std::move(message));
}

void PublishReactor::OnWriteDone(bool ok) {
  std::lock_guard lock(mu_);
  writing_ = false;
  if (!ok) {
    FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "writing an acknowledgement failed"));
    return;
  }
  acks_.pop_front();
  WriteNextLocked();
  if (read_paused_ && !finished_ && acks_.size() < kMaxPendingAcks) {
    read_paused_ = false;
    StartRead(&request_);
  }
  MaybeFinishLocked();
}

void PublishReactor::OnDone() {
  relay_.Leave(this, this);
  delete this;
}

class RelayService final : public v1::StreamService::CallbackService {
 public:
  explicit RelayService(Relay& relay) : relay_(relay) {}

  grpc::ServerBidiReactor<PublishRequest, PublishResponse>* Publish(
      grpc::CallbackServerContext*) override {
    auto* r = new PublishReactor(relay_);
    if (!relay_.Join(r)) {
      r->End(ShuttingDown());
      return r;
    }
    r->Begin();
    return r;
  }

  grpc::ServerWriteReactor<SubscribeResponse>* Subscribe(grpc::CallbackServerContext*,
                                                         const SubscribeRequest* request) override {
    auto r = std::make_shared<SubscribeReactor>(relay_, relay_.options().queue_messages);
    r->Own(r);
    if (!relay_.Join(r.get())) {
      r->End(ShuttingDown());
      return r.get();
    }
    if (request->start_case() == SubscribeRequest::kAfterCursor ||
        request->start_case() == SubscribeRequest::kCatalogueSnapshot) {
      r->End(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          "the benchmark relay keeps no log and no catalogue; subscribe with "
                          "from_now"));
      return r.get();
    }
    relay_.AddSubscriber(r);
    return r.get();
  }

 private:
  Relay& relay_;
};

}  // namespace

struct RelayServer::Rep {
  std::unique_ptr<Relay> relay;
  std::unique_ptr<RelayService> service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

RelayServer::RelayServer(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

RelayServer::~RelayServer() { Shutdown(std::chrono::milliseconds(0)); }

absl::StatusOr<std::unique_ptr<RelayServer>> RelayServer::Start(const RelayOptions& options) {
  if (options.queue_messages == 0) {
    return absl::InvalidArgumentError("RelayOptions.queue_messages must be at least 1");
  }
  // The hub's certificate and key, generated with the CA by tools/devcerts.
  auto cert = ReadWholeFile(options.certs_dir + "/hub.crt", "the relay's TLS certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadWholeFile(options.certs_dir + "/hub.key", "the relay's TLS key");
  if (!key.ok()) return key.status();
  auto ca = ReadWholeFile(options.certs_dir + "/ca.crt", "the client CA bundle");
  if (!ca.ok()) return ca.status();
  // The hub's server credentials (hub/server/server.cc): client certificates required and
  // verified against the CA.
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = *ca;
  ssl.pem_key_cert_pairs.push_back({*key, *cert});

  auto rep = std::make_unique<Rep>();
  rep->relay = std::make_unique<Relay>(options);
  rep->service = std::make_unique<RelayService>(*rep->relay);
  // As the hub does: Debian Abseil's mutex deadlock detection on gRPC's locks is a
  // debugging aid that costs several % of CPU per call.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::SslServerCredentials(ssl), &rep->port);
  builder.RegisterService(rep->service.get());
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 20000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  rep->server = builder.BuildAndStart();
  if (!rep->server || rep->port == 0) {
    return absl::UnavailableError(
        Cat("the relay cannot listen on ", options.listen, " (in use, or a bad address)"));
  }
  return std::unique_ptr<RelayServer>(new RelayServer(std::move(rep)));
}

int RelayServer::port() const { return rep_->port; }

RelayStats RelayServer::stats() const { return rep_->relay->stats(); }

void RelayServer::Shutdown(std::chrono::milliseconds grace) {
  if (!rep_->server) return;
  rep_->relay->EndAll();
  rep_->server->Shutdown(std::chrono::system_clock::now() + grace);
  rep_->server->Wait();
  rep_->relay->WaitUntilEmpty();
  rep_->server.reset();
}

}  // namespace fedhub::bench
