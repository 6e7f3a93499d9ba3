// fedhub_bench_consent: consent grants and checks against a real in-process hub over
// mutual-TLS gRPC, each figure printed beside a baseline measured in the same run on the
// same machine. See docs/benchmarks.md.
//
//   Grants: blocking GrantConsent calls (durable: the hub's group commit syncs the WAL)
//   from 1 and from --callers threads that share ONE fedhub::Client (one channel, one
//   HTTP/2 connection; --client-per-caller gives each its own), against raw RocksDB
//   synced WriteBatches of the same records from 1 and --callers writer threads, with
//   the layers in between (Store::Commit, ConsentManager::Grant) measured alone.
//   Checks: CheckConsent against grpc.health.v1.Health/Check, both on one mTLS channel
//   to the same server port: one caller alternating the two (latency), then each alone
//   from --check-callers threads (throughput).
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/support/byte_buffer.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "bench_support.h"
#include "core/strings.h"
#include "fedhub/v1/consent.grpc.pb.h"
#include "hub_fixture.h"
#include "identity/caller.h"
#include "raw_writes.h"

namespace fedhub::bench {
namespace {

constexpr double kGrantGoal = 0.30;       // hub grants/s >= 30% of the raw baseline
constexpr double kCheckP99GoalUs = 1000;  // CheckConsent p99 < 1 ms on loopback

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(5);
}

// One mTLS channel as platform "courses", carrying both CheckConsent and Health/Check.
class CheckChannel {
 public:
  explicit CheckChannel(HubFixture& f) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadAll(f.certs_dir() + "/ca.crt");
    ssl.pem_cert_chain = ReadAll(f.certs_dir() + "/" + kSource + ".crt");
    ssl.pem_private_key = ReadAll(f.certs_dir() + "/" + kSource + ".key");
    grpc::ChannelArguments args;
    // Its own connection, not one shared with the Clients' channels.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    channel_ = grpc::CreateCustomChannel(f.endpoint(), grpc::SslCredentials(ssl), args);
    consent_ = v1::ConsentService::NewStub(channel_);
    // What a generated Health stub does: a registered method, a blocking unary call.
    health_ = std::make_unique<grpc::internal::RpcMethod>(
        "/grpc.health.v1.Health/Check", grpc::internal::RpcMethod::NORMAL_RPC, channel_);
    grpc::Slice empty(std::string{});
    health_request_ = grpc::ByteBuffer(&empty, 1);  // HealthCheckRequest{service: ""}
  }

  std::string Health() {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    grpc::ByteBuffer response;
    grpc::Status s = grpc::internal::BlockingUnaryCall(channel_.get(), *health_, &ctx,
                                                       health_request_, &response);
    if (!s.ok()) return Cat("Health/Check: ", s.error_message());
    grpc::Slice body;
    if (!response.DumpToSingleSlice(&body).ok()) return "Health/Check: unreadable response";
    // HealthCheckResponse{status: SERVING} is the two bytes 08 01.
    std::string_view bytes(reinterpret_cast<const char*>(body.begin()), body.size());
    if (bytes != std::string_view("\x08\x01", 2)) return "Health/Check: not SERVING";
    return "";
  }

  std::string Check(int person) {
    v1::CheckConsentRequest req;
    req.mutable_user()->set_local_user_id(HubFixture::SourceUser(person));
    req.set_source_platform_id(kSource);
    req.set_target_platform_id(kTarget);
    req.set_category(v1::DATA_CATEGORY_LEARNING);
    req.set_purpose(v1::PURPOSE_SYNC);
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    v1::CheckConsentResponse resp;
    grpc::Status s = consent_->CheckConsent(&ctx, req, &resp);
    if (!s.ok()) return Cat("CheckConsent: ", s.error_message());
    if (!resp.allowed()) return Cat("CheckConsent: not allowed: ", resp.reason());
    return "";
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ConsentService::Stub> consent_;
  std::unique_ptr<grpc::internal::RpcMethod> health_;
  grpc::ByteBuffer health_request_;
};

struct GrantRow {
  std::string key;  // raw, store_commit, domain_grant, grpc_grant, whatif_grant
  std::string name;
  PhaseResult r;
  double avg_group = 0;  // transactions per synced WriteBatch
};

struct Report {
  std::vector<GrantRow> grants;
  std::vector<std::pair<std::string, PhaseResult>> checks;
};

std::string Pct(double ratio) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", ratio * 100);
  return buf;
}

void PrintPhaseLine(FILE* out, const std::string& name, const PhaseResult& r,
                    const std::string& extra) {
  std::fprintf(out, "  %-34s %7d %10s/s %9s %9s %9s %9s %8s %6.1f  %s\n", name.c_str(), r.threads,
               FormatRate(r.rate).c_str(), FormatUs(r.p50_us).c_str(), FormatUs(r.p99_us).c_str(),
               FormatUs(r.p999_us).c_str(), FormatUs(r.max_us).c_str(),
               FormatUs(r.cpu_us_per_op).c_str(), r.switches_per_op, extra.c_str());
  if (r.errors > 0) {
    std::fprintf(out, "    !! %llu errors, first: %s\n", static_cast<unsigned long long>(r.errors),
                 r.first_error.c_str());
  }
}

int Run(const Flags& flags) {
  FILE* out = flags.json ? stderr : stdout;
  auto root = TempDir::Make(flags.dir, "fedhub-bench-");
  if (!root.ok()) {
    std::fprintf(stderr, "%s\n", std::string(root.status().message()).c_str());
    return 2;
  }
  root->set_keep(flags.keep);
  std::fprintf(out,
               "FedHub consent benchmark: %u CPUs, %.2f s per phase (+%.2f s warm-up), dir %s\n",
               std::thread::hardware_concurrency(), flags.seconds, WarmupFor(flags.seconds),
               root->path().c_str());
  std::fprintf(out, "setup: dev certs, hub (synced writes), 2 platforms, %d people linked...\n",
               flags.people);
  std::fflush(out);
  auto fixture = HubFixture::Start(root->path(), flags.people);
  if (!fixture.ok()) {
    std::fprintf(stderr, "setup failed: %s\n", fixture.status().ToString().c_str());
    return 2;
  }
  HubFixture& f = **fixture;
  auto shape = f.MeasureGrantShape();
  if (!shape.ok()) {
    std::fprintf(stderr, "cannot measure a grant's records: %s\n",
                 shape.status().ToString().c_str());
    return 2;
  }
  std::fprintf(
      out,
      "grant WriteBatch (read back from the hub's store): %zu puts, %zu bytes of keys+values\n   ",
      shape->size(), TotalBytes(*shape));
  for (const PutShape& p : *shape)
    std::fprintf(out, " %s %zu+%zu;", p.what.c_str(), p.key_bytes, p.value_bytes);
  std::fprintf(out, "\n");
  auto raw = RawDb::Open(root->path() + "/raw-baseline");
  if (!raw.ok()) {
    std::fprintf(stderr, "%s\n", raw.status().ToString().c_str());
    return 2;
  }

  std::fprintf(out, "grant callers: %s; check callers: one grpc::Channel of their own\n",
               flags.client_per_caller ? "one fedhub::Client (own channel) each"
                                       : "one shared fedhub::Client (one channel, one connection)");
  const double secs = flags.seconds, warm = WarmupFor(flags.seconds);
  Report report;
  std::atomic<uint64_t> grant_counter{0};
  std::vector<Client> clients;
  for (int t = 0; flags.client_per_caller && t < flags.callers; ++t) {
    auto c = f.NewSourceClient();
    if (!c.ok()) {
      std::fprintf(stderr, "%s\n", c.status().ToString().c_str());
      return 2;
    }
    clients.push_back(std::move(*c));
  }
  auto grant_op = [&](int t, uint64_t i) -> std::string {
    uint64_t n = grant_counter.fetch_add(1, std::memory_order_relaxed);
    Client& client = clients.empty() ? f.source() : clients[t];
    auto r = client.GrantConsent(HubFixture::GrantFor(static_cast<int>(n % f.people()), n));
    return r.ok() ? std::string() : r.status().ToString();
  };
  // The layers between a raw synced WriteBatch and a GrantConsent call, each measured
  // alone: the hub's group commit with the same puts (keys kept apart from the hub's
  // own; the database is the benchmark's and is thrown away), then the whole domain
  // grant (validation, ledger and audit hash chains, receipt signing) without RPC.
  std::atomic<uint64_t> store_counter{0};
  Op raw_op = [&](int, uint64_t) { return (*raw)->WriteGrantLike(*shape); };
  Op store_op = [&](int, uint64_t) -> std::string {
    uint64_t n = store_counter.fetch_add(1, std::memory_order_relaxed);
    absl::Status s = f.hub().store().Commit([&](storage::Txn& txn) {
      ForEachPut(*shape, n, true, [&](int cf, std::string_view key, std::string_view value) {
        txn.Put(static_cast<storage::Cf>(cf), key, value);
      });
      return absl::OkStatus();
    });
    return s.ok() ? std::string() : s.ToString();
  };
  const Caller caller{kSource, v1::ROLE_PLATFORM, ""};
  Op domain_op = [&](int, uint64_t) -> std::string {
    uint64_t n = grant_counter.fetch_add(1, std::memory_order_relaxed);
    auto r =
        f.hub().consents().Grant(caller, HubFixture::GrantFor(static_cast<int>(n % f.people()), n));
    return r.ok() ? std::string() : r.status().ToString();
  };
  auto raw_phase = [&](int threads) {
    RawStats before = (*raw)->stats();
    GrantRow row{"raw", "raw RocksDB synced WriteBatch",
                 RunClosedLoop(threads, secs, warm, raw_op)};
    RawStats after = (*raw)->stats();
    uint64_t groups = after.by_self - before.by_self;
    uint64_t writes = groups + after.by_other - before.by_other;
    row.avg_group = groups ? static_cast<double>(writes) / static_cast<double>(groups) : 0;
    return row;
  };
  auto hub_phase = [&](const char* key, const std::string& name, const Op& op, int threads) {
    storage::StoreStats before = f.hub().store().stats();
    GrantRow row{key, name, RunClosedLoop(threads, secs, warm, op)};
    storage::StoreStats after = f.hub().store().stats();
    uint64_t groups = after.groups - before.groups;
    row.avg_group =
        groups ? static_cast<double>(after.commits - before.commits) / static_cast<double>(groups)
               : 0;
    return row;
  };
  // Raw baseline and hub one after the other for each caller count, so drift in the
  // machine's load hits both sides of a ratio alike.
  for (int threads : {1, flags.callers}) {
    std::fprintf(out, "running grants with %d caller(s)...\n", threads);
    std::fflush(out);
    report.grants.push_back(raw_phase(threads));
    report.grants.push_back(
        hub_phase("store_commit", "hub Store::Commit, same puts", store_op, threads));
    report.grants.push_back(
        hub_phase("domain_grant", "hub ConsentManager::Grant, no RPC", domain_op, threads));
    report.grants.push_back(
        hub_phase("grpc_grant", "hub GrantConsent over mTLS gRPC", grant_op, threads));
  }

  std::fprintf(out, "running checks...\n");
  std::fflush(out);
  CheckChannel channel(f);
  std::atomic<uint64_t> check_counter{0};
  auto next_person = [&] { return static_cast<int>(check_counter.fetch_add(1) % f.people()); };
  Op health_op = [&](int, uint64_t) { return channel.Health(); };
  Op check_op = [&](int, uint64_t) { return channel.Check(next_person()); };
  Op sdk_check_op = [&](int, uint64_t) -> std::string {
    auto r = f.source().CheckConsent(HubFixture::SourceUser(next_person()), kSource, kTarget,
                                     v1::DATA_CATEGORY_LEARNING, v1::PURPOSE_SYNC);
    if (!r.ok()) return r.status().ToString();
    return r->allowed() ? "" : "not allowed";
  };
  // Latency: one caller taking the three calls in turn, so they share the machine's noise.
  std::vector<PhaseResult> seq = RunInterleaved(1, secs, warm, {health_op, check_op, sdk_check_op});
  report.checks.emplace_back("Health/Check (baseline)", seq[0]);
  report.checks.emplace_back("CheckConsent", seq[1]);
  report.checks.emplace_back("CheckConsent via fedhub::Client", seq[2]);
  const int k = flags.check_callers;
  report.checks.emplace_back("Health/Check (baseline)", RunClosedLoop(k, secs, warm, health_op));
  report.checks.emplace_back("CheckConsent", RunClosedLoop(k, secs, warm, check_op));

  // --- table -----------------------------------------------------------------------
  std::fprintf(out, "\n  %-34s %7s %12s %9s %9s %9s %9s %8s %6s  %s\n", "GRANTS (durable)",
               "callers", "ops", "p50 us", "p99 us", "p99.9 us", "max us", "cpu us", "cs",
               "txns/sync");
  for (const GrantRow& g : report.grants) {
    char extra[32];
    std::snprintf(extra, sizeof extra, "%.1f", g.avg_group);
    PrintPhaseLine(out, g.name, g.r, extra);
  }
  std::fprintf(out, "\n  %-34s %7s %12s %9s %9s %9s %9s %8s %6s\n", "CHECKS (one mTLS channel)",
               "callers", "ops", "p50 us", "p99 us", "p99.9 us", "max us", "cpu us", "cs");
  for (const auto& [name, r] : report.checks) PrintPhaseLine(out, name, r, "");

  // --- summary ---------------------------------------------------------------------
  auto row = [&](const std::string& key, int threads) -> const GrantRow& {
    for (const GrantRow& g : report.grants) {
      if (g.key == key && g.r.threads == threads) return g;
    }
    return report.grants.front();
  };
  const PhaseResult& raw1 = row("raw", 1).r;
  const PhaseResult& hub1 = row("grpc_grant", 1).r;
  const PhaseResult& rawn = row("raw", flags.callers).r;
  const PhaseResult& hubn = row("grpc_grant", flags.callers).r;
  double ratio1 = raw1.rate > 0 ? hub1.rate / raw1.rate : 0;
  double ration = rawn.rate > 0 ? hubn.rate / rawn.rate : 0;
  bool grants_pass = ration >= kGrantGoal;
  const PhaseResult& health1 = report.checks[0].second;
  const PhaseResult& check1 = report.checks[1].second;
  const PhaseResult& healthk = report.checks[3].second;
  const PhaseResult& checkk = report.checks[4].second;
  bool check_pass = check1.ok > 0 && check1.p99_us < kCheckP99GoalUs;
  std::fprintf(out, "\nSUMMARY\n");
  std::fprintf(out, "grants 1 caller: %s/s = %s of raw synced WriteBatch 1 writer (%s/s)\n",
               FormatRate(hub1.rate).c_str(), Pct(ratio1).c_str(), FormatRate(raw1.rate).c_str());
  std::fprintf(out,
               "grants %d callers: %s/s = %s of raw synced WriteBatch %d writers (%s/s) [goal >= "
               "%.0f%%: %s]\n",
               flags.callers, FormatRate(hubn.rate).c_str(), Pct(ration).c_str(), flags.callers,
               FormatRate(rawn.rate).c_str(), kGrantGoal * 100, grants_pass ? "PASS" : "FAIL");
  for (int threads : {1, flags.callers}) {
    const PhaseResult& r0 = row("raw", threads).r;
    std::fprintf(out, "  layers, %d caller(s): raw %s/s", threads, FormatRate(r0.rate).c_str());
    for (const GrantRow& g : report.grants) {
      if (g.key == "raw" || g.r.threads != threads) continue;
      std::fprintf(out, " -> %s %s/s (%s)", g.key.c_str(), FormatRate(g.r.rate).c_str(),
                   Pct(r0.rate > 0 ? g.r.rate / r0.rate : 0).c_str());
    }
    std::fprintf(out, "\n");
  }
  std::fprintf(
      out,
      "check 1 caller: CheckConsent p99 %s us (p50 %s, p99.9 %s, %.2f%% over 1 ms); "
      "Health/Check p99 %s us (p50 %s, p99.9 %s, %.2f%% over 1 ms) [goal p99 < %.0f us: %s]\n",
      FormatUs(check1.p99_us).c_str(), FormatUs(check1.p50_us).c_str(),
      FormatUs(check1.p999_us).c_str(), check1.over_1ms * 100, FormatUs(health1.p99_us).c_str(),
      FormatUs(health1.p50_us).c_str(), FormatUs(health1.p999_us).c_str(), health1.over_1ms * 100,
      kCheckP99GoalUs, check_pass ? "PASS" : "FAIL");
  std::fprintf(out, "check %d callers: CheckConsent %s/s = %s of Health/Check (%s/s)\n", k,
               FormatRate(checkk.rate).c_str(),
               Pct(healthk.rate > 0 ? checkk.rate / healthk.rate : 0).c_str(),
               FormatRate(healthk.rate).c_str());
  std::fflush(out);

  uint64_t errors = 0;
  for (const GrantRow& g : report.grants) errors += g.r.errors;
  for (const auto& [name, r] : report.checks) errors += r.errors;

  if (flags.json) {
    Json shape_json;
    shape_json.Int("puts", shape->size()).Int("bytes", TotalBytes(*shape));
    Json grants;
    for (const GrantRow& g : report.grants) {
      std::string key = Cat(g.key, g.r.threads == 1 ? "_1" : "_n");
      grants.Raw(key, PhaseJson(g.r));
      grants.Num(key + "_txns_per_sync", g.avg_group);
    }
    Json checks;
    checks.Raw("health_1", PhaseJson(health1)).Raw("check_1", PhaseJson(check1));
    checks.Raw("sdk_check_1", PhaseJson(report.checks[2].second));
    checks.Raw("health_n", PhaseJson(healthk)).Raw("check_n", PhaseJson(checkk));
    Json goals;
    goals.Num("grants_ratio_1", ratio1)
        .Num("grants_ratio_n", ration)
        .Bool("grants_pass", grants_pass);
    goals.Num("check_p99_us", check1.p99_us).Bool("check_pass", check_pass);
    Json all;
    all.Num("seconds", secs).Int("cpus", std::thread::hardware_concurrency());
    all.Bool("client_per_caller", flags.client_per_caller);
    all.Int("callers", flags.callers).Int("check_callers", k).Int("people", flags.people);
    all.Raw("grant_batch", shape_json.Done()).Raw("grants", grants.Done());
    all.Raw("checks", checks.Done()).Raw("goals", goals.Done()).Int("errors", errors);
    std::printf("%s\n", all.Done().c_str());
    std::fflush(stdout);
  }
  raw->reset();
  fixture->reset();
  return errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace fedhub::bench

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::printf("%s", fedhub::bench::Usage().c_str());
      return 0;
    }
  }
  auto flags = fedhub::bench::ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::fprintf(stderr, "%s", std::string(flags.status().message()).c_str());
    return 2;
  }
  return fedhub::bench::Run(*flags);
}
