// The hub's storage: one RocksDB database with a column family per kind of record.
//
// Domain code never includes RocksDB headers; it reads and writes through Store and Txn.
// Every change goes through Store::Commit or CommitAsync, which run the caller's function in
// a transaction and report success only once the transaction's WriteBatch is durable (synced
// WAL). Concurrent commits are grouped (group commit, as LevelDB's writer queue) and the
// groups are pipelined over two threads:
//   - the committer runs the waiting transaction functions one after another and gathers
//     their writes into ONE WriteBatch;
//   - the writer writes and syncs that batch, runs the group's AfterCommit hooks and then
//     completes its callers, in commit order.
// While the writer syncs group N the committer prepares group N+1, whose transactions read
// group N's writes (not yet durable) as if they were already committed. At most one group
// waits for the writer. If group N's write fails, group N+1 fails with the same status
// without being written, since it may have read what N wrote: nothing is acknowledged that
// depends on something lost. Because the functions run one at a time, they see each other's
// writes: hash-chain heads and counters need no other locking.
//
// Thread-safety: Store is thread-safe. A Txn belongs to one transaction function and must
// not escape it. Transaction functions, AfterCommit hooks and DoneFns must not call Commit
// (it would wait for the thread it runs on); they may call CommitAsync.
#ifndef FEDHUB_HUB_STORAGE_STORE_H_
#define FEDHUB_HUB_STORAGE_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rocksdb {
class Env;
}

namespace fedhub::storage {

// Column families. Key layouts are documented in keys.h.
enum class Cf : int {
  kMeta = 0,        // chain heads, hub secrets' metadata
  kRegistry,        // principal id -> PrincipalRecord
  kLinks,           // (platform, local id) <-> subject
  kSubjects,        // subject -> SubjectRecord
  kTickets,         // SHA-256(ticket) -> TicketRecord
  kConsents,        // consent id -> ConsentRecord
  kSubjectConsents, // subject || consent id -> "" (index)
  kLedger,          // u64be sequence -> packed chain entry
  kAudit,           // u64be sequence -> packed chain entry
  kEvents,          // u64be offset -> StoredEvent (the event log)
  kEventIds,        // publisher || 0 || event id -> EventIdRecord
  kCatalogue,       // catalogue items and sharing policies
  kErasures,        // acknowledged erasure notices
  kMerkle,          // u8 level || u64be index -> hash of a perfect subtree of the audit tree
  kTreeHeads,       // signed tree heads, by number and by tree size
  kCount,
};
std::string_view CfName(Cf cf);

struct StoreOptions {
  // Directory of the RocksDB database; created if missing.
  std::string path;
  // Sync the WAL before acknowledging. Only tests that prove the power-loss test can
  // fail turn this off; fedhubd has no setting for it.
  bool sync_writes = true;
  // Custom environment (tests: a file system that simulates power loss). Not owned.
  rocksdb::Env* env = nullptr;
  // Most transactions one group commit may carry.
  int max_group_size = 256;
  // RocksDB block cache size.
  size_t block_cache_bytes = 64 << 20;
  // Skip flushing memtables on close (tests that simulate a crash set it).
  bool avoid_flush_during_shutdown = false;
};

class Store;

// A consistent read-only view of the committed database at one moment. Keep it short-lived:
// it pins the files and memtables it reads.
class Snapshot {
 public:
  virtual ~Snapshot() = default;
  virtual absl::StatusOr<std::optional<std::string>> Get(Cf cf, std::string_view key) const = 0;
  // As Store::Scan, within this view.
  virtual absl::Status Scan(
      Cf cf, std::string_view prefix, std::string_view start,
      const std::function<bool(std::string_view key, std::string_view value)>& visit) const = 0;
};

// A transaction inside Store::Commit. Reads see, in order: this transaction's own
// writes, then earlier transactions of the same group, then the group being written (if
// any), then the committed database.
class Txn {
 public:
  absl::StatusOr<std::optional<std::string>> Get(Cf cf, std::string_view key);
  // Get of each key, in order; what is not in the overlays is read from the database in
  // one batched lookup (cheaper than one Get per key for hundreds of keys).
  absl::StatusOr<std::vector<std::optional<std::string>>> GetMany(Cf cf, const std::vector<std::string>& keys);
  void Put(Cf cf, std::string_view key, std::string_view value);
  void Put(Cf cf, std::string_view key, std::string&& value);  // takes the value without a copy
  void Put(Cf cf, std::string_view key, const char* value) { Put(cf, key, std::string_view(value)); }
  void Delete(Cf cf, std::string_view key);
  // Runs after the group is durable, in commit order, on the writer thread. Use it to
  // update in-memory caches and notify watchers; keep it short and non-blocking. Later
  // transactions may already be running on the committer thread: state a hook shares with
  // transaction functions needs its own lock.
  void AfterCommit(std::function<void()> fn);
  // Microseconds since the epoch, fixed for the whole transaction.
  int64_t now_micros() const { return now_micros_; }

 private:
  friend class Store;
  struct Impl;
  explicit Txn(Impl* impl, int64_t now) : impl_(impl), now_micros_(now) {}
  Impl* impl_;
  int64_t now_micros_;
};

using TxnFn = std::function<absl::Status(Txn&)>;
// Called instead when the TxnFn returned an error: that function's writes are discarded
// and this one may write a record of the refusal (the audit entry) in the same group.
using RefusalFn = std::function<void(Txn&, const absl::Status&)>;
// Completion of CommitAsync: the same status Commit would have returned.
using DoneFn = std::function<void(const absl::Status&)>;

struct StoreStats {
  uint64_t commits = 0;        // transactions committed
  uint64_t groups = 0;         // WriteBatches written
  uint64_t failed_groups = 0;  // WriteBatches RocksDB refused
  uint64_t stall_micros = 0;   // time writes spent stalled by RocksDB
};

class Store {
 public:
  static absl::StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Runs `fn` in a transaction and makes its writes durable, together with the
  // transactions of other threads that arrived meanwhile. Returns fn's status if it
  // failed (after the refusal record, if any, is durable), UNAVAILABLE if the database
  // refused the write (nothing of the group was applied), else OK once durable.
  absl::Status Commit(const TxnFn& fn, const RefusalFn& on_refused = nullptr);

  // Commit without waiting: queues the transaction in the same groups and returns at once;
  // `done` runs once the group is durable (or refused), on the writer thread, after the
  // group's AfterCommit hooks. `done` must be short and must not block. Requests still
  // queued when the Store is destroyed are committed first.
  void CommitAsync(TxnFn fn, RefusalFn on_refused, DoneFn done);

  // Reads committed state.
  absl::StatusOr<std::optional<std::string>> Get(Cf cf, std::string_view key) const;

  // Visits keys >= start that begin with `prefix`, in key order, until `visit` returns
  // false. Reads one consistent snapshot.
  absl::Status Scan(Cf cf, std::string_view prefix, std::string_view start,
                    const std::function<bool(std::string_view key, std::string_view value)>&
                        visit) const;

  // A consistent view of everything committed so far.
  std::unique_ptr<Snapshot> GetSnapshot() const;

  // Writes a value outside any transaction, for tests that must corrupt stored data.
  absl::Status RawPutForTesting(Cf cf, std::string_view key, std::string_view value);

  StoreStats stats() const;
  const StoreOptions& options() const { return options_; }

  // The implementation (store.cc), named here so its helpers can reach it.
  struct Rep;

 private:
  Store(StoreOptions options, std::unique_ptr<Rep> rep);
  friend class Txn;
  StoreOptions options_;
  std::unique_ptr<Rep> rep_;
};

int64_t NowMicros();

}  // namespace fedhub::storage

#endif  // FEDHUB_HUB_STORAGE_STORE_H_
