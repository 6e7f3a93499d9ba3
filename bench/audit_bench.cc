// fedhub_bench_audit: the audit log's two costs, each figure printed beside baselines
// measured in the same run on the same machine. See docs/benchmarks.md.
//
//   Append: durable audit appends into a real storage::Store (synced WAL, group commit)
//   through audit::AuditLog, which extends the hash chain and the Merkle tree in the same
//   transaction. Two ways: --threads threads each calling Store::Commit with
//   AuditLog::Append, then --threads threads each keeping --inflight AppendAllAsync calls in
//   flight. Each beside raw synced RocksDB WriteBatches of the same puts (raw_writes.h):
//   from as many writers as the hub had appends waiting, one append per write, and from one
//   writer with as many appends per write as the hub's groups carried. Afterwards the tree
//   must have one leaf per appended entry and the root the hub reads from its stored nodes
//   must equal the root recomputed from the stored entries.
//   Verify: a chain of --entries audit entries held in memory, walked by the SDK's chain
//   verifier (and by the bare hash loop inside it), and its Merkle root recomputed,
//   against plain SHA-256 over the same encoded records. Single-threaded, like a verifier.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <optional>
#include <thread>

#include "audit_bench_support.h"
#include "bench_support.h"
#include "core/chain_codec.h"
#include "core/strings.h"

namespace fedhub::bench {
namespace {

constexpr double kGoalVerifyShare = 0.70;  // verification >= 70% of raw SHA-256 speed
constexpr size_t kRecordPool = 4096;  // distinct records the appends cycle through

std::string Pct(double ratio) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", ratio * 100);
  return buf;
}

double Share(double part, double whole) { return whole > 0 ? part / whole : 0; }

// The 1, 5 and 15 minute load averages: other work on a shared machine moves every figure.
std::string LoadAverage() {
  auto text = ReadWholeFile("/proc/loadavg", "the load average");
  if (!text.ok()) return "unknown";
  size_t end = 0;
  for (int fields = 0; fields < 3 && end != std::string::npos; ++fields)
    end = text->find(' ', end + 1);
  return text->substr(0, end);
}

// --- append ---------------------------------------------------------------------------

// The machine's disk and CPUs are shared, and a sync's latency drifts from one second to the
// next: each append figure is measured in slices of about this length, the hub and its
// baselines taking turns, so drift hits all of them alike.
constexpr double kSliceSeconds = 0.5;
int Slices(double seconds) {
  return std::max(1, static_cast<int>(std::lround(seconds / kSliceSeconds)));
}

// One row of the append table, summed over its slices.
struct AppendRow {
  std::string name;
  int writers = 0;  // threads writing (hub: appends waiting at any moment)
  double appends = 0, seconds = 0, cpu_s = 0;  // measured windows only
  double synced = 0, syncs = 0;                // appends and synced batches, warm-ups included
  uint64_t errors = 0;
  std::string first_error;

  void Add(const PhaseResult& r, double appends_per_op, double synced_appends, double sync_count) {
    const double ok = static_cast<double>(r.ok);
    appends += ok * appends_per_op;
    seconds += r.elapsed_s;
    cpu_s += r.cpu_us_per_op * ok / 1e6;
    synced += synced_appends;
    syncs += sync_count;
    if (errors == 0) first_error = r.first_error;
    errors += r.errors;
  }
  double rate() const { return Share(appends, seconds); }
  double per_sync() const { return Share(synced, syncs); }
  double cpu_us() const { return Share(cpu_s * 1e6, appends); }
};

// One way of appending through the hub, beside two raw baselines of the same puts: as many
// writer threads, each write one append, grouped by RocksDB's own write-group leader; and
// one writer syncing WriteBatches of as many appends as the hub's groups carried on average,
// one after the other as the hub's single writer thread does.
struct AppendCase {
  AppendRow hub, same_writers, same_groups;
};

struct AppendReport {
  std::vector<AppendCase> cases;
  absl::StatusOr<TreeCheck> tree = absl::UnknownError("not run");
  bool ok() const {
    for (const AppendCase& c : cases) {
      for (const AppendRow* r : {&c.hub, &c.same_writers, &c.same_groups}) {
        if (r->errors > 0) return false;
      }
    }
    return tree.ok();
  }
};

// A slice of raw synced writes of `g` appends' puts each on average (a fraction alternates
// between the two nearest whole numbers, as the hub's groups vary in size).
void RawSlice(RawDb& raw, const std::vector<PutShape>& append, int writers, double g,
              double seconds, AppendRow& row) {
  g = std::max(1.0, g);
  const int whole = static_cast<int>(g);
  const std::vector<PutShape> shapes[2] = {Repeated(append, whole), Repeated(append, whole + 1)};
  std::atomic<uint64_t> writes_started{0};
  RawStats before = raw.stats();
  PhaseResult r = RunClosedLoop(writers, seconds, WarmupFor(seconds), [&](int, uint64_t) {
    MatchStoreThreadPriority();
    // Write m carries floor((m + 1) g) - floor(m g) appends: g on average.
    const auto m = static_cast<double>(writes_started.fetch_add(1, std::memory_order_relaxed));
    return raw.WriteGrantLike(shapes[std::floor((m + 1) * g) - std::floor(m * g) > whole ? 1 : 0]);
  });
  RawStats after = raw.stats();
  // The write-group leader writes and syncs the batches of the writers it carries.
  const double groups = static_cast<double>(after.by_self - before.by_self);
  const double writes = groups + static_cast<double>(after.by_other - before.by_other);
  row.Add(r, g, writes * g, groups);
}

// Measures a case in slices; `hub` runs one slice (seconds, warm-up) of the hub's appends.
AppendCase RunCase(RawDb& raw, storage::Store& store, const std::vector<PutShape>& append,
                   int writers, const AuditFlags& flags, const std::string& hub_name,
                   const std::function<PhaseResult(double, double)>& hub) {
  AppendCase c;
  c.hub.name = hub_name;
  c.same_writers.name = "raw synced WriteBatch per append";
  c.hub.writers = c.same_writers.writers = writers;
  c.same_groups.writers = 1;
  const int slices = Slices(flags.seconds);
  const double slice = flags.seconds / slices;
  const std::function<void()> steps[] = {
      [&] {
        storage::StoreStats before = store.stats();
        PhaseResult r = hub(slice, WarmupFor(slice));
        storage::StoreStats after = store.stats();
        c.hub.Add(r, 1, static_cast<double>(after.commits - before.commits),
                  static_cast<double>(after.groups - before.groups));
      },
      [&] { RawSlice(raw, append, writers, 1, slice, c.same_writers); },
      // The hub's group size so far: the hub runs first in the first round.
      [&] { RawSlice(raw, append, 1, c.hub.per_sync(), slice, c.same_groups); },
  };
  for (int i = 0; i < slices; ++i) {
    for (int k = 0; k < 3; ++k) steps[(i + k) % 3]();
  }
  char name[64];
  std::snprintf(name, sizeof name, "raw synced WriteBatch of %.1f appends",
                c.same_groups.per_sync());
  c.same_groups.name = name;
  return c;
}

absl::StatusOr<AppendReport> RunAppendPhase(const AuditFlags& flags, const std::string& root) {
  storage::StoreOptions options;
  options.path = root + "/hub";
  auto store = storage::Store::Open(options);
  if (!store.ok()) return store.status();
  audit::AuditLog audit(store->get());
  auto raw = RawDb::Open(root + "/raw-baseline");
  if (!raw.ok()) return raw.status();

  const std::vector<RecordBatch> pool = RecordPool(kRecordPool);
  const std::vector<PutShape> shape = AppendShape(chain::EncodeAudit(pool[0]->front()).size());
  std::printf("one append = %zu puts, %zu bytes of keys+values:", shape.size(), TotalBytes(shape));
  for (const PutShape& p : shape)
    std::printf(" %s %zu+%zu;", p.what.c_str(), p.key_bytes, p.value_bytes);
  std::printf("\n");

  std::atomic<uint64_t> appended{0};
  auto sync_append = [&](int, uint64_t i) -> std::string {
    const v1::AuditRecord& record = pool[i % pool.size()]->front();
    absl::Status s =
        (*store)->Commit([&](storage::Txn& txn) { return audit.Append(txn, record).status(); });
    if (!s.ok()) return s.ToString();
    appended.fetch_add(1, std::memory_order_relaxed);
    return "";
  };
  const int n = flags.threads, k = flags.inflight;
  AppendReport report;
  std::printf("running appends: %d threads, Store::Commit, load average %s...\n", n,
              LoadAverage().c_str());
  std::fflush(stdout);
  report.cases.push_back(RunCase(
      **raw, **store, shape, n, flags, Cat("AuditLog::Append in Store::Commit, ", n, " threads"),
      [&](double s, double w) { return RunClosedLoop(n, s, w, sync_append); }));
  std::printf("running appends: %d threads x %d AppendAllAsync in flight, load average %s...\n", n,
              k, LoadAverage().c_str());
  std::fflush(stdout);
  report.cases.push_back(RunCase(
      **raw, **store, shape, n * k, flags,
      Cat("AuditLog::AppendAllAsync, ", n, " x ", k, " in flight"),
      [&](double s, double w) { return RunAsyncAppends(audit, pool, n, k, s, w, &appended); }));
  report.tree = CheckTree(**store, audit, appended.load());
  return report;
}

void PrintAppendRow(const AppendRow& r, const std::string& indent, const std::string& hub_share) {
  std::printf("  %s%-*s %7d %10s/s %8.1f %9s %8s %10s\n", indent.c_str(),
              50 - static_cast<int>(indent.size()), r.name.c_str(), r.writers,
              FormatRate(r.rate()).c_str(), r.per_sync(),
              FormatRate(Share(r.rate(), r.per_sync())).c_str(), FormatUs(r.cpu_us()).c_str(),
              hub_share.c_str());
  if (r.errors > 0) {
    std::printf("    !! %llu errors, first: %s\n", static_cast<unsigned long long>(r.errors),
                r.first_error.c_str());
  }
}

void PrintAppend(const AppendReport& report) {
  std::printf("\n  %-50s %7s %12s %8s %9s %8s %10s\n", "APPEND, durable (synced WAL)", "writers",
              "entries/s", "per sync", "syncs/s", "cpu us", "hub share");
  for (const AppendCase& c : report.cases) {
    PrintAppendRow(c.hub, "", "");
    for (const AppendRow* raw : {&c.same_writers, &c.same_groups}) {
      PrintAppendRow(*raw, "  ", Pct(Share(c.hub.rate(), raw->rate())));
    }
  }
  if (report.tree.ok()) {
    std::printf(
        "  tree after the phase: %llu leaves = entries appended; root %s\n"
        "  (the same as a merkle::Frontier over the stored entries; the chain verifies)\n",
        static_cast<unsigned long long>(report.tree->size),
        crypto::HexEncode(crypto::AsView(report.tree->root)).c_str());
  } else {
    std::printf("    !! tree check: %s\n", report.tree.status().ToString().c_str());
  }
}

void SummarizeAppend(const AppendReport& report) {
  for (const AppendCase& c : report.cases) {
    std::printf(
        "append: %s: %s entries/s = %s of raw synced writes from %d writers (%s/s), %s of raw "
        "WriteBatches of %.1f appends from 1 writer (%s/s)\n",
        c.hub.name.c_str(), FormatRate(c.hub.rate()).c_str(),
        Pct(Share(c.hub.rate(), c.same_writers.rate())).c_str(), c.same_writers.writers,
        FormatRate(c.same_writers.rate()).c_str(),
        Pct(Share(c.hub.rate(), c.same_groups.rate())).c_str(), c.same_groups.per_sync(),
        FormatRate(c.same_groups.rate()).c_str());
  }
}

// --- verify -----------------------------------------------------------------------------

struct VerifyRow {
  std::string name;
  bool hashes_encoded;  // hashes the encoded records (so MB/s applies)
  std::string goal;
  ChainPass pass;
  PassTiming timing;
};

// Rows of the verify table, in this order.
constexpr size_t kVerifier = 0, kHashOnly = 1, kBaseline = 5;

struct VerifyReport {
  uint64_t entries = 0;
  size_t bytes = 0;
  crypto::Digest root{};
  std::vector<VerifyRow> rows;
  bool ok() const {
    for (const VerifyRow& r : rows) {
      if (!r.timing.error.empty()) return false;
    }
    return true;
  }
};

VerifyReport RunVerifyPhase(const AuditFlags& flags) {
  std::printf("building %s chained audit entries in memory...\n",
              FormatRate(flags.entries).c_str());
  std::fflush(stdout);
  const MemoryChain chain = MemoryChain::Build(flags.entries);
  VerifyReport report{chain.size(), chain.all_encoded().size(), {}, {}};
  std::printf("running verify, %d round(s), load average %s...\n", flags.rounds,
              LoadAverage().c_str());
  std::fflush(stdout);
  const std::string goal = Cat(">= ", Pct(kGoalVerifyShare));
  report.rows = {
      {"SDK ChainVerifier::Add (link, hash, layout)", true, goal, VerifyWithChainVerifier, {}},
      {"chain hash only (EntryHash, compare)", true, goal, VerifyHashesOnly, {}},
      {"decode only (DecodeAudit)", true, "", DecodeOnly, {}},
      {"Merkle root (Frontier of leaf hashes)",
       false,
       "",
       [&](const MemoryChain& c) { return MerkleRootPass(c, &report.root); },
       {}},
      {Cat("SHA-256 per entry of ", kChainPrefixBytes, "-byte prefix+encoded"),
       true,
       "",
       Sha256PerEntryWithPrefix,
       {}},
      {"SHA-256 per entry of the encoded bytes", true, "baseline", Sha256PerEntry, {}},
      {"SHA-256 of all encoded bytes as one stream", true, "", Sha256OneStream, {}},
  };
  std::vector<ChainPass> passes;
  for (const VerifyRow& row : report.rows) passes.push_back(row.pass);
  std::vector<PassTiming> t = TimeBestOf(chain, flags.rounds, passes);
  for (size_t i = 0; i < t.size(); ++i) report.rows[i].timing = t[i];
  return report;
}

double EntriesPerSecond(const VerifyReport& r, size_t row) {
  return Share(static_cast<double>(r.entries), r.rows[row].timing.best_s);
}

void PrintVerify(const VerifyReport& r) {
  std::printf(
      "\n  %-45s %12s %9s %10s  %s\n",
      Cat("VERIFY ", FormatRate(r.entries), " entries, ", r.bytes / r.entries, " B each").c_str(),
      "entries/s", "MB/s", "vs SHA-256", "goal");
  const double base = EntriesPerSecond(r, kBaseline);
  for (size_t i = 0; i < r.rows.size(); ++i) {
    const VerifyRow& row = r.rows[i];
    const double rate = EntriesPerSecond(r, i);
    const std::string mbs =
        row.hashes_encoded ? FormatUs(Share(static_cast<double>(r.bytes), row.timing.best_s) / 1e6)
                           : "-";
    std::printf("  %-45s %10s/s %9s %10s  %s\n", row.name.c_str(), FormatRate(rate).c_str(),
                mbs.c_str(), i == kBaseline ? "-" : Pct(Share(rate, base)).c_str(),
                row.goal.c_str());
    if (!row.timing.error.empty()) std::printf("    !! %s\n", row.timing.error.c_str());
  }
  std::printf("  Merkle root of the %s entries: %s\n", FormatRate(r.entries).c_str(),
              crypto::HexEncode(crypto::AsView(r.root)).c_str());
}

void SummarizeVerify(const VerifyReport& r) {
  const double base = EntriesPerSecond(r, kBaseline);
  for (size_t i : {kVerifier, kHashOnly}) {
    const double share = Share(EntriesPerSecond(r, i), base);
    std::printf(
        "verify: %s %s entries/s = %s of SHA-256 per entry over the same bytes (%s/s) [goal >= %s: "
        "%s]\n",
        r.rows[i].name.c_str(), FormatRate(EntriesPerSecond(r, i)).c_str(), Pct(share).c_str(),
        FormatRate(base).c_str(), Pct(kGoalVerifyShare).c_str(),
        share >= kGoalVerifyShare ? "PASS" : "FAIL");
  }
}

int Run(const AuditFlags& flags) {
  auto root = TempDir::Make(flags.dir, "fedhub-audit-bench-");
  if (!root.ok()) {
    std::fprintf(stderr, "%s\n", std::string(root.status().message()).c_str());
    return 2;
  }
  root->set_keep(flags.keep);
  const int slices = Slices(flags.seconds);
  std::printf(
      "FedHub audit benchmark: %u CPUs; appends: %d threads, %d in flight each (async), %.2f s per "
      "figure in %d slices (+%.2f s warm-up each); verify: %s entries, best of %d; dir %s\n",
      std::thread::hardware_concurrency(), flags.threads, flags.inflight, flags.seconds, slices,
      WarmupFor(flags.seconds / slices), FormatRate(flags.entries).c_str(), flags.rounds,
      root->path().c_str());
  std::printf("record: \"consent.check\" AuditRecord, %zu bytes encoded\n",
              chain::EncodeAudit(CheckRecord(0)).size());
  std::fflush(stdout);
  std::optional<AppendReport> append;
  if (flags.Runs("append")) {
    auto r = RunAppendPhase(flags, root->path());
    if (!r.ok()) {
      std::fprintf(stderr, "setup failed: %s\n", r.status().ToString().c_str());
      return 2;
    }
    append = std::move(*r);
  }
  std::optional<VerifyReport> verify;
  if (flags.Runs("verify")) verify = RunVerifyPhase(flags);

  if (append) PrintAppend(*append);
  if (verify) PrintVerify(*verify);
  std::printf("\nSUMMARY\n");
  if (append) SummarizeAppend(*append);
  if (verify) SummarizeVerify(*verify);
  std::fflush(stdout);
  const bool ok = (!append || append->ok()) && (!verify || verify->ok());
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace fedhub::bench

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::printf("%s", fedhub::bench::AuditUsage().c_str());
      return 0;
    }
  }
  auto flags = fedhub::bench::ParseAuditFlags(argc, argv);
  if (!flags.ok()) {
    std::fprintf(stderr, "%s", std::string(flags.status().message()).c_str());
    return 2;
  }
  return fedhub::bench::Run(*flags);
}
