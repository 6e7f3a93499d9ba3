// fedhub::Subscription: receives, in log order, the profile changes, erasure notices and
// catalogue changes the caller may see (StreamService.Subscribe), on a thread of its own,
// and resumes after a dropped stream from the last cursor it committed.
//
//   uint64_t cursor = LoadCursorFromMyDatabase();            // 0 the first time
//   fedhub::SubscriptionOptions options;
//   options.request.set_after_cursor(cursor);
//   auto subscription = client.Subscribe(
//       options,
//       [&](const fedhub::v1::SubscribeResponse& message) -> absl::Status {
//         for (const fedhub::v1::DeliveredEvent& event : message.events()) {
//           if (event.has_erasure()) {
//             EraseFromMyDatabase(event.erasure());
//             auto ack = client.AcknowledgeErasure(event.erasure().notice_id());
//             if (!ack.ok()) return ack.status();             // ends the subscription
//           } else {
//             ApplyToMyDatabase(event);                      // idempotent: by id and version
//           }
//         }
//         return absl::OkStatus();
//       },
//       [&](uint64_t cursor) { return StoreCursorInMyDatabase(cursor); });
//   ...
//   subscription->Stop();                                    // from any thread
//   absl::Status ended = subscription->Wait();               // OK after Stop
//
// Cursor: persist the cursor in the hook, with your own writes; or persist it inside the
// handler in the same transaction as the data (message.cursor(), unless message.snapshot()
// is set and message.snapshot_complete() is not) and leave the hook empty. After a restart,
// subscribe with after_cursor = the persisted cursor: nothing is missed and nothing past
// that cursor is delivered twice.
//
// Delivery: the handler runs on the subscription's thread, one message at a time, in log
// order. A message with no events only advances the cursor; the handler still sees it, so it
// can persist the cursor. After a dropped stream the subscription reconnects with
// after_cursor = the last committed cursor and never hands the handler an event at or
// before it; a message handled but not committed (the hook had not run, or the process
// stopped) can be delivered again, so apply events idempotently. A catalogue snapshot
// (request.catalogue_snapshot) that breaks off before its snapshot_complete message starts
// over, so its items can arrive twice too.
//
// Thread-safety: Stop and committed_cursor may be called from any thread, including the
// handler (Stop then takes effect once the handler returns). Wait must not be called from
// the handler or the hook.
#ifndef FEDHUB_SUBSCRIPTION_H_
#define FEDHUB_SUBSCRIPTION_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "fedhub/connection.h"
#include "fedhub/options.h"
#include "fedhub/v1/stream.pb.h"

namespace fedhub {

struct SubscriptionOptions {
  // The first request: where to start (after_cursor, from_now or catalogue_snapshot; unset
  // means after_cursor 0, the oldest event retained), which kinds, the catalogue filter and
  // max_events_per_message. Reconnections send the same request with after_cursor set to
  // the last committed cursor; until a cursor has been committed, they send this request
  // again (with from_now, events published while disconnected are then skipped).
  v1::SubscribeRequest request;
  // Pacing of reconnections. The subscription ends with the last error when reconnecting
  // kept failing for total_timeout in a row. max_attempts is not used.
  RetryPolicy reconnect;
};

class Subscription {
 public:
  // Called for each message, in order. An error ends the subscription with that error; the
  // message's cursor is not committed.
  using Handler = std::function<absl::Status(const v1::SubscribeResponse& message)>;
  // Called with a message's cursor after the handler returned OK for it, when the cursor
  // may be stored (not during a catalogue snapshot, until its snapshot_complete message).
  // Persist the cursor here. An error ends the subscription with that error, and the
  // cursor counts as not committed.
  using CursorHook = std::function<absl::Status(uint64_t cursor)>;

  // Starts the subscription's thread, which opens the stream at once. Never null. Bad
  // arguments (a null connection or handler, max_events_per_message above 1,000) end the
  // subscription at once with INVALID_ARGUMENT, reported by Wait.
  //
  // The subscription ends:
  //   - OK, after Stop;
  //   - with the stream's status when the hub refuses it: OUT_OF_RANGE (the cursor is older
  //     than the log retains; the hub's message names the oldest valid cursor),
  //     PERMISSION_DENIED, UNAUTHENTICATED, INVALID_ARGUMENT, or any other code that is not
  //     a transient one;
  //   - with the handler's or the hook's error;
  //   - with the last transient error (UNAVAILABLE, ABORTED, DEADLINE_EXCEEDED,
  //     RESOURCE_EXHAUSTED, a CANCELLED it did not ask for, or a clean end of the stream)
  //     once reconnecting kept failing for reconnect.total_timeout.
  static std::unique_ptr<Subscription> Start(std::shared_ptr<Connection> connection,
                                             SubscriptionOptions options, Handler handler,
                                             CursorHook commit_cursor = nullptr);

  // Stops and waits for the thread.
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Blocks until the subscription has ended; returns why (see Start). Callable many times,
  // from several threads.
  absl::Status Wait();

  // Ends the subscription: cancels the open stream (or the wait before reconnecting). The
  // message being handled, if any, is finished and committed; no later message reaches the
  // handler. Returns at once; Wait then returns OK, unless the subscription had already
  // ended for another reason.
  void Stop();

  // The last committed cursor: the starting after_cursor until the first commit, 0 when the
  // subscription started from_now or with a snapshot and nothing was committed yet.
  uint64_t committed_cursor() const;

 private:
  class Impl;
  explicit Subscription(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace fedhub

#endif  // FEDHUB_SUBSCRIPTION_H_
