// Pieces of fedhub_bench_audit (audit_bench.cc): its flags, the audit records it appends,
// the raw write shaped like one append, the asynchronous append driver, the check of the
// Merkle tree after the append phase, and the in-memory chain the verify phase walks.
#ifndef FEDHUB_BENCH_AUDIT_BENCH_SUPPORT_H_
#define FEDHUB_BENCH_AUDIT_BENCH_SUPPORT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/audit_log.h"
#include "bench_support.h"
#include "core/chain_codec.h"
#include "core/crypto.h"
#include "fedhub/v1/audit.pb.h"
#include "raw_writes.h"
#include "storage/store.h"

namespace fedhub::bench {

struct AuditFlags : RunFlags {  // --only append|verify
  // Measured time of each append figure, taken in slices (audit_bench.cc).
  double seconds = 3;
  // Appending threads (each with --inflight appends in flight in the asynchronous case).
  int threads = 8;
  // Asynchronous appends each thread keeps in flight.
  int inflight = 8;
  // Entries of the in-memory chain the verify phase walks.
  uint64_t entries = 1000000;
  // Timed passes of each verify measurement; the fastest counts.
  int rounds = 5;
};

absl::StatusOr<AuditFlags> ParseAuditFlags(int argc, char** argv);
std::string AuditUsage();

// Record number n of a "consent.check" that was allowed, as the hub audits it: a platform
// actor, a 32-hex-digit subject pseudonym and a "c-" + 32 hex consent id that differ from
// one n to the next, two categories, one purpose, a counterparty and a short detail. All
// records encode to the same size (about 200 bytes).
v1::AuditRecord CheckRecord(uint64_t n);

// What AppendAllAsync takes: one record per call, so one entry per transaction as with
// the synchronous path. Shared and read-only, so a pool is reused without copies.
using RecordBatch = std::shared_ptr<const std::vector<v1::AuditRecord>>;
std::vector<RecordBatch> RecordPool(size_t size);

// The puts one audit append makes (hash_chain.cc, merkle_log.cc), for the raw baseline:
// the chain entry (64 + encoded bytes under a u64 key), the chain head (40 bytes, fixed
// key), the Merkle leaf node and, on average, one completed subtree node (32 bytes under a
// 9-byte key each), and the tree size (8 bytes, fixed key).
std::vector<PutShape> AppendShape(size_t encoded_bytes);
// `shape` `times` over, in one WriteBatch: a group of that many appends, as the hub's
// group commit writes it (each append's puts, the fixed keys included, in turn).
std::vector<PutShape> Repeated(const std::vector<PutShape>& shape, int times);

// Asks, once per thread, for the nice value the hub's store threads ask for (-10, see
// RaiseThreadPriority in store.cc), for the baselines' threads that write and sync: under a
// busy CPU the scheduler then favours neither side of a ratio. Best effort, as there.
void MatchStoreThreadPriority();

// Each of `threads` threads keeps `inflight` AppendAllAsync calls of one record in flight
// (a new one as soon as one completes) for a warm-up and then `seconds`. Only appends that
// complete inside the measured window count (no latencies are recorded). Every successful
// append, warm-up included, adds one to *appended. Returns once nothing is in flight.
PhaseResult RunAsyncAppends(audit::AuditLog& audit, const std::vector<RecordBatch>& pool,
                            int threads, int inflight, double seconds, double warmup_s,
                            std::atomic<uint64_t>* appended);

// The audit tree after the append phase, once CheckTree found it consistent.
struct TreeCheck {
  uint64_t size = 0;
  crypto::Digest root{};
};
// Checks that the tree has `appended` leaves, that the chain verifies (HashChain::Verify)
// with as many entries, and that the root the hub reads from its stored subtree nodes
// equals the root of a merkle::Frontier fed every stored entry hash. DATA_LOSS otherwise.
absl::StatusOr<TreeCheck> CheckTree(storage::Store& store, audit::AuditLog& audit,
                                    uint64_t appended);

// A chain of audit entries built in memory, as a verifier holds it after reading it: the
// encoded records back to back in one buffer (a million small strings would measure the
// allocator), where each starts, and each entry's hash.
class MemoryChain {
 public:
  // Entry i (0-based, sequence i + 1) is CheckRecord(i), encoded and stamped with its own
  // time, chained with chain::EntryHash from the genesis hash.
  static MemoryChain Build(uint64_t entries);

  uint64_t size() const { return hashes_.size(); }
  std::string_view encoded(uint64_t i) const {
    return std::string_view(bytes_).substr(starts_[i], starts_[i + 1] - starts_[i]);
  }
  // All encoded records as one string.
  std::string_view all_encoded() const { return bytes_; }
  const crypto::Digest& hash(uint64_t i) const { return hashes_[i]; }
  // The hash entry i links to: the previous entry's, or the genesis hash.
  const crypto::Digest& prev_hash(uint64_t i) const;

 private:
  std::string bytes_;
  std::vector<uint64_t> starts_;  // size() + 1 offsets into bytes_
  std::vector<crypto::Digest> hashes_;
};

// Bytes the chain hash covers before the encoded record:
// domain || 0x00 || prev_hash[32] || u64be(sequence) (chain_codec.h).
inline constexpr size_t kChainPrefixBytes = chain::kAuditDomain.size() + 1 + 32 + 8;

// One pass over a MemoryChain: empty on success, else what failed.
using ChainPass = std::function<std::string(const MemoryChain&)>;

// The passes of the verify phase. The verifiers check every hash they compute; the SHA-256
// passes fold their digests into a sink so that none can be skipped.
std::string VerifyWithChainVerifier(const MemoryChain& chain);  // chain::ChainVerifier::Add
std::string VerifyHashesOnly(const MemoryChain& chain);         // chain::EntryHash loop
std::string DecodeOnly(const MemoryChain& chain);               // chain::DecodeAudit
std::string Sha256PerEntry(const MemoryChain& chain);           // the baseline
// A fixed kChainPrefixBytes prefix then the record, in two parts: as many SHA-256 blocks as
// the chain hash, without its three extra small parts (a diagnostic, not a verifier).
std::string Sha256PerEntryWithPrefix(const MemoryChain& chain);
std::string Sha256OneStream(const MemoryChain& chain);
// Feeds merkle::Frontier the leaf hash of every entry; sets *root.
std::string MerkleRootPass(const MemoryChain& chain, crypto::Digest* root);

// The shortest of `rounds` runs of each pass, seconds (or the first error). Every round
// runs every pass once, starting one further along each round, so each meets the same
// machine noise and none always runs first with a cold cache.
struct PassTiming {
  double best_s = 0;
  std::string error;
};
std::vector<PassTiming> TimeBestOf(const MemoryChain& chain, int rounds,
                                   const std::vector<ChainPass>& passes);

}  // namespace fedhub::bench

#endif  // FEDHUB_BENCH_AUDIT_BENCH_SUPPORT_H_
