#include "server/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <grpcpp/support/status.h>

#include <mutex>

namespace fedhub::server {
namespace {

const char* CodeName(int code) {
  static const char* const kNames[] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
      "UNAUTHENTICATED"};
  return code >= 0 && code <= 16 ? kNames[code] : "UNKNOWN";
}

// Storage counters are read from the store when Prometheus scrapes, so the commit path
// pays nothing for them.
class StorageCollector : public prometheus::Collectable {
 public:
  explicit StorageCollector(const storage::Store* store) : store_(store) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    storage::StoreStats s = store_->stats();
    auto counter = [](std::string name, std::string help, double v) {
      prometheus::MetricFamily f;
      f.name = std::move(name);
      f.help = std::move(help);
      f.type = prometheus::MetricType::Counter;
      prometheus::ClientMetric m;
      m.counter.value = v;
      f.metric.push_back(m);
      return f;
    };
    return {
        counter("fedhub_storage_commits_total", "Transactions made durable.", s.commits),
        counter("fedhub_storage_write_groups_total",
                "Synced WriteBatches written (group commits).", s.groups),
        counter("fedhub_storage_failed_write_groups_total",
                "WriteBatches RocksDB refused; every transaction in them failed.", s.failed_groups),
        counter("fedhub_rocksdb_write_stall_seconds_total",
                "Time RocksDB stalled writes (STALL_MICROS).", s.stall_micros / 1e6),
    };
  }

 private:
  const storage::Store* store_;
};

}  // namespace

struct Metrics::Rep {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::shared_ptr<StorageCollector> storage;
  prometheus::Family<prometheus::Counter>& rpcs =
      prometheus::BuildCounter().Name("fedhub_rpc_requests_total")
          .Help("RPCs handled, by method and gRPC status code.").Register(*registry);
  prometheus::Family<prometheus::Histogram>& latency =
      prometheus::BuildHistogram().Name("fedhub_rpc_duration_seconds")
          .Help("Time to handle an RPC, by method.").Register(*registry);
  prometheus::Family<prometheus::Counter>& checks =
      prometheus::BuildCounter().Name("fedhub_consent_checks_total")
          .Help("Consent checks, by outcome.").Register(*registry);
  prometheus::Family<prometheus::Counter>& audit =
      prometheus::BuildCounter().Name("fedhub_audit_entries_total")
          .Help("Audit entries made durable, by outcome.").Register(*registry);
  prometheus::Family<prometheus::Gauge>& streams =
      prometheus::BuildGauge().Name("fedhub_open_streams")
          .Help("Server streams currently open.").Register(*registry);
  prometheus::Family<prometheus::Counter>& events =
      prometheus::BuildCounter().Name("fedhub_stream_events_total")
          .Help("Stream events: published (stored) and delivered (sent to a subscriber).")
          .Register(*registry);
  prometheus::Counter& events_published = events.Add({{"direction", "published"}});
  prometheus::Counter& events_delivered = events.Add({{"direction", "delivered"}});
  prometheus::Counter& checks_allowed = checks.Add({{"outcome", "allowed"}});
  prometheus::Counter& checks_denied = checks.Add({{"outcome", "denied"}});
  prometheus::Counter& audit_allowed = audit.Add({{"outcome", "allowed"}});
  prometheus::Counter& audit_denied = audit.Add({{"outcome", "denied"}});
  prometheus::Gauge& open_streams = streams.Add({});
  std::unique_ptr<prometheus::Exposer> exposer;

  // Families look metrics up by label set under their own lock; caching the handles
  // keeps that lock off the hot path after the first call per (method, code).
  std::mutex mu;
  std::map<std::pair<std::string, int>, prometheus::Counter*> rpc_counters;
  std::map<std::string, prometheus::Histogram*> histograms;
};

Metrics::Metrics(const storage::Store* store) : rep_(std::make_unique<Rep>()) {
  rep_->storage = std::make_shared<StorageCollector>(store);
}

Metrics::~Metrics() = default;

void Metrics::ObserveRpc(std::string_view method, int code, double seconds) {
  prometheus::Counter* counter;
  prometheus::Histogram* histogram;
  {
    std::lock_guard lock(rep_->mu);
    auto key = std::make_pair(std::string(method), code);
    auto it = rep_->rpc_counters.find(key);
    if (it == rep_->rpc_counters.end()) {
      it = rep_->rpc_counters
               .emplace(key, &rep_->rpcs.Add({{"method", key.first}, {"code", CodeName(code)}}))
               .first;
    }
    counter = it->second;
    auto hit = rep_->histograms.find(key.first);
    if (hit == rep_->histograms.end()) {
      static const prometheus::Histogram::BucketBoundaries kBuckets{
          0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
      hit = rep_->histograms.emplace(key.first, &rep_->latency.Add({{"method", key.first}}, kBuckets))
                .first;
    }
    histogram = hit->second;
  }
  counter->Increment();
  histogram->Observe(seconds);
}

void Metrics::ConsentCheck(bool allowed) {
  (allowed ? rep_->checks_allowed : rep_->checks_denied).Increment();
}
void Metrics::AuditEntry(bool allowed) {
  (allowed ? rep_->audit_allowed : rep_->audit_denied).Increment();
}
void Metrics::StreamOpened() { rep_->open_streams.Increment(); }
void Metrics::StreamClosed() { rep_->open_streams.Decrement(); }
void Metrics::EventsPublished(size_t n) { rep_->events_published.Increment(static_cast<double>(n)); }
void Metrics::EventsDelivered(size_t n) { rep_->events_delivered.Increment(static_cast<double>(n)); }

void Metrics::Serve(const std::string& address) {
  rep_->exposer = std::make_unique<prometheus::Exposer>(address);
  rep_->exposer->RegisterCollectable(rep_->registry);
  rep_->exposer->RegisterCollectable(rep_->storage);
}

int Metrics::port() const {
  if (!rep_->exposer) return 0;
  auto ports = rep_->exposer->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

prometheus::Registry& Metrics::registry() { return *rep_->registry; }

}  // namespace fedhub::server
