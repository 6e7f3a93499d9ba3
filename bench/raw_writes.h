// The grant baseline: synced RocksDB WriteBatches shaped like one grant's records,
// written straight to a fresh database opened with the hub's options (same column
// families, table options and statistics), with no gRPC, TLS, hashing or signing.
// Concurrent writers are grouped by RocksDB's own write-group leader (one WAL write
// and one sync per group).
#ifndef FEDHUB_BENCH_RAW_WRITES_H_
#define FEDHUB_BENCH_RAW_WRITES_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Statistics;
}  // namespace rocksdb

namespace fedhub::bench {

// One Put of a grant's WriteBatch.
struct PutShape {
  std::string what;  // e.g. "ledger entry"
  int cf = 0;        // storage::Cf value
  size_t key_bytes = 0;
  size_t value_bytes = 0;
  // The key is the same on every write (a chain head); otherwise it is unique.
  bool fixed_key = false;
};

size_t TotalBytes(const std::vector<PutShape>& shape);

// Calls fn(cf, key, value) for each put of write number n of `shape`: unique keys
// (big-endian n first, like the chains' sequence keys) or the fixed key, values cut from
// fixed random bytes. With `apart`, every key starts with 0xff so that writes into the
// hub's own database stay clear of its real keys.
void ForEachPut(
    const std::vector<PutShape>& shape, uint64_t n, bool apart,
    const std::function<void(int cf, std::string_view key, std::string_view value)>& fn);

// RocksDB's write-group counters: a group leader writes "by self", the writers it
// carried "by other"; one WAL sync per group.
struct RawStats {
  uint64_t by_self = 0;
  uint64_t by_other = 0;
  uint64_t wal_syncs = 0;
};

class RawDb {
 public:
  // Opens a new database in `path` (which must not hold one).
  static absl::StatusOr<std::unique_ptr<RawDb>> Open(const std::string& path);
  ~RawDb();

  // Writes one batch of `shape` with WriteOptions::sync = true. Thread-safe.
  // Returns an empty string on success, else the error.
  std::string WriteGrantLike(const std::vector<PutShape>& shape);

  RawStats stats() const;

 private:
  RawDb() = default;
  std::shared_ptr<rocksdb::Statistics> statistics_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
  std::atomic<uint64_t> next_key_{0};
};

}  // namespace fedhub::bench

#endif  // FEDHUB_BENCH_RAW_WRITES_H_
