// End to end: fedhubd killed with SIGKILL while a publisher and a subscriber stream, then
// restarted on the same data directory. Nothing acknowledged is lost, a subscriber that
// committed its cursor resumes with no gap and no repeat, and re-sent batches are stored
// once. The streams are the SDK's raw ones (no retries, no deduplication), so what is
// checked is the hub's behaviour.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "stream_fixture.h"

namespace fedhub::e2e {
namespace {

using ::testing::SizeIs;
using Clock = std::chrono::steady_clock;

constexpr int kEventsPerBatch = 100;
constexpr size_t kBatchesInFlight = 4;
constexpr size_t kEventsBeforeKill = 3000;
// Bounds every wait: a guard against a hang, never a synchronisation.
constexpr auto kGuard = std::chrono::seconds(15);

// Event k of the run: even ones change u-17's profile (consented to store), odd ones one of
// 50 catalogue items (shared with store). Event ids are stable, so a batch can be re-sent.
v1::PublishRequest MakeBatch(uint64_t batch_id) {
  v1::PublishRequest batch;
  batch.set_batch_id(batch_id);
  for (int i = 0; i < kEventsPerBatch; ++i) {
    const uint64_t k = (batch_id - 1) * kEventsPerBatch + i;
    *batch.add_events() =
        k % 2 == 0 ? ProfileEvent("p-" + std::to_string(k), "u-17", static_cast<int64_t>(k) + 1)
                   : ItemEvent("i-" + std::to_string(k), "item-" + std::to_string(k % 50),
                               v1::ITEM_KIND_COURSE);
  }
  return batch;
}

// k of "p-k" or "i-k".
uint64_t EventNumber(const std::string& event_id) { return std::stoull(event_id.substr(2)); }

// Publishes batch after batch on one Publish stream, kBatchesInFlight at a time, until the
// stream breaks; records every acknowledged event's offset and the batches left unanswered.
// Thread-safety: the public methods may be called from any thread.
class ContinuousPublisher {
 public:
  explicit ContinuousPublisher(Client& client) : stream_(client.OpenPublishStream()) {
    reader_ = std::thread([this] { ReadAcks(); });
    writer_ = std::thread([this] { WriteBatches(); });
  }
  ~ContinuousPublisher() {
    if (writer_.joinable()) stream_->Cancel();
    Join();
  }

  bool WaitForAcknowledged(size_t events) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kGuard, [&] { return acked_.size() >= events || ended_; }) &&
           acked_.size() >= events;
  }

  // Waits for the stream to end (the hub is gone) and for both threads.
  void Join() {
    if (!writer_.joinable()) return;
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait_for(lock, kGuard, [&] { return ended_; })) {
        ADD_FAILURE() << "the Publish stream did not end after the hub was killed";
        stream_->Cancel();
      }
    }
    reader_.join();
    writer_.join();
    (void)stream_->Finish();
  }

  // After Join.
  const std::map<std::string, uint64_t>& acked() const { return acked_; }
  const std::deque<v1::PublishRequest>& unacked() const { return in_flight_; }
  const v1::PublishRequest& last_acked() const { return last_acked_; }
  const std::string& problem() const { return problem_; }
  const std::string& out_of_order() const { return out_of_order_; }

 private:
  void WriteBatches() {
    for (uint64_t id = 1;; ++id) {
      v1::PublishRequest batch = MakeBatch(id);
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return in_flight_.size() < kBatchesInFlight || ended_; });
        if (ended_) return;
        in_flight_.push_back(batch);
      }
      if (!stream_->Write(batch)) return;  // the reader sees the end too
    }
  }

  // Matches each acknowledgement to its batch by id. One that is not for the oldest batch in
  // flight breaks the contract (acknowledgements come in sending order) and is recorded in
  // out_of_order_; the run goes on, so the durability checks still run.
  void ReadAcks() {
    v1::PublishResponse ack;
    while (stream_->Read(&ack)) {
      std::lock_guard lock(mu_);
      auto batch = std::find_if(in_flight_.begin(), in_flight_.end(),
                                [&](const auto& b) { return b.batch_id() == ack.batch_id(); });
      if (batch == in_flight_.end() || !ack.has_accepted() ||
          ack.accepted().offsets_size() != batch->events_size()) {
        problem_ = "an acknowledgement for no batch in flight, or not an acceptance: " +
                   ack.ShortDebugString().substr(0, 200);
        stream_->Cancel();
        break;
      }
      if (batch != in_flight_.begin() && out_of_order_.empty()) {
        out_of_order_ = "batch " + std::to_string(ack.batch_id()) + " was acknowledged (offsets " +
                        std::to_string(ack.accepted().offsets(0)) + "..) while batch " +
                        std::to_string(in_flight_.front().batch_id()) +
                        ", sent before it on the same stream, was not";
      }
      for (int i = 0; i < batch->events_size(); ++i) {
        acked_[batch->events(i).event_id()] = ack.accepted().offsets(i);
      }
      last_acked_ = *batch;
      in_flight_.erase(batch);
      cv_.notify_all();
    }
    std::lock_guard lock(mu_);
    ended_ = true;
    cv_.notify_all();
  }

  std::unique_ptr<PublishStream> stream_;
  std::thread reader_, writer_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, uint64_t> acked_;     // guarded by mu_
  std::deque<v1::PublishRequest> in_flight_;  // guarded by mu_: sent, not acknowledged
  v1::PublishRequest last_acked_;             // guarded by mu_
  std::string problem_;                       // guarded by mu_
  std::string out_of_order_;                  // guarded by mu_
  bool ended_ = false;                        // guarded by mu_
};

struct Seen {
  uint64_t offset;
  std::string event_id;
  bool operator==(const Seen& o) const { return offset == o.offset && event_id == o.event_id; }
};

// A subscriber that "commits" each message's cursor right after taking its events, as an
// application storing both in one transaction would.
// Thread-safety: the public methods may be called from any thread.
class CommittingSubscriber {
 public:
  CommittingSubscriber(Client& client, uint64_t after) {
    v1::SubscribeRequest request;
    request.set_after_cursor(after);
    stream_ = client.OpenSubscribeStream(request);
    reader_ = std::thread([this] {
      v1::SubscribeResponse message;
      while (stream_->Read(&message)) {
        std::lock_guard lock(mu_);
        for (const v1::DeliveredEvent& e : message.events()) {
          seen_.push_back({e.offset(), e.event_id()});
        }
        committed_ = message.cursor();
        cv_.notify_all();
      }
      std::lock_guard lock(mu_);
      ended_ = true;
      cv_.notify_all();
    });
  }
  ~CommittingSubscriber() { Cancel(); }

  bool WaitForEvents(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kGuard, [&] { return seen_.size() >= n || ended_; }) &&
           seen_.size() >= n;
  }
  // Until the cursor reaches `cursor`; false at the guard or if the stream ended first.
  bool WaitForCursor(uint64_t cursor) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kGuard, [&] { return committed_ >= cursor || ended_; }) &&
           committed_ >= cursor;
  }
  void Join() {
    if (!reader_.joinable()) return;
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait_for(lock, kGuard, [&] { return ended_; })) stream_->Cancel();
    }
    reader_.join();
    (void)stream_->Finish();
  }
  // Ends a live subscription (the hub is up).
  void Cancel() {
    if (!reader_.joinable()) return;
    stream_->Cancel();
    Join();
  }

  std::vector<Seen> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  uint64_t committed() const {
    std::lock_guard lock(mu_);
    return committed_;
  }

 private:
  std::unique_ptr<SubscribeStream> stream_;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Seen> seen_;  // guarded by mu_
  uint64_t committed_ = 0;  // guarded by mu_
  bool ended_ = false;      // guarded by mu_
};

// Everything `client` sees after `after`, up to the log's head now.
std::vector<Seen> ReadLog(Client& client, uint64_t after) {
  auto info = client.GetStreamInfo();
  EXPECT_TRUE(info.ok()) << info.status();
  if (!info.ok() || info->head_cursor() <= after) return {};
  CommittingSubscriber reader(client, after);
  EXPECT_TRUE(reader.WaitForCursor(info->head_cursor()))
      << "no cursor " << info->head_cursor() << " within the guard; got " << reader.committed();
  reader.Cancel();
  return reader.seen();
}

std::string Describe(const std::vector<Seen>& seen) {
  std::string out = std::to_string(seen.size()) + " events";
  if (!seen.empty()) {
    out += ", offsets " + std::to_string(seen.front().offset) + ".." +
           std::to_string(seen.back().offset);
  }
  return out;
}

class KillTest : public StreamE2eTest {};

TEST_F(KillTest, SigkillMidStreamLosesNothingAcknowledgedAndResumesAfterTheCommittedCursor) {
  const auto started = Clock::now();
  ASSERT_NO_FATAL_FAILURE(Bootstrap());
  CtlOk("courses", {"catalogue", "share", "--with", "store"});

  std::map<std::string, uint64_t> acked;
  std::vector<v1::PublishRequest> unacked;
  v1::PublishRequest last_acked;
  std::vector<Seen> before_kill;
  uint64_t committed = 0;
  {
    auto courses = ClientFor("courses");
    auto store = ClientFor("store");
    ASSERT_TRUE(courses.ok() && store.ok());
    CommittingSubscriber subscriber(*store, 0);
    ContinuousPublisher publisher(*courses);
    ASSERT_TRUE(publisher.WaitForAcknowledged(kEventsBeforeKill)) << publisher.problem();
    ASSERT_TRUE(subscriber.WaitForEvents(kEventsBeforeKill / 3));
    ASSERT_EQ(hub_.Stop(SIGKILL), "signal 9");

    publisher.Join();
    subscriber.Join();
    EXPECT_EQ(publisher.problem(), "");
    EXPECT_EQ(publisher.out_of_order(), "") << "the hub acknowledges in sending order";
    acked = publisher.acked();
    unacked.assign(publisher.unacked().begin(), publisher.unacked().end());
    last_acked = publisher.last_acked();
    before_kill = subscriber.seen();
    committed = subscriber.committed();
  }
  ASSERT_GE(acked.size(), kEventsBeforeKill);
  ASSERT_FALSE(before_kill.empty());

  ASSERT_NO_FATAL_FAILURE(StartHub());
  auto courses = ClientFor("courses");
  auto store = ClientFor("store");
  ASSERT_TRUE(courses.ok() && store.ok());

  // From cursor 0: every acknowledged event, at its offset, once; and everything the
  // subscriber was given before the kill.
  const std::vector<Seen> log = ReadLog(*store, 0);
  std::map<std::string, uint64_t> stored;
  std::set<uint64_t> offsets;
  for (const Seen& s : log) {
    EXPECT_TRUE(stored.emplace(s.event_id, s.offset).second) << s.event_id << " delivered twice";
    EXPECT_TRUE(offsets.insert(s.offset).second) << "offset " << s.offset << " delivered twice";
  }
  for (size_t i = 1; i < log.size(); ++i) ASSERT_LT(log[i - 1].offset, log[i].offset);
  size_t lost = 0;
  for (const auto& [id, offset] : acked) {
    auto it = stored.find(id);
    if (it == stored.end() || it->second != offset) ++lost;
  }
  EXPECT_EQ(lost, 0u) << "of " << acked.size() << " acknowledged events; log has " << Describe(log);
  for (const Seen& s : before_kill) {
    auto it = stored.find(s.event_id);
    ASSERT_TRUE(it != stored.end() && it->second == s.offset)
        << s.event_id << " at " << s.offset << " was delivered before the kill, not kept";
  }

  // Batches of one stream are stored in the order they were sent: event numbers rise with
  // the offset.
  for (size_t i = 1; i < log.size(); ++i) {
    if (EventNumber(log[i - 1].event_id) > EventNumber(log[i].event_id)) {
      ADD_FAILURE() << log[i - 1].event_id << " is stored at " << log[i - 1].offset << ", before "
                    << log[i].event_id << " at " << log[i].offset << ", which was sent first";
      break;
    }
  }

  // Each unanswered batch is stored whole or not at all; nothing else is in the log.
  size_t unacked_stored = 0;
  std::set<std::string> sent_ids;
  for (const auto& [id, offset] : acked) sent_ids.insert(id);
  for (const v1::PublishRequest& batch : unacked) {
    int present = 0;
    for (const v1::PublishEvent& e : batch.events()) {
      present += stored.count(e.event_id()) > 0;
      sent_ids.insert(e.event_id());
    }
    EXPECT_TRUE(present == 0 || present == batch.events_size())
        << "batch " << batch.batch_id() << " is partly stored: " << present << " events";
    if (present > 0) ++unacked_stored;
  }
  for (const Seen& s : log) EXPECT_TRUE(sent_ids.count(s.event_id)) << s.event_id;

  // After the committed cursor: exactly the rest of the log, nothing at or before it.
  const std::vector<Seen> resumed = ReadLog(*store, committed);
  std::vector<Seen> rest;
  for (const Seen& s : log) {
    if (s.offset > committed) rest.push_back(s);
  }
  EXPECT_EQ(resumed, rest) << "resumed after " << committed << ": " << Describe(resumed)
                           << "; expected " << Describe(rest);
  std::vector<Seen> exactly_once = before_kill;
  exactly_once.insert(exactly_once.end(), resumed.begin(), resumed.end());
  EXPECT_EQ(exactly_once, log);

  // Re-sent with the same ids: the last acknowledged batch is all duplicates at its first
  // offsets; an unanswered batch is all duplicates or all new.
  ASSERT_GT(last_acked.events_size(), 0);
  ASSERT_TRUE(stored.count(last_acked.events(0).event_id()));
  size_t newly_stored = 0;
  {
    std::unique_ptr<PublishStream> stream = courses->OpenPublishStream();
    std::vector<v1::PublishRequest> again = {last_acked};
    again.insert(again.end(), unacked.begin(), unacked.end());
    for (const v1::PublishRequest& batch : again) {
      v1::PublishResponse ack;
      ASSERT_TRUE(stream->Write(batch) && stream->Read(&ack)) << stream->Finish();
      ASSERT_TRUE(ack.has_accepted()) << ack.ShortDebugString();
      const uint32_t duplicates = ack.accepted().duplicates();
      const bool was_stored = stored.count(batch.events(0).event_id()) > 0;
      EXPECT_EQ(duplicates, was_stored ? static_cast<uint32_t>(batch.events_size()) : 0u)
          << "batch " << batch.batch_id();
      for (int i = 0; i < batch.events_size() && was_stored; ++i) {
        EXPECT_EQ(ack.accepted().offsets(i), stored[batch.events(i).event_id()]);
      }
      if (!was_stored) newly_stored += batch.events_size();
    }
    stream->WritesDone();
    v1::PublishResponse none;
    EXPECT_FALSE(stream->Read(&none));
    EXPECT_TRUE(stream->Finish().ok());
  }
  const std::vector<Seen> after_resend = ReadLog(*store, 0);
  EXPECT_EQ(after_resend.size(), log.size() + newly_stored);
  std::set<std::string> ids;
  for (const Seen& s : after_resend) EXPECT_TRUE(ids.insert(s.event_id).second) << s.event_id;
  EXPECT_EQ(ids, sent_ids);

  RecordProperty("acknowledged_before_kill", static_cast<int>(acked.size()));
  RecordProperty("unanswered_batches", static_cast<int>(unacked.size()));
  RecordProperty("unanswered_batches_stored", static_cast<int>(unacked_stored));
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(30));
}

}  // namespace
}  // namespace fedhub::e2e
