// Publish and Subscribe streams whose hub side a test plays from its own thread. Every wait
// on the test side is bounded (kFakeStreamWait) so that a broken publisher or subscription
// fails the test instead of hanging it; no wait stands in for synchronisation.
#ifndef FEDHUB_TESTS_SDK_FAKE_STREAMS_H_
#define FEDHUB_TESTS_SDK_FAKE_STREAMS_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "fedhub/connection.h"

namespace fedhub::testing {

inline constexpr std::chrono::seconds kFakeStreamWait{10};

// The hub's end of one Publish call. The publisher writes batches and reads answers through
// the PublishStream that MakeStream returns; the test takes the batches (NextBatch) and
// answers them (Accept, Refuse, Answer), or ends the call (End).
class FakePublishCall {
 public:
  // The next batch the publisher wrote, in writing order; nullopt if none came in time.
  std::optional<v1::PublishRequest> NextBatch() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kFakeStreamWait, [this] { return taken_ < written_.size(); })) {
      return std::nullopt;
    }
    return written_[taken_++];
  }
  // Accepts `batch`, storing its events at offsets first_offset, first_offset + 1, ...
  void Accept(const v1::PublishRequest& batch, uint64_t first_offset, uint32_t duplicates = 0) {
    v1::PublishResponse ack;
    ack.set_batch_id(batch.batch_id());
    for (int i = 0; i < batch.events_size(); ++i) {
      ack.mutable_accepted()->add_offsets(first_offset + static_cast<uint64_t>(i));
    }
    ack.mutable_accepted()->set_duplicates(duplicates);
    Answer(std::move(ack));
  }
  // Refuses `batch` because of the events at `bad` (index, code).
  void Refuse(const v1::PublishRequest& batch,
              const std::vector<std::pair<uint32_t, absl::StatusCode>>& bad) {
    v1::PublishResponse ack;
    ack.set_batch_id(batch.batch_id());
    v1::BatchRefused* refused = ack.mutable_refused();
    for (const auto& [index, code] : bad) {
      v1::EventError* e = refused->add_errors();
      e->set_index(index);
      e->set_event_id(batch.events(static_cast<int>(index)).event_id());
      e->set_code(static_cast<int32_t>(code));
      e->set_message("event " + e->event_id() + " is bad");
    }
    refused->set_code(refused->errors(0).code());
    refused->set_message(refused->errors(0).message());
    Answer(std::move(ack));
  }
  void Answer(v1::PublishResponse ack) {
    std::lock_guard lock(mu_);
    answers_.push_back(std::move(ack));
    cv_.notify_all();
  }
  // The hub ends the call with `status` once the publisher has read the answers sent so far.
  void End(absl::Status status) {
    std::lock_guard lock(mu_);
    ended_ = true;
    end_ = std::move(status);
    cv_.notify_all();
  }
  // Waits until the publisher called WritesDone.
  bool WaitWritesDone() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kFakeStreamWait, [this] { return writes_done_; });
  }
  bool cancelled() const {
    std::lock_guard lock(mu_);
    return cancelled_;
  }
  size_t batches_written() const {
    std::lock_guard lock(mu_);
    return written_.size();
  }

  // The publisher's side.
  static std::unique_ptr<PublishStream> MakeStream(std::shared_ptr<FakePublishCall> call);

 private:
  class Stream;
  friend class Stream;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<v1::PublishRequest> written_;
  size_t taken_ = 0;
  std::deque<v1::PublishResponse> answers_;
  bool writes_done_ = false;
  bool ended_ = false;
  absl::Status end_;
  bool cancelled_ = false;
};

class FakePublishCall::Stream final : public PublishStream {
 public:
  explicit Stream(std::shared_ptr<FakePublishCall> call) : call_(std::move(call)) {}
  bool Write(const v1::PublishRequest& batch) override {
    std::lock_guard lock(call_->mu_);
    if (call_->ended_ || call_->cancelled_ || call_->writes_done_) return false;
    call_->written_.push_back(batch);
    call_->cv_.notify_all();
    return true;
  }
  bool Read(v1::PublishResponse* ack) override {
    std::unique_lock lock(call_->mu_);
    // A real hub closes the call once it has answered everything after WritesDone.
    call_->cv_.wait(lock, [this] {
      return call_->cancelled_ || !call_->answers_.empty() || call_->ended_ ||
             (call_->writes_done_ && call_->answers_.empty());
    });
    if (call_->cancelled_ || call_->answers_.empty()) return false;
    *ack = std::move(call_->answers_.front());
    call_->answers_.pop_front();
    return true;
  }
  void WritesDone() override {
    std::lock_guard lock(call_->mu_);
    call_->writes_done_ = true;
    call_->cv_.notify_all();
  }
  absl::Status Finish() override {
    std::lock_guard lock(call_->mu_);
    if (call_->cancelled_) return absl::CancelledError("cancelled by the client");
    return call_->ended_ ? call_->end_ : absl::OkStatus();
  }
  void Cancel() override {
    std::lock_guard lock(call_->mu_);
    call_->cancelled_ = true;
    call_->cv_.notify_all();
  }

 private:
  std::shared_ptr<FakePublishCall> call_;
};

inline std::unique_ptr<PublishStream> FakePublishCall::MakeStream(
    std::shared_ptr<FakePublishCall> call) {
  return std::make_unique<Stream>(std::move(call));
}

// The hub's end of one Subscribe call: the test sends messages and ends the call; Read
// blocks until then, or until the subscriber cancels.
class FakeSubscribeCall {
 public:
  void Send(v1::SubscribeResponse message) {
    std::lock_guard lock(mu_);
    messages_.push_back(std::move(message));
    cv_.notify_all();
  }
  // A message with events at `offsets` (a catalogue removal each) and `cursor`.
  void Send(const std::vector<uint64_t>& offsets, uint64_t cursor, bool snapshot = false,
            bool snapshot_complete = false) {
    v1::SubscribeResponse m;
    for (uint64_t offset : offsets) {
      v1::DeliveredEvent* e = m.add_events();
      e->set_offset(offset);
      e->set_event_id("e-" + std::to_string(offset));
      e->mutable_catalogue()->set_removed(true);
    }
    m.set_cursor(cursor);
    m.set_snapshot(snapshot);
    m.set_snapshot_complete(snapshot_complete);
    Send(std::move(m));
  }
  // Ends the call with `status` after the messages sent so far.
  void End(absl::Status status) {
    std::lock_guard lock(mu_);
    ended_ = true;
    end_ = std::move(status);
    cv_.notify_all();
  }
  bool WaitCancelled() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kFakeStreamWait, [this] { return cancelled_; });
  }
  // Waits until the subscriber has read every message sent so far.
  bool WaitDrained() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kFakeStreamWait, [this] { return messages_.empty(); });
  }

  // The subscriber's side.
  static std::unique_ptr<SubscribeStream> MakeStream(std::shared_ptr<FakeSubscribeCall> call);

 private:
  class Stream;
  friend class Stream;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<v1::SubscribeResponse> messages_;
  bool ended_ = false;
  absl::Status end_;
  bool cancelled_ = false;
};

class FakeSubscribeCall::Stream final : public SubscribeStream {
 public:
  explicit Stream(std::shared_ptr<FakeSubscribeCall> call) : call_(std::move(call)) {}
  bool Read(v1::SubscribeResponse* message) override {
    std::unique_lock lock(call_->mu_);
    call_->cv_.wait(
        lock, [this] { return call_->cancelled_ || !call_->messages_.empty() || call_->ended_; });
    if (call_->cancelled_ || call_->messages_.empty()) return false;
    *message = std::move(call_->messages_.front());
    call_->messages_.pop_front();
    call_->cv_.notify_all();
    return true;
  }
  absl::Status Finish() override {
    std::lock_guard lock(call_->mu_);
    if (call_->cancelled_) return absl::CancelledError("cancelled by the client");
    return call_->end_;
  }
  void Cancel() override {
    std::lock_guard lock(call_->mu_);
    call_->cancelled_ = true;
    call_->cv_.notify_all();
  }

 private:
  std::shared_ptr<FakeSubscribeCall> call_;
};

inline std::unique_ptr<SubscribeStream> FakeSubscribeCall::MakeStream(
    std::shared_ptr<FakeSubscribeCall> call) {
  return std::make_unique<Stream>(std::move(call));
}

}  // namespace fedhub::testing

#endif  // FEDHUB_TESTS_SDK_FAKE_STREAMS_H_
