// The RocksDB options the hub's store opens its database with, in one place: the store
// (store.cc) and the benchmarks' raw RocksDB baseline (bench/raw_writes.cc) use the same.
// This header includes RocksDB's; only those two include it.
//
// Thread-safety: stateless functions.
#ifndef FEDHUB_HUB_STORAGE_ROCKSDB_OPTIONS_H_
#define FEDHUB_HUB_STORAGE_ROCKSDB_OPTIONS_H_

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <cstddef>
#include <vector>

namespace fedhub::storage {

// Database-wide options: create what is missing, write flushed files back as they go,
// statistics with tickers only.
rocksdb::Options HubDbOptions();

// One descriptor per column family (Cf), in Cf order, with a block cache of
// `block_cache_bytes` shared by all.
std::vector<rocksdb::ColumnFamilyDescriptor> HubColumnFamilies(size_t block_cache_bytes);

}  // namespace fedhub::storage

#endif  // FEDHUB_HUB_STORAGE_ROCKSDB_OPTIONS_H_
