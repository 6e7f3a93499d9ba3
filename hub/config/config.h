// fedhubd's configuration: a plain struct with defaults that work on a laptop, read
// from a YAML file, then overridden by command-line flags.
#ifndef FEDHUB_HUB_CONFIG_CONFIG_H_
#define FEDHUB_HUB_CONFIG_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace fedhub::config {

// Upper bound of stream_max_batch_events: a larger value is refused at startup.
inline constexpr int kMaxStreamBatchEvents = 10000;

struct HubConfig {
  // gRPC address, mutual TLS. Port 0 picks a free port (see port_file).
  std::string listen = "127.0.0.1:7443";
  // Plaintext address serving only grpc.health.v1 (for Kubernetes probes); empty: off.
  std::string health_listen;
  // Prometheus /metrics address; empty: off.
  std::string metrics_listen = "127.0.0.1:9464";
  // RocksDB data directory.
  std::string data_dir = ".fedhub/data";
  // TLS material (PEM). The CA verifies client certificates.
  std::string tls_cert = ".fedhub/certs/hub.crt";
  std::string tls_key = ".fedhub/certs/hub.key";
  std::string tls_ca = ".fedhub/certs/ca.crt";
  // Ed25519 key that signs receipts; created on first start if missing.
  std::string signing_key = ".fedhub/signing.key";
  // Operators that are admins without being registered.
  std::vector<std::string> bootstrap_admins = {"operator"};
  // Link tickets are redeemable this long.
  int ticket_ttl_seconds = 600;
  // Longest consent lifetime, and the default when a grant names none.
  int max_consent_days = 730;
  // If set, the hub writes "<grpc port>\n<metrics port>\n<health port>\n" here once
  // it listens (for tests and scripts that start it on port 0).
  std::string port_file;
  // Event log retention: events older than this many hours are removed (0: no age limit)...
  int stream_retention_hours = 168;
  // ...and the oldest are removed once the log holds more than this many MiB (0: no limit).
  int stream_retention_mb = 1024;
  // How often retention by age is applied.
  int stream_trim_interval_seconds = 10;
  // Newest events kept in memory, in one window shared by all subscribers; a subscriber
  // further behind is served from the durable log until it is back inside the window.
  int stream_subscriber_buffer_events = 100000;
  // How often a head of the audit tree is signed if the tree has grown (0: only on request).
  int tree_head_interval_seconds = 60;
  // Most events in one published batch: 1 to kMaxStreamBatchEvents.
  int stream_max_batch_events = 1000;
  // gRPC server threads (sync handlers block on group commit).
  int max_threads = 256;
};

// Reads a YAML file whose keys are the field names above. Unknown keys are errors, so a
// typo never silently leaves a default in place.
absl::StatusOr<HubConfig> LoadFile(const std::string& path, HubConfig base = {});

// Applies --key=value / --key value flags (same names, '-' or '_'); `--config FILE` is
// read first wherever it appears. Returns INVALID_ARGUMENT with usage on bad flags.
absl::StatusOr<HubConfig> FromArgs(int argc, char** argv);

std::string Usage();

}  // namespace fedhub::config

#endif  // FEDHUB_HUB_CONFIG_CONFIG_H_
