// Exchange: what every example member platform does with the hub's streams, on the public
// SDK only — publishes its events (fedhub::Publisher), subscribes to what partners send it
// (fedhub::Subscription), applies that into its Received tables, erases on request and
// acknowledges, and keeps its stream cursor in a local state file together with the data
// applied up to it.
//
// The cursor pattern. The subscription calls the handler for each message, then the
// cursor-commit hook with the message's cursor. The handler applies the events to memory;
// the hook writes the state file — the cursor and every table it covers — in one atomic
// replacement. So the file never holds a cursor ahead of the data it stands for, and after
// a restart the platform subscribes with after_cursor = the file's cursor: nothing is missed,
// nothing it holds arrives twice. (Data may be ahead of the cursor, if the process stopped
// between handler and hook; those events come again and apply idempotently.)
//
// Erasure. An erasure notice is applied, and the state file rewritten, before the erasure is
// acknowledged, so an acknowledged erasure cannot come back from disk. If the
// acknowledgement fails the handler fails: the subscription ends without committing that
// message and the notice is delivered again on the next subscription.
//
// Every arrival also becomes a line in a journal the caller drains (TakeJournal) to tell
// the story in order.
//
// Thread-safety: thread-safe. The handler and the hook run on the subscription's thread;
// everything else may be called from any thread, Subscribe/Unsubscribe/Restart from one
// thread at a time.
#ifndef FEDHUB_EXAMPLES_COMMON_EXCHANGE_H_
#define FEDHUB_EXAMPLES_COMMON_EXCHANGE_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fedhub/client.h"
#include "fedhub/publisher.h"
#include "fedhub/subscription.h"
#include "received.h"

namespace fedhub_examples {

struct ExchangeOptions {
  // The platform's id, for the journal and the state file's comment.
  std::string platform_id;
  // What the platform calls its accounts in the journal: "learner", "customer".
  std::string person_noun = "user";
  // The local state file (cursor and received data). Its directory must exist.
  std::string state_file;
  // Publisher batching and reconnection; the defaults suit an interactive platform.
  fedhub::PublisherOptions publisher;
  // Pacing of the subscription's reconnections.
  fedhub::RetryPolicy reconnect;
};

class Exchange {
 public:
  // Loads the state file if there is one (DATA_LOSS if it does not parse) and starts the
  // publisher. Nothing is subscribed yet.
  static absl::StatusOr<std::unique_ptr<Exchange>> Open(fedhub::Client client, ExchangeOptions options);

  // Unsubscribes and closes the publisher (flushing what is pending).
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  // Publishes `events` (they share batches) and waits until each is durable or refused:
  // one result per event, in order — its offset in the hub's event log, or the hub's status.
  std::vector<absl::StatusOr<uint64_t>> Publish(std::vector<fedhub::v1::PublishEvent> events);

  // Subscribes to profile and catalogue streams: after the cursor of the state file, or, when
  // there is none, with a catalogue snapshot first. FAILED_PRECONDITION if subscribed.
  absl::Status Subscribe();
  // Stops the subscription (the message being handled is finished and committed) and
  // returns how it ended: OK, or the error that had ended it before.
  absl::Status Unsubscribe();
  // What a restarted process does: unsubscribes, forgets what is in memory, loads the state
  // file and subscribes after its cursor. Also the way to recover from a subscription that
  // ended with an error (a failed acknowledgement, the hub unreachable for too long): the
  // messages after the stored cursor come again. Delivery counts carry over.
  absl::Status Restart();

  // Blocks until `ready` holds over the received data (checked after every message the
  // subscription applies), or `timeout` passes (DEADLINE_EXCEEDED saying what was awaited),
  // or the subscription ends (its error). `ready` runs under the lock: keep it short.
  absl::Status WaitFor(const std::string& what, const std::function<bool(const Received&)>& ready,
                       std::chrono::milliseconds timeout);

  // Calls `read` with the received data under the lock.
  void Read(const std::function<void(const Received&)>& read) const;

  // Lines describing what arrived since the last call, oldest first.
  std::vector<std::string> TakeJournal();

  fedhub::PublisherStats publisher_stats() const { return publisher_->stats(); }
  const std::string& state_file() const { return options_.state_file; }
  // The state file's name without its directory, for messages.
  std::string state_file_name() const;

 private:
  Exchange(fedhub::Client client, ExchangeOptions options, Received received,
           std::unique_ptr<fedhub::Publisher> publisher);

  // The subscription's handler and cursor-commit hook.
  absl::Status Handle(const fedhub::v1::SubscribeResponse& message);
  absl::Status Commit(uint64_t cursor);
  absl::Status HandleErasure(const fedhub::v1::DeliveredEvent& event);
  // Writes the state file: the data in memory with `cursor`, or with the committed cursor
  // when unset; `cursor` is the committed one once the file is written. Subscription thread
  // only.
  absl::Status SaveState(std::optional<uint64_t> cursor);
  void Note(std::string line);  // requires mu_

  fedhub::Client client_;
  const ExchangeOptions options_;
  std::unique_ptr<fedhub::Publisher> publisher_;
  // Subscribe, Unsubscribe and Restart only.
  std::unique_ptr<fedhub::Subscription> subscription_;
  std::thread watcher_;  // waits for the subscription to end, to wake WaitFor

  mutable std::mutex mu_;
  std::condition_variable changed_;
  Received received_;                       // guarded by mu_
  std::vector<std::string> journal_;        // guarded by mu_
  std::optional<absl::Status> ended_;       // guarded by mu_: how the subscription ended
  bool in_snapshot_ = false;                // guarded by mu_: between snapshot messages
};

}  // namespace fedhub_examples

#endif  // FEDHUB_EXAMPLES_COMMON_EXCHANGE_H_
