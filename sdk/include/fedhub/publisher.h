// fedhub::Publisher: publishes profile and catalogue changes over StreamService.Publish, in
// batches, and tells each event's caller where the hub stored it.
//
//   auto client = fedhub::Client::Connect(
//       fedhub::ClientOptions::ForPrincipal("/etc/fedhub/certs", "store", "hub:7443"));
//   if (!client.ok()) return client.status();
//   auto publisher = client->NewPublisher();                 // fedhub::PublisherOptions{}
//   if (!publisher.ok()) return publisher.status();
//
//   fedhub::v1::PublishEvent event;
//   event.set_event_id("item-42-v7");                        // unique among your events
//   fedhub::v1::CatalogueItem* item = event.mutable_catalogue()->mutable_item();
//   item->set_item_id("item-42");
//   item->set_kind(fedhub::v1::ITEM_KIND_TEMPLATE);
//   item->set_title("Invoice template");
//   item->set_currency("EUR");
//   item->set_language("en");
//   std::future<absl::StatusOr<uint64_t>> stored = (*publisher)->Publish(std::move(event));
//   ...                                                      // publish more; they share batches
//   absl::StatusOr<uint64_t> offset = stored.get();          // once its batch is durable
//   if (!offset.ok()) return offset.status();                // the hub's code and message
//   absl::Status closed = (*publisher)->Close();             // flushes; the destructor does too
//
// Delivery: the hub stores an event id once, so the publisher re-sends freely. After a
// retryable stream failure it reconnects and re-sends every unacknowledged batch with the
// same event ids: each event is stored exactly once, and its future resolves once. An event
// the hub refuses (a bad field, an unknown person) fails only its own future; the other
// events of its batch are re-sent. Keep event ids stable across your own retries too
// (derive them from what changed, e.g. item id + version) and a crash between publishing and
// recording success is harmless: publish again.
//
// Order: batches are stored in the order they are sent. When the hub refuses a batch
// because of some of its events, the rest of that batch is re-sent ahead of anything not
// yet sent, but after the batches already in flight behind it; set
// max_in_flight_batches = 1 when events must be stored strictly in publishing order even
// then. (Subscribers apply a profile change only if its version is newer, so profile
// changes need no strict order.)
//
// Thread-safety: Publish, Flush, stats and Close may be called from many threads at once.
#ifndef FEDHUB_PUBLISHER_H_
#define FEDHUB_PUBLISHER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fedhub/connection.h"
#include "fedhub/options.h"
#include "fedhub/v1/stream.pb.h"

namespace fedhub {

struct PublisherOptions {
  // Most events per batch: 1 to 1,000 (the hub's limit).
  size_t max_batch_events = 500;
  // Most serialized bytes of events per batch, so that a batch stays under the hub's
  // message size limit (gRPC's default is 4 MiB); at least 1 KiB. An event larger than this
  // is refused by Publish with INVALID_ARGUMENT.
  size_t max_batch_bytes = 3 * 1024 * 1024;
  // How long a batch that is not full waits for more events, counted from its oldest
  // event: 0 to 1 hour. Flush and Close end the wait.
  std::chrono::microseconds linger{2000};
  // Batches sent and not yet acknowledged, at most; at least 1.
  size_t max_in_flight_batches = 8;
  // Events published and not yet acknowledged or failed, at most; Publish blocks while
  // this many are outstanding. At least max_batch_events.
  size_t max_buffered_events = 100000;
  // Pacing of reconnections after the stream fails. A streak of failed reconnections longer
  // than total_timeout fails the pending events with the last error (the publisher stays
  // usable: the next event starts a new streak). max_attempts is not used.
  RetryPolicy reconnect;
};

// Counters since Start.
struct PublisherStats {
  // Events whose batch the hub stored (including events it had stored before).
  uint64_t events_acknowledged = 0;
  // Of those, events the hub had stored before (re-sent after a lost acknowledgement).
  uint64_t events_duplicate = 0;
  // Events whose future holds an error.
  uint64_t events_failed = 0;
  // Batches written to a stream, re-sends included.
  uint64_t batches_sent = 0;
  // Batches the hub refused as a whole because of some of their events.
  uint64_t batches_refused = 0;
  // Streams opened again after a stream failed.
  uint64_t reconnects = 0;
};

class Publisher {
 public:
  // Checks `options` (INVALID_ARGUMENT naming the field) and starts the publisher's threads.
  // The stream is opened when the first batch is ready, and again after it fails.
  static absl::StatusOr<std::unique_ptr<Publisher>> Start(std::shared_ptr<Connection> connection,
                                                          PublisherOptions options = {});

  // Closes (see Close).
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Queues `event` for the next batch. Blocks while max_buffered_events are outstanding.
  // The future resolves with the event's offset in the hub's event log once its batch is
  // durable (an event stored before keeps its first offset), or with the event's error:
  //   INVALID_ARGUMENT  at once, for an event_id that is not 1 to 128 printable ASCII
  //                     characters without spaces, a missing payload, or an event larger than
  //                     max_batch_bytes; later, for what the hub refused (its message names
  //                     the field);
  //   NOT_FOUND, ALREADY_EXISTS ...  the hub's code and message for this event;
  //   the stream's error when the hub refused the stream as a whole (PERMISSION_DENIED,
  //   UNAUTHENTICATED, ...: every later Publish fails with it too) or stayed unreachable
  //   longer than the reconnect policy's total_timeout;
  //   FAILED_PRECONDITION  after Close has started.
  std::future<absl::StatusOr<uint64_t>> Publish(v1::PublishEvent event);

  // Blocks until every event published before the call is acknowledged or failed (each
  // future tells which), sending partly filled batches without lingering. Returns OK, or the
  // error that failed the publisher as a whole.
  absl::Status Flush();

  // Flushes, ends the stream (the hub answers every batch first) and stops the threads. Later
  // Publish calls fail; calling Close again returns the same result. Returns OK, or the error
  // that failed the publisher as a whole. While the hub is unreachable this waits for the
  // reconnect policy to give up.
  absl::Status Close();

  PublisherStats stats() const;

 private:
  class Impl;
  explicit Publisher(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace fedhub

#endif  // FEDHUB_PUBLISHER_H_
