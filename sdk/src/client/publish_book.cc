#include "client/publish_book.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "core/strings.h"

namespace fedhub::client {
namespace {

// A status from a google.rpc.Code number the hub sent.
absl::Status HubStatus(int32_t code, const std::string& message) {
  if (code < 1 || code > 16) {
    return absl::UnknownError(Cat("the hub refused with code ", code, ": ", message));
  }
  return absl::Status(static_cast<absl::StatusCode>(code), message);
}

// A breach of the protocol is the hub's bug: repeating the batch would meet it again.
constexpr const char* kReport = "; the publisher stopped (a hub bug: report it)";

}  // namespace

void PublishBook::Add(v1::PublishEvent event, size_t bytes, TimePoint now,
                      std::promise<PublishResult> promise) {
  queue_.push_back(Pending{.seq = next_seq_++,
                           .event = std::move(event),
                           .bytes = bytes,
                           .queued_at = now,
                           .promise = std::move(promise)});
  queued_bytes_ += bytes;
  ++outstanding_;
}

uint64_t PublishBook::OldestUnresolved() const {
  uint64_t oldest = std::numeric_limits<uint64_t>::max();
  // At most max_in_flight_batches, and not necessarily in publishing order.
  for (const Batch& b : in_flight_) oldest = std::min(oldest, b.first_seq());
  if (!resend_.empty()) oldest = std::min(oldest, resend_.front().first_seq());
  if (!queue_.empty()) oldest = std::min(oldest, queue_.front().seq);
  return oldest;
}

std::shared_ptr<const v1::PublishRequest> PublishBook::SendNext() {
  if (!resend_.empty()) {
    in_flight_.push_back(std::move(resend_.front()));
    resend_.pop_front();
  } else {
    in_flight_.push_back(Cut());
  }
  return in_flight_.back().request;
}

PublishBook::Batch PublishBook::Cut() {
  Batch batch;
  batch.id = next_batch_id_++;
  auto request = std::make_shared<v1::PublishRequest>();
  request->set_batch_id(batch.id);
  size_t bytes = 0;
  while (!queue_.empty() && batch.seqs.size() < max_batch_events_ &&
         (batch.seqs.empty() || bytes + queue_.front().bytes <= max_batch_bytes_)) {
    Pending& p = queue_.front();
    bytes += p.bytes;
    queued_bytes_ -= p.bytes;
    *request->add_events() = std::move(p.event);
    batch.seqs.push_back(p.seq);
    batch.promises.push_back(std::move(p.promise));
    queue_.pop_front();
  }
  batch.request = std::move(request);
  return batch;
}

absl::Status PublishBook::Answer(const v1::PublishResponse& ack, PublisherStats& stats) {
  if (in_flight_.empty()) {
    return absl::InternalError(Cat("the hub answered batch ", ack.batch_id(),
                                   " but no batch was awaiting an answer", kReport));
  }
  Batch& batch = in_flight_.front();
  if (ack.batch_id() != batch.id) {
    return absl::InternalError(Cat("the hub answered batch ", ack.batch_id(), " but batch ",
                                   batch.id, " was sent before it", kReport));
  }
  switch (ack.outcome_case()) {
    case v1::PublishResponse::kAccepted: {
      const v1::BatchAccepted& accepted = ack.accepted();
      if (static_cast<size_t>(accepted.offsets_size()) != batch.seqs.size()) {
        return absl::InternalError(Cat("the hub accepted batch ", batch.id, " with ",
                                       accepted.offsets_size(), " offsets for ", batch.seqs.size(),
                                       " events", kReport));
      }
      for (size_t i = 0; i < batch.promises.size(); ++i) {
        batch.promises[i].set_value(accepted.offsets(static_cast<int>(i)));
      }
      outstanding_ -= batch.seqs.size();
      stats.events_acknowledged += batch.seqs.size();
      stats.events_duplicate += accepted.duplicates();
      break;
    }
    case v1::PublishResponse::kRefused:
      Refused(batch, ack.refused(), stats);
      break;
    default:
      return absl::InternalError(
          Cat("the hub answered batch ", batch.id, " with neither accepted nor refused", kReport));
  }
  in_flight_.pop_front();
  return absl::OkStatus();
}

void PublishBook::Refused(Batch& batch, const v1::BatchRefused& refused, PublisherStats& stats) {
  ++stats.batches_refused;
  const size_t n = batch.seqs.size();
  std::vector<std::optional<absl::Status>> errors(n);
  bool named = !refused.errors().empty();
  for (const v1::EventError& e : refused.errors()) {
    if (e.index() >= n ||
        (!e.event_id().empty() && e.event_id() != batch.request->events(e.index()).event_id())) {
      named = false;
      break;
    }
    if (!errors[e.index()]) errors[e.index()] = HubStatus(e.code(), e.message());
  }
  if (!named) {
    // The refusal does not say which events are bad: each carries the batch's reason rather
    // than being re-sent into the same refusal.
    const absl::Status all = HubStatus(refused.code(), refused.message());
    for (auto& e : errors) e = all;
  }
  Batch rest;
  auto request = std::make_shared<v1::PublishRequest>();
  for (size_t i = 0; i < n; ++i) {
    if (errors[i]) {
      batch.promises[i].set_value(std::move(*errors[i]));
      --outstanding_;
      ++stats.events_failed;
      continue;
    }
    *request->add_events() = batch.request->events(static_cast<int>(i));
    rest.seqs.push_back(batch.seqs[i]);
    rest.promises.push_back(std::move(batch.promises[i]));
  }
  if (rest.seqs.empty()) return;
  rest.id = next_batch_id_++;
  request->set_batch_id(rest.id);
  rest.request = std::move(request);
  InsertResend(std::move(rest));
}

void PublishBook::InsertResend(Batch batch) {
  auto at = std::upper_bound(resend_.begin(), resend_.end(), batch.first_seq(),
                             [](uint64_t seq, const Batch& b) { return seq < b.first_seq(); });
  resend_.insert(at, std::move(batch));
}

void PublishBook::ReturnInFlight() {
  while (!in_flight_.empty()) {
    InsertResend(std::move(in_flight_.front()));
    in_flight_.pop_front();
  }
}

void PublishBook::FailAll(const absl::Status& status, PublisherStats& stats) {
  auto fail = [&](std::deque<Batch>& batches) {
    for (Batch& b : batches) {
      for (auto& p : b.promises) p.set_value(status);
      stats.events_failed += b.promises.size();
    }
    batches.clear();
  };
  fail(in_flight_);
  fail(resend_);
  for (Pending& p : queue_) p.promise.set_value(status);
  stats.events_failed += queue_.size();
  queue_.clear();
  queued_bytes_ = 0;
  outstanding_ = 0;
}

}  // namespace fedhub::client
