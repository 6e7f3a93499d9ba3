// The servers and the load of the streaming benchmark.
//
// StreamFixture: the servers, in this process, on one set of development certificates: a
// real hub (a Hub with durable, synced writes on its own data directory and the mTLS gRPC
// server on 127.0.0.1:<free port>) and the plain relay (relay_server.h) with the same
// certificate and server credentials.
//
// On the hub, the bootstrap admin registers the publisher "courses" and the subscriber
// platforms ("shop", "audio", "tmpl", "design", then "sub-5", ...), each with its own
// client certificate, and "courses" names every person u-0 ... u-<people-1> by granting
// one consent per person to ANY member (empty target) covering PROFILE, LEARNING and
// INTERESTS for SYNC: every profile event of them goes to every subscriber, narrowed to
// those categories.
//
// StreamSession (stream_session.cc): one publisher and the subscribers on one server,
// driven through the generated StreamService stubs only, so the hub and the relay meet the
// same client code.
#ifndef FEDHUB_BENCH_STREAM_FIXTURE_H_
#define FEDHUB_BENCH_STREAM_FIXTURE_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "app/hub.h"
#include "bench_support.h"
#include "fedhub/v1/stream.pb.h"
#include "relay_server.h"
#include "server/server.h"

namespace fedhub::bench {

inline constexpr char kPublisher[] = "courses";

struct StreamFixtureOptions {
  // Holds certs/, hub-data/ and signing.key.
  std::string root;
  // People "courses" grants a consent for (hub only).
  int people = 2000;
  // Subscriber platforms, 1 to 16.
  int subscribers = 4;
  // Which servers to start.
  bool hub = true;
  bool relay = true;
  // Messages each relay subscriber may have waiting.
  size_t relay_queue_messages = 16;
};

// Thread-safety: the accessors are thread-safe once Start returned; destruction shuts
// both servers down (every open stream ends with UNAVAILABLE) and closes the hub.
class StreamFixture {
 public:
  static absl::StatusOr<std::unique_ptr<StreamFixture>> Start(const StreamFixtureOptions& options);
  ~StreamFixture();

  // The id of subscriber platform i (0-based).
  static std::string SubscriberId(int i);
  // The local user id of person i on "courses".
  static std::string PersonId(int i);

  const std::string& certs_dir() const { return certs_dir_; }
  const std::vector<std::string>& subscriber_ids() const { return subscriber_ids_; }
  // "127.0.0.1:<port>"; only for the servers that were started.
  std::string hub_endpoint() const;
  std::string relay_endpoint() const;
  Hub* hub() { return hub_.get(); }
  RelayServer* relay() { return relay_.get(); }

 private:
  StreamFixture() = default;
  absl::Status StartHub(const StreamFixtureOptions& options);
  absl::Status GrantConsents(int people, int threads);

  std::string certs_dir_;
  std::vector<std::string> subscriber_ids_;
  std::unique_ptr<Hub> hub_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<RelayServer> relay_;
};

// A channel of its own (its own TCP connection, not shared with other channels to the same
// address) to `endpoint`, over mutual TLS as principal `id` (certs_dir/<id>.crt and .key,
// checked against certs_dir/ca.crt).
absl::StatusOr<std::shared_ptr<grpc::Channel>> PrincipalChannel(const std::string& certs_dir,
                                                                const std::string& id,
                                                                const std::string& endpoint);

struct LoadOptions {
  // Certificates of the principals below (StreamFixture::certs_dir()).
  std::string certs_dir;
  std::string publisher_id = kPublisher;
  std::vector<std::string> subscriber_ids;
  // Events per PublishRequest, and the most events per SubscribeResponse asked for.
  int batch = 500;
  // Batches the publisher may have sent and not yet seen acknowledged.
  int window = 8;
  // The events cycle through these changes (event i: profiles[i % size]); each is sent with
  // its send time in `version`. Must outlive the session and not be empty.
  const std::vector<v1::ProfileChange>* profiles = nullptr;
};

// Figures of one measured phase, over events subscribers received in its window.
struct PhaseFigures {
  // Received by all subscribers together, per second of the window.
  double delivered_per_s = 0;
  // Events whose batch was sent in the window, per second.
  double published_per_s = 0;
  // Receipt time minus the send time in the event, microseconds.
  LatencyFigures latency_us;
  // User + system CPU of the whole process (servers and clients) per delivered event.
  double cpu_us_per_event = 0;
  // Events per SubscribeResponse that carried any.
  double events_per_message = 0;
};

// Thread-safety: not thread-safe; one thread runs the phases (it is the publisher's
// writer). The session's own threads read acknowledgements and subscriptions.
class StreamSession {
 public:
  // Opens a Publish stream as the publisher and one Subscribe stream (from_now, profile
  // events) per subscriber, each on its own channel, then publishes batches until every
  // subscriber has received one (the subscriptions are live).
  static absl::StatusOr<std::unique_ptr<StreamSession>> Open(const std::string& endpoint,
                                                             const LoadOptions& options);
  ~StreamSession();

  // A warm-up of `warmup_s`, then `seconds` measured: closed loop (only the window limits
  // the publisher) when `delivered_per_s` is 0, else batches paced so the subscribers
  // together receive `delivered_per_s` events per second. Returns once every subscriber
  // has received everything published.
  absl::StatusOr<PhaseFigures> RunPhase(double seconds, double warmup_s, double delivered_per_s);

  // Half-closes the Publish stream, waits for its status, then cancels the subscriptions.
  absl::Status Close();

 private:
  struct Rep;
  explicit StreamSession(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace fedhub::bench

#endif  // FEDHUB_BENCH_STREAM_FIXTURE_H_
