// Raw StreamService helpers for integration tests: a publisher that sends one batch and
// waits for its acknowledgement, and a subscriber that collects messages on its own thread.
// They use the generated stubs directly, so the tests pin the wire contract, not the SDK.
#ifndef FEDHUB_TESTS_INTEGRATION_STREAM_UTIL_H_
#define FEDHUB_TESTS_INTEGRATION_STREAM_UTIL_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "fedhub/v1/catalogue.grpc.pb.h"
#include "fedhub/v1/stream.grpc.pb.h"
#include "test_hub.h"

namespace fedhub::testing {

// A profile change of `user` replacing PROFILE, CONTACT and INTERESTS.
inline v1::PublishEvent ProfileEvent(const std::string& event_id, const std::string& user,
                                     int64_t version = 1) {
  v1::PublishEvent e;
  e.set_event_id(event_id);
  auto* p = e.mutable_profile();
  p->mutable_user()->set_local_user_id(user);
  p->add_categories(v1::DATA_CATEGORY_PROFILE);
  p->add_categories(v1::DATA_CATEGORY_CONTACT);
  p->add_categories(v1::DATA_CATEGORY_INTERESTS);
  p->mutable_fields()->set_display_name("Ada " + event_id);
  p->mutable_fields()->set_locale("en-GB");
  p->mutable_fields()->set_email("ada@example.org");
  p->mutable_fields()->add_interest_tags("rust");
  p->set_version(version);
  return e;
}

inline v1::PublishEvent ItemEvent(const std::string& event_id, const std::string& item_id,
                                  v1::ItemKind kind, const std::string& title = "An item") {
  v1::PublishEvent e;
  e.set_event_id(event_id);
  auto* item = e.mutable_catalogue()->mutable_item();
  item->set_item_id(item_id);
  item->set_kind(kind);
  item->set_title(title);
  item->add_tags("design");
  item->set_price_minor(1999);
  item->set_currency("EUR");
  item->set_language("en");
  return e;
}

inline v1::PublishRequest Batch(uint64_t id, std::vector<v1::PublishEvent> events) {
  v1::PublishRequest r;
  r.set_batch_id(id);
  for (auto& e : events) *r.add_events() = std::move(e);
  return r;
}

// One Publish stream, used synchronously.
class RawPublisher {
 public:
  RawPublisher(const TestHub& hub, const std::string& platform)
      : stub_(hub.StubFor<v1::StreamService>(platform)), stream_(stub_->Publish(&ctx_)) {}
  ~RawPublisher() {
    stream_->WritesDone();
    (void)stream_->Finish();
  }
  // Sends `batch` and returns its acknowledgement; an empty response if the stream broke.
  v1::PublishResponse Send(const v1::PublishRequest& batch) {
    v1::PublishResponse ack;
    if (!stream_->Write(batch) || !stream_->Read(&ack)) return v1::PublishResponse();
    return ack;
  }
  grpc::Status Finish() {
    stream_->WritesDone();
    return stream_->Finish();
  }

 private:
  std::unique_ptr<v1::StreamService::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::PublishRequest, v1::PublishResponse>> stream_;
};

// One Subscribe stream; a thread reads every message into memory.
class RawSubscriber {
 public:
  RawSubscriber(const TestHub& hub, const std::string& platform, const v1::SubscribeRequest& req,
                bool start_reading = true)
      : stub_(hub.StubFor<v1::StreamService>(platform)), stream_(stub_->Subscribe(&ctx_, req)) {
    if (start_reading) StartReading();
  }
  ~RawSubscriber() {
    ctx_.TryCancel();
    if (reader_.joinable()) reader_.join();
  }
  // For a subscriber created stalled: start reading now.
  void StartReading() {
    reader_ = std::thread([this] {
      v1::SubscribeResponse m;
      while (stream_->Read(&m)) {
        std::lock_guard lock(mu_);
        messages_.push_back(m);
        cv_.notify_all();
      }
      grpc::Status s = stream_->Finish();
      std::lock_guard lock(mu_);
      status_ = s;
      ended_ = true;
      cv_.notify_all();
    });
  }
  // Waits until `pred(messages)` holds or the stream ends; false on timeout or end.
  bool WaitUntil(const std::function<bool(const std::vector<v1::SubscribeResponse>&)>& pred,
                 std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(messages_) || ended_; }) && pred(messages_);
  }
  // Waits until the stream has delivered `n` events in total.
  bool WaitForEvents(size_t n) {
    return WaitUntil([n](const auto& ms) { return Count(ms) >= n; });
  }
  // Waits until a message with cursor >= `cursor` arrived.
  bool WaitForCursor(uint64_t cursor) {
    return WaitUntil([cursor](const auto& ms) { return !ms.empty() && ms.back().cursor() >= cursor; });
  }
  // Waits for the stream to end and returns its status.
  grpc::Status WaitForEnd(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return ended_; })) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "stream did not end");
    }
    return status_;
  }
  std::vector<v1::SubscribeResponse> messages() {
    std::lock_guard lock(mu_);
    return messages_;
  }
  std::vector<v1::DeliveredEvent> events() {
    std::vector<v1::DeliveredEvent> out;
    for (const auto& m : messages()) out.insert(out.end(), m.events().begin(), m.events().end());
    return out;
  }
  static size_t Count(const std::vector<v1::SubscribeResponse>& ms) {
    size_t n = 0;
    for (const auto& m : ms) n += m.events_size();
    return n;
  }

 private:
  std::unique_ptr<v1::StreamService::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> stream_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<v1::SubscribeResponse> messages_;  // guarded by mu_
  grpc::Status status_;                          // guarded by mu_
  bool ended_ = false;                           // guarded by mu_
};

inline v1::SubscribeRequest SubscribeAfter(uint64_t cursor) {
  v1::SubscribeRequest r;
  r.set_after_cursor(cursor);
  return r;
}

}  // namespace fedhub::testing

#endif  // FEDHUB_TESTS_INTEGRATION_STREAM_UTIL_H_
