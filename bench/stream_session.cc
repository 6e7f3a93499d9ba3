// StreamSession (stream_fixture.h): the benchmark's clients — one publisher and the
// subscribers — on one server, and the figures of a phase.
#include "stream_fixture.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/strings.h"
#include "fedhub/v1/stream.grpc.pb.h"

namespace fedhub::bench {
namespace {

// A phase gives up when no acknowledgement or no event arrives for this long.
constexpr auto kStallTimeout = std::chrono::seconds(10);
// Opening a session: batches published, each waited for this long, until every
// subscription delivers.
constexpr int kPrimeAttempts = 20;
constexpr auto kPrimeWait = std::chrono::milliseconds(500);

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::Status FromGrpc(const grpc::Status& s, std::string_view what) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      Cat(what, ": ", s.error_message()));
}

// Event ids are "e-<n>", n counting from 1 on each session; 0 if `id` is not one.
uint64_t EventNumber(const std::string& id) {
  uint64_t n = 0;
  if (id.size() < 3 || id[0] != 'e' || id[1] != '-') return 0;
  std::from_chars(id.data() + 2, id.data() + id.size(), n);
  return n;
}

// The Publish stream: a writer (the caller of Send) and a thread reading acknowledgements.
//
// Thread-safety: Send, AwaitAcks and Close from one thread.
class Publisher {
 public:
  Publisher(const std::shared_ptr<grpc::Channel>& channel, const LoadOptions& options)
      : stub_(v1::StreamService::NewStub(channel)), options_(options) {
    for (int i = 0; i < options_.batch; ++i) request_.add_events();
    stream_ = stub_->Publish(&ctx_);
    reader_ = std::thread([this] { ReadAcks(); });
  }
  ~Publisher() {
    if (!closed_) ctx_.TryCancel();
    Close().IgnoreError();
  }

  // Sends the next batch once fewer than `window` are unacknowledged.
  absl::Status Send() {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return in_flight_ < options_.window || ended_ || !error_.ok(); });
      if (!error_.ok()) return error_;
      if (ended_) return Ended();
      ++in_flight_;
    }
    // The send time, kept increasing so each person's versions grow.
    const int64_t version = std::max(NowMicros(), last_version_ + 1);
    last_version_ = version;
    const auto& profiles = *options_.profiles;
    request_.set_batch_id(next_batch_++);
    for (v1::PublishEvent& e : *request_.mutable_events()) {
      e.set_event_id(Cat("e-", next_event_));
      *e.mutable_profile() = profiles[next_event_ % profiles.size()];
      e.mutable_profile()->set_version(version);
      ++next_event_;
    }
    if (!stream_->Write(request_)) return Ended();
    return absl::OkStatus();
  }

  // Waits until every batch sent was acknowledged.
  absl::Status AwaitAcks() {
    std::unique_lock lock(mu_);
    while (in_flight_ > 0 && !ended_ && error_.ok()) {
      uint64_t seen = acks_;
      if (!cv_.wait_for(lock, kStallTimeout, [&] { return acks_ != seen || ended_; })) {
        std::string what = Cat("Publish: ", in_flight_, " batches unacknowledged");
        return absl::DeadlineExceededError(
            Cat(what, ", no acknowledgement for ", kStallTimeout.count(), " s"));
      }
    }
    if (!error_.ok()) return error_;
    if (ended_ && in_flight_ > 0) {
      lock.unlock();
      return Ended();
    }
    return absl::OkStatus();
  }

  // The number of the last event sent (0 before the first).
  uint64_t last_event() const { return next_event_ - 1; }

  absl::Status Close() {
    if (closed_) return final_;
    closed_ = true;
    stream_->WritesDone();
    reader_.join();
    grpc::Status s = stream_->Finish();
    std::lock_guard lock(mu_);
    final_ = !error_.ok() ? error_ : s.ok() ? absl::OkStatus() : FromGrpc(s, "Publish");
    return final_;
  }

 private:
  void ReadAcks() {
    v1::PublishResponse r;
    while (stream_->Read(&r)) {
      std::lock_guard lock(mu_);
      --in_flight_;
      ++acks_;
      if (r.has_refused() && error_.ok()) {
        auto code = static_cast<absl::StatusCode>(r.refused().code());
        error_ = absl::Status(
            code == absl::StatusCode::kOk ? absl::StatusCode::kUnknown : code,
            Cat("Publish: batch ", r.batch_id(), " was refused: ", r.refused().message()));
      }
      cv_.notify_all();
    }
    std::lock_guard lock(mu_);
    ended_ = true;
    cv_.notify_all();
  }

  // The stream ended before the benchmark closed it: the server's status.
  absl::Status Ended() {
    absl::Status s = Close();
    return s.ok() ? absl::FailedPreconditionError("Publish: the server ended the stream early") : s;
  }

  std::unique_ptr<v1::StreamService::Stub> stub_;
  const LoadOptions options_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::PublishRequest, v1::PublishResponse>> stream_;
  std::thread reader_;
  v1::PublishRequest request_;
  uint64_t next_batch_ = 1;
  uint64_t next_event_ = 1;
  int64_t last_version_ = 0;
  bool closed_ = false;
  absl::Status final_;
  std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;   // guarded by mu_
  uint64_t acks_ = 0;   // guarded by mu_
  bool ended_ = false;  // guarded by mu_
  absl::Status error_;  // guarded by mu_; the first refusal
};

// What the subscribers received.
//
// Thread-safety: thread-safe.
class Tally {
 public:
  struct Counted {
    uint64_t events = 0;
    uint64_t messages = 0;  // that carried events
    std::vector<int64_t> latencies_us;
  };

  explicit Tally(int subscribers) : last_(subscribers, 0), ended_(subscribers) {}

  // Counts events received in [start_us, end_us) from now on, and their latencies.
  void Open(int64_t start_us, int64_t end_us) {
    std::lock_guard lock(mu_);
    start_us_ = start_us;
    end_us_ = end_us;
    counted_ = Counted();
  }
  // What was counted since Open; counting stops.
  Counted Take() {
    std::lock_guard lock(mu_);
    start_us_ = end_us_ = 0;
    return std::move(counted_);
  }

  void Record(int subscriber, const v1::SubscribeResponse& r, int64_t now_us) {
    const int n = r.events_size();
    const uint64_t last = n > 0 ? EventNumber(r.events(n - 1).event_id()) : 0;
    std::lock_guard lock(mu_);
    if (now_us >= start_us_ && now_us < end_us_) {
      counted_.events += n;
      if (n > 0) ++counted_.messages;
      for (const v1::DeliveredEvent& e : r.events()) {
        if (e.has_profile()) counted_.latencies_us.push_back(now_us - e.profile().version());
      }
    }
    last_[subscriber] = std::max(last_[subscriber], last);
    ++messages_;
    cv_.notify_all();
  }

  void Ended(int subscriber, const grpc::Status& s) {
    std::lock_guard lock(mu_);
    ended_[subscriber] = s.ok() ? absl::FailedPreconditionError("the server ended the stream")
                                : FromGrpc(s, "Subscribe");
    cv_.notify_all();
  }

  // Waits until every subscriber received event `event`, failing if a subscription ended or
  // if no subscriber received anything for `stall`.
  absl::Status AwaitAll(uint64_t event, std::chrono::milliseconds stall,
                        const std::vector<std::string>& ids) {
    std::unique_lock lock(mu_);
    while (true) {
      int behind = -1;
      for (size_t i = 0; i < last_.size(); ++i) {
        if (!ended_[i].ok()) {
          return absl::Status(ended_[i].code(), Cat(ids[i], ": ", ended_[i].message()));
        }
        if (last_[i] < event && behind < 0) behind = static_cast<int>(i);
      }
      if (behind < 0) return absl::OkStatus();
      uint64_t seen = messages_;
      if (!cv_.wait_for(lock, stall, [&] { return messages_ != seen; })) {
        return absl::DeadlineExceededError(
            Cat(ids[behind], " has received events up to e-", last_[behind], " of e-", event,
                " and no subscriber received anything for ", stall.count(), " ms"));
      }
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t start_us_ = 0, end_us_ = 0;  // guarded by mu_
  Counted counted_;                    // guarded by mu_
  std::vector<uint64_t> last_;         // guarded by mu_; per subscriber
  std::vector<absl::Status> ended_;    // guarded by mu_; per subscriber
  uint64_t messages_ = 0;              // guarded by mu_
};

struct Subscription {
  std::unique_ptr<v1::StreamService::Stub> stub;
  grpc::ClientContext ctx;
  std::thread thread;
};

}  // namespace

struct StreamSession::Rep {
  LoadOptions options;
  std::unique_ptr<Tally> tally;
  std::vector<std::unique_ptr<Subscription>> subscriptions;
  std::unique_ptr<Publisher> publisher;
  bool closed = false;
};

StreamSession::StreamSession(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

StreamSession::~StreamSession() { Close().IgnoreError(); }

absl::StatusOr<std::unique_ptr<StreamSession>> StreamSession::Open(const std::string& endpoint,
                                                                   const LoadOptions& options) {
  if (options.profiles == nullptr || options.profiles->empty()) {
    return absl::InvalidArgumentError("LoadOptions.profiles must name at least one change");
  }
  auto rep = std::make_unique<Rep>();
  rep->options = options;
  const int n = static_cast<int>(options.subscriber_ids.size());
  rep->tally = std::make_unique<Tally>(n);
  auto publisher_channel = PrincipalChannel(options.certs_dir, options.publisher_id, endpoint);
  if (!publisher_channel.ok()) return publisher_channel.status();
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (const std::string& id : options.subscriber_ids) {
    auto c = PrincipalChannel(options.certs_dir, id, endpoint);
    if (!c.ok()) return c.status();
    channels.push_back(*c);
  }
  std::unique_ptr<StreamSession> session(new StreamSession(std::move(rep)));
  Rep& r = *session->rep_;
  for (int i = 0; i < n; ++i) {
    auto& s = r.subscriptions.emplace_back(std::make_unique<Subscription>());
    s->stub = v1::StreamService::NewStub(channels[i]);
    s->thread = std::thread([&r, s = s.get(), i] {
      v1::SubscribeRequest request;
      request.set_from_now(true);
      request.add_kinds(v1::STREAM_KIND_PROFILE);
      request.set_max_events_per_message(r.options.batch);
      auto reader = s->stub->Subscribe(&s->ctx, request);
      v1::SubscribeResponse response;
      while (reader->Read(&response)) r.tally->Record(i, response, NowMicros());
      r.tally->Ended(i, reader->Finish());
    });
  }
  r.publisher = std::make_unique<Publisher>(*publisher_channel, options);
  // from_now starts wherever the log's end is when the hub gets to the request: publish
  // until a batch reaches every subscriber.
  absl::Status primed = absl::UnknownError("no batch published");
  for (int attempt = 0; attempt < kPrimeAttempts && !primed.ok(); ++attempt) {
    if (absl::Status s = r.publisher->Send(); !s.ok()) return s;
    primed = r.tally->AwaitAll(r.publisher->last_event(), kPrimeWait, options.subscriber_ids);
    if (!primed.ok() && !absl::IsDeadlineExceeded(primed)) return primed;
  }
  if (!primed.ok()) {
    return absl::Status(primed.code(), Cat("the subscriptions did not start delivering after ",
                                           kPrimeAttempts, " batches: ", primed.message()));
  }
  if (absl::Status s = r.publisher->AwaitAcks(); !s.ok()) return s;
  return session;
}

absl::StatusOr<PhaseFigures> StreamSession::RunPhase(double seconds, double warmup_s,
                                                     double delivered_per_s) {
  Rep& r = *rep_;
  const int64_t start = NowMicros() + static_cast<int64_t>(warmup_s * 1e6);
  const int64_t end = start + static_cast<int64_t>(seconds * 1e6);
  r.tally->Open(start, end);
  // Paced: one batch every `interval`, on a fixed schedule (a late batch does not move
  // the next one).
  const bool paced = delivered_per_s > 0;
  const double published_per_s = delivered_per_s / static_cast<double>(r.subscriptions.size());
  const auto interval =
      std::chrono::duration<double>(paced ? r.options.batch / published_per_s : 0);
  const auto origin = std::chrono::steady_clock::now();
  const int64_t origin_us = NowMicros();
  double cpu_start = -1;
  uint64_t first_event = 0;
  for (int64_t k = 0;; ++k) {
    if (paced) {
      const auto due = interval * static_cast<double>(k);
      if (origin_us + static_cast<int64_t>(due.count() * 1e6) >= end) break;
      std::this_thread::sleep_until(
          origin + std::chrono::duration_cast<std::chrono::steady_clock::duration>(due));
    }
    const int64_t now = NowMicros();
    if (now >= end) break;
    if (cpu_start < 0 && now >= start) {
      cpu_start = ProcessCpuSeconds();
      first_event = r.publisher->last_event() + 1;
    }
    if (absl::Status s = r.publisher->Send(); !s.ok()) return s;
  }
  const double cpu_s = ProcessCpuSeconds() - std::max(cpu_start, 0.0);
  const uint64_t published = first_event > 0 ? r.publisher->last_event() + 1 - first_event : 0;
  if (absl::Status s = r.publisher->AwaitAcks(); !s.ok()) return s;
  absl::Status drained =
      r.tally->AwaitAll(r.publisher->last_event(), kStallTimeout, r.options.subscriber_ids);
  Tally::Counted counted = r.tally->Take();
  if (!drained.ok()) return drained;
  PhaseFigures f;
  const auto events = static_cast<double>(counted.events);
  f.delivered_per_s = events / seconds;
  f.published_per_s = static_cast<double>(published) / seconds;
  f.latency_us = SummarizeLatencies(counted.latencies_us);
  if (counted.events > 0) f.cpu_us_per_event = cpu_s * 1e6 / events;
  if (counted.messages > 0) f.events_per_message = events / static_cast<double>(counted.messages);
  return f;
}

absl::Status StreamSession::Close() {
  if (rep_->closed) return absl::OkStatus();
  rep_->closed = true;
  absl::Status s = rep_->publisher ? rep_->publisher->Close() : absl::OkStatus();
  for (auto& sub : rep_->subscriptions) sub->ctx.TryCancel();
  for (auto& sub : rep_->subscriptions) sub->thread.join();
  return s;
}

}  // namespace fedhub::bench
