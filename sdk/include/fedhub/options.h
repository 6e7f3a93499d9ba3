// How a FedHub client connects and when it retries. Plain structs with documented
// defaults; pass them to fedhub::Client::Connect or fedhub::MakeGrpcConnection.
#ifndef FEDHUB_OPTIONS_H_
#define FEDHUB_OPTIONS_H_

#include <chrono>
#include <string>

namespace fedhub {

// Exponential backoff with jitter, bounded by attempts and by total time.
//
// Before retry n (n = 1 for the first retry) the client waits a delay drawn uniformly from
//   [nominal_n * (1 - jitter), nominal_n],  nominal_n = min(max_backoff,
//                                                      initial_backoff * multiplier^(n-1)).
// So the delay never exceeds max_backoff, jitter = 0 is deterministic and jitter = 1 is
// "full jitter" (uniform in [0, nominal]), which spreads many clients that failed together.
//
// Only idempotent calls are retried (every Get*, List*, Check*, Verify* call, GetHubInfo,
// and the two calls whose repetition changes nothing: AcknowledgeErasure records the first
// acknowledgement only, SetSharingPolicy replaces the whole policy), and only after
// UNAVAILABLE, ABORTED or DEADLINE_EXCEEDED. Calls that change state otherwise (Grant,
// Revoke, Register, Suspend, Reinstate, Create, Redeem, Unlink) run exactly once: the hub
// may have applied a change whose answer was lost, and repeating it could grant a second
// consent or burn a ticket. RESOURCE_EXHAUSTED is never retried: it means
// the request or the hub's limits must change, not the timing.
//
// fedhub::Publisher and fedhub::Subscription pace their stream reconnections with a
// RetryPolicy too (total_timeout bounds a streak of failed reconnections there); their
// headers say which stream ends they resume after.
struct RetryPolicy {
  // Attempts in total, including the first; values below 1 mean 1 (no retries).
  int max_attempts = 4;
  // Nominal delay before the first retry.
  std::chrono::milliseconds initial_backoff{50};
  // Upper bound of every delay.
  std::chrono::milliseconds max_backoff{2000};
  // Growth of the nominal delay per retry; values below 1 mean 1.
  double multiplier = 2.0;
  // Fraction of the nominal delay that is randomised away, clamped to [0, 1].
  double jitter = 0.2;
  // No retry starts (and no backoff sleep runs) past this time since the first attempt.
  // A started attempt is still bounded by ClientOptions::deadline, so a call returns
  // within roughly total_timeout + deadline.
  std::chrono::milliseconds total_timeout{15000};
};

// Where the hub is and who the caller is. The hub accepts only mutual TLS: the caller's
// certificate names it as spiffe://fedhub/<role>/<id>.
struct ClientOptions {
  // host:port of the hub (any gRPC target string works, e.g. "dns:///hub.internal:7443").
  std::string endpoint = "localhost:7443";
  // PEM file of the CA that issued the hub's certificate.
  std::string ca_cert_file;
  // PEM certificate chain and private key of this caller.
  std::string cert_file;
  std::string key_file;
  // Host name to check the hub's certificate against instead of the endpoint's host,
  // e.g. "localhost" when reaching a development hub through another address.
  std::string server_name_override;
  // Deadline of each unary call attempt. Streams (WatchConsents, Publish, Subscribe) have
  // none: they live until cancelled, and keepalive detects a dead connection.
  std::chrono::milliseconds deadline{5000};
  // Retries of idempotent calls; see RetryPolicy.
  RetryPolicy retry;

  // Options for principal `id` using the layout `fedhubctl dev-certs` writes:
  // <certs_dir>/ca.crt, <certs_dir>/<id>.crt, <certs_dir>/<id>.key.
  static ClientOptions ForPrincipal(const std::string& certs_dir, const std::string& id,
                                    const std::string& endpoint = "localhost:7443");
};

}  // namespace fedhub

#endif  // FEDHUB_OPTIONS_H_
