#include "audit_bench_support.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <semaphore>
#include <thread>

#include "core/chain_codec.h"
#include "core/merkle.h"
#include "core/strings.h"
#include "storage/keys.h"

namespace fedhub::bench {
namespace {

using Clock = std::chrono::steady_clock;

// splitmix64: distinct, random-looking ids from a counter without a hash call.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string Hex32(uint64_t seed) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(Mix(seed)),
                static_cast<unsigned long long>(Mix(~seed)));
  return buf;
}

// Keeps the SHA-256 baselines' digests observable (they would otherwise be dead results).
volatile uint8_t g_sink = 0;

}  // namespace

std::string AuditUsage() {
  return "usage: fedhub_bench_audit [flags]\n"
         "  --seconds S        measured time of each append figure (default 3), in slices of\n"
         "                     about 0.5 s taken in turn with its baselines, each after a\n"
         "                     warm-up of a quarter of a slice\n"
         "  --threads N        appending threads / baseline writers, 1 to 256 (default 8)\n"
         "  --inflight K       asynchronous appends each thread keeps in flight, 1 to 64\n"
         "                     (default 8)\n"
         "  --entries N        entries of the chain the verify phase walks (default 1000000)\n"
         "  --rounds N         timed passes of each verify measurement; the fastest counts\n"
         "                     (default 5)\n"
         "  --only append|verify  run one phase only\n"
         "  --dir PATH         parent of the temporary directory (default /tmp)\n"
         "  --keep             keep the temporary directory\n";
}

absl::StatusOr<AuditFlags> ParseAuditFlags(int argc, char** argv) {
  AuditFlags f;
  FlagReader r(argc, argv);
  while (r.Next()) {
    const std::string& arg = r.flag();
    auto run_flag = r.ReadRunFlag(&f, {"append", "verify"});
    if (!run_flag.ok()) return run_flag.status();
    if (*run_flag) continue;
    absl::StatusOr<double> n = 0.0;
    if (arg == "--seconds" && (n = r.Number(0.01, 3600)).ok()) {
      f.seconds = *n;
    } else if (arg == "--threads" && (n = r.Number(1, 256)).ok()) {
      f.threads = static_cast<int>(*n);
    } else if (arg == "--inflight" && (n = r.Number(1, 64)).ok()) {
      f.inflight = static_cast<int>(*n);
    } else if (arg == "--entries" && (n = r.Number(1, 1e8)).ok()) {
      f.entries = static_cast<uint64_t>(*n);
    } else if (arg == "--rounds" && (n = r.Number(1, 100)).ok()) {
      f.rounds = static_cast<int>(*n);
    } else if (!n.ok()) {
      return n.status();
    } else {
      return absl::InvalidArgumentError(Cat("unknown flag ", arg, "\n", AuditUsage()));
    }
  }
  return f;
}

v1::AuditRecord CheckRecord(uint64_t n) {
  v1::AuditRecord r;
  r.set_actor_id("courses-platform");
  r.set_actor_role(v1::ROLE_PLATFORM);
  r.set_action("consent.check");
  r.set_subject(Hex32(2 * n));
  r.add_categories(v1::DATA_CATEGORY_PROFILE);
  r.add_categories(v1::DATA_CATEGORY_LEARNING);
  r.add_purposes(v1::PURPOSE_SYNC);
  r.set_consent_id(Cat("c-", Hex32(2 * n + 1)));
  r.set_counterparty_id("jobs-platform");
  r.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
  r.set_detail("allowed: PROFILE, LEARNING for SYNC to jobs-platform");
  return r;
}

std::vector<RecordBatch> RecordPool(size_t size) {
  std::vector<RecordBatch> pool;
  pool.reserve(size);
  for (size_t i = 0; i < size; ++i) {
    pool.push_back(std::make_shared<const std::vector<v1::AuditRecord>>(1, CheckRecord(i)));
  }
  return pool;
}

std::vector<PutShape> AppendShape(size_t encoded_bytes) {
  const int meta = static_cast<int>(storage::Cf::kMeta);
  const int merkle = static_cast<int>(storage::Cf::kMerkle);
  return {
      {"chain entry", static_cast<int>(storage::Cf::kAudit), 8, 64 + encoded_bytes, false},
      {"chain head", meta, storage::kAuditHeadKey.size(), 40, true},
      {"Merkle leaf", merkle, 9, 32, false},
      {"Merkle node (1 on average)", merkle, 9, 32, false},
      {"tree size", meta, storage::kAuditTreeSizeKey.size(), 8, true},
  };
}

std::vector<PutShape> Repeated(const std::vector<PutShape>& shape, int times) {
  std::vector<PutShape> out;
  out.reserve(shape.size() * static_cast<size_t>(times));
  for (int i = 0; i < times; ++i) out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

void MatchStoreThreadPriority() {
  thread_local const bool asked = [] {
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), -10);
    return true;
  }();
  (void)asked;
}

PhaseResult RunAsyncAppends(audit::AuditLog& audit, const std::vector<RecordBatch>& pool,
                            int threads, int inflight, double seconds, double warmup_s,
                            std::atomic<uint64_t>* appended) {
  enum : int { kWarmup, kMeasure, kStop };
  std::atomic<int> phase{kWarmup};
  std::atomic<uint64_t> next{0}, ok{0}, errors{0};
  std::mutex mu;
  PhaseResult f;
  f.threads = threads;
  // Completions run on the store's writer thread; a slot is given back by the completion.
  auto done = [&](std::counting_semaphore<>* slots) {
    return [&, slots](const absl::Status& s) {
      if (s.ok()) {
        appended->fetch_add(1, std::memory_order_relaxed);
        if (phase.load(std::memory_order_acquire) == kMeasure)
          ok.fetch_add(1, std::memory_order_relaxed);
      } else if (errors.fetch_add(1) == 0) {
        std::lock_guard lock(mu);
        f.first_error = s.ToString();
      }
      slots->release();
    };
  };
  auto worker = [&] {
    std::counting_semaphore<> slots(inflight);
    while (true) {
      slots.acquire();
      if (phase.load(std::memory_order_acquire) == kStop) break;
      uint64_t n = next.fetch_add(1, std::memory_order_relaxed);
      audit.AppendAllAsync(pool[n % pool.size()], done(&slots));
    }
    // The slot taken above, then every other one once its append completed: `slots` must
    // outlive the completions that release it.
    for (int k = 1; k < inflight; ++k) slots.acquire();
  };
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) running.emplace_back(worker);
  std::this_thread::sleep_for(std::chrono::duration<double>(warmup_s));
  const double cpu0 = ProcessCpuSeconds();
  const Clock::time_point t0 = Clock::now();
  phase.store(kMeasure, std::memory_order_release);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  phase.store(kStop, std::memory_order_release);
  f.elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = ProcessCpuSeconds() - cpu0;
  for (std::thread& t : running) t.join();
  f.ok = ok.load();
  f.errors = errors.load();
  f.rate = static_cast<double>(f.ok) / f.elapsed_s;
  f.cpu_us_per_op = f.ok > 0 ? cpu * 1e6 / static_cast<double>(f.ok) : 0;
  return f;
}

namespace {

// The root of a Frontier fed the leaf hash of every stored audit entry, in key order.
absl::StatusOr<crypto::Digest> RootFromStoredEntries(const storage::Snapshot& view) {
  merkle::Frontier frontier;
  absl::Status bad;
  absl::Status s =
      view.Scan(storage::Cf::kAudit, "", "", [&](std::string_view, std::string_view value) {
        auto stored = chain::UnpackStored(value);
        if (!stored.ok()) {
          bad = stored.status();
          return false;
        }
        frontier.Append(merkle::LeafHash(crypto::AsView(stored->entry_hash)));
        return true;
      });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  return frontier.Root();
}

}  // namespace

absl::StatusOr<TreeCheck> CheckTree(storage::Store& store, audit::AuditLog& audit,
                                    uint64_t appended) {
  auto view = store.GetSnapshot();
  auto size = audit::MerkleLog::Size(*view);
  if (!size.ok()) return size.status();
  if (*size != appended) {
    return absl::DataLossError(
        Cat("the tree has ", *size, " leaves but ", appended, " entries were appended"));
  }
  auto root = audit::MerkleLog::Root(*view, *size);
  if (!root.ok()) return root.status();
  auto verified = audit.chain().Verify();
  if (!verified.ok()) return verified.status();
  if (!verified->ok || verified->entries_checked != appended) {
    return absl::DataLossError(Cat("the chain does not verify after ", verified->entries_checked,
                                   " entries: ", verified->problem));
  }
  auto recomputed = RootFromStoredEntries(*view);
  if (!recomputed.ok()) return recomputed.status();
  if (*recomputed != *root) {
    return absl::DataLossError(
        "the root read from the stored tree differs from the root of the stored entries");
  }
  return TreeCheck{*size, *root};
}

MemoryChain MemoryChain::Build(uint64_t entries) {
  MemoryChain c;
  c.starts_.reserve(entries + 1);
  c.hashes_.reserve(entries);
  c.starts_.push_back(0);
  const int64_t start_micros = 1700000000000000;
  crypto::Digest prev = chain::GenesisHash();
  for (uint64_t i = 0; i < entries; ++i) {
    std::string encoded = chain::EncodeAudit(CheckRecord(i));
    chain::SetEncodedAuditTime(&encoded, start_micros + static_cast<int64_t>(i) * 100);
    if (i == 0) c.bytes_.reserve(encoded.size() * entries);  // all records are this size
    prev = chain::EntryHash(chain::kAuditDomain, prev, i + 1, encoded);
    c.hashes_.push_back(prev);
    c.bytes_.append(encoded);
    c.starts_.push_back(c.bytes_.size());
  }
  return c;
}

const crypto::Digest& MemoryChain::prev_hash(uint64_t i) const {
  return i == 0 ? chain::GenesisHash() : hashes_[i - 1];
}

std::string VerifyWithChainVerifier(const MemoryChain& chain) {
  chain::ChainVerifier verifier(v1::CHAIN_AUDIT);
  for (uint64_t i = 0; i < chain.size(); ++i) {
    absl::Status s = verifier.Add(i + 1, crypto::AsView(chain.prev_hash(i)),
                                  crypto::AsView(chain.hash(i)), chain.encoded(i));
    if (!s.ok()) return s.ToString();
  }
  return verifier.entries_checked() == chain.size() ? "" : "the verifier skipped entries";
}

std::string VerifyHashesOnly(const MemoryChain& chain) {
  crypto::Digest prev = chain::GenesisHash();
  for (uint64_t i = 0; i < chain.size(); ++i) {
    prev = chain::EntryHash(chain::kAuditDomain, prev, i + 1, chain.encoded(i));
    if (prev != chain.hash(i)) return Cat("entry ", i + 1, " does not match its hash");
  }
  return "";
}

std::string DecodeOnly(const MemoryChain& chain) {
  for (uint64_t i = 0; i < chain.size(); ++i) {
    auto record = chain::DecodeAudit(chain.encoded(i));
    if (!record.ok()) return Cat("entry ", i + 1, ": ", ToStd(record.status().message()));
  }
  return "";
}

std::string Sha256PerEntry(const MemoryChain& chain) {
  uint8_t sink = 0;
  for (uint64_t i = 0; i < chain.size(); ++i) sink ^= crypto::Sha256(chain.encoded(i))[0];
  g_sink = sink;
  return "";
}

std::string Sha256PerEntryWithPrefix(const MemoryChain& chain) {
  // As long as the chain hash's prefix, so the same number of SHA-256 blocks, in one part.
  static const std::string kPrefix(kChainPrefixBytes, 'p');
  uint8_t sink = 0;
  for (uint64_t i = 0; i < chain.size(); ++i)
    sink ^= crypto::Sha256Parts({kPrefix, chain.encoded(i)})[0];
  g_sink = sink;
  return "";
}

std::string Sha256OneStream(const MemoryChain& chain) {
  g_sink = crypto::Sha256(chain.all_encoded())[0];
  return "";
}

std::string MerkleRootPass(const MemoryChain& chain, crypto::Digest* root) {
  merkle::Frontier frontier;
  for (uint64_t i = 0; i < chain.size(); ++i)
    frontier.Append(merkle::LeafHash(crypto::AsView(chain.hash(i))));
  *root = frontier.Root();
  return "";
}

std::vector<PassTiming> TimeBestOf(const MemoryChain& chain, int rounds,
                                   const std::vector<ChainPass>& passes) {
  std::vector<PassTiming> timings(passes.size());
  for (int round = 0; round < rounds; ++round) {
    for (size_t k = 0; k < passes.size(); ++k) {
      const size_t j = (k + round) % passes.size();
      PassTiming& t = timings[j];
      if (!t.error.empty()) continue;
      const Clock::time_point t0 = Clock::now();
      t.error = passes[j](chain);
      const double s = std::chrono::duration<double>(Clock::now() - t0).count();
      t.best_s = round == 0 ? s : std::min(t.best_s, s);
    }
  }
  return timings;
}

}  // namespace fedhub::bench
