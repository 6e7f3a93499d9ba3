#include "storage/rocksdb_options.h"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>

#include <string>

#include "storage/store.h"

namespace fedhub::storage {

rocksdb::Options HubDbOptions() {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  // Flushes and compactions write their files back to disk as they go instead of in one
  // burst at the end, which would sit in front of the next WAL sync in the disk's queue.
  o.bytes_per_sync = 1 << 20;
  o.statistics = rocksdb::CreateDBStatistics();
  // Tickers only (the stall counter): no timers or histograms on the write path.
  o.statistics->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
  return o;
}

std::vector<rocksdb::ColumnFamilyDescriptor> HubColumnFamilies(size_t block_cache_bytes) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Column families read by key for keys that are usually absent (a new event id) or that
  // were just written get a bloom filter in the memtable too: a miss skips the skip list.
  rocksdb::ColumnFamilyOptions lookup_options = cf_options;
  lookup_options.memtable_prefix_bloom_size_ratio = 0.05;
  lookup_options.memtable_whole_key_filtering = true;

  std::vector<rocksdb::ColumnFamilyDescriptor> out;
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    const Cf cf = static_cast<Cf>(i);
    const bool lookup = cf == Cf::kEventIds || cf == Cf::kLinks;
    out.emplace_back(std::string(CfName(cf)), lookup ? lookup_options : cf_options);
  }
  return out;
}

}  // namespace fedhub::storage
