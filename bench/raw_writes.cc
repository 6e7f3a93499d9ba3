#include "raw_writes.h"

#include <rocksdb/db.h>
#include <rocksdb/statistics.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <random>

#include "core/strings.h"
#include "storage/rocksdb_options.h"
#include "storage/store.h"

namespace fedhub::bench {

size_t TotalBytes(const std::vector<PutShape>& shape) {
  size_t n = 0;
  for (const PutShape& p : shape) n += p.key_bytes + p.value_bytes;
  return n;
}

namespace {

const std::string& Filler() {
  static const std::string* filler = [] {
    auto* s = new std::string(64 << 10, '\0');
    std::mt19937_64 rng(42);
    for (char& ch : *s) ch = static_cast<char>(rng());
    return s;
  }();
  return *filler;
}

}  // namespace

void ForEachPut(const std::vector<PutShape>& shape, uint64_t n, bool apart,
                const std::function<void(int, std::string_view, std::string_view)>& fn) {
  const std::string& filler = Filler();
  std::string key;
  for (size_t i = 0; i < shape.size(); ++i) {
    const PutShape& p = shape[i];
    key.clear();
    if (apart) key.push_back('\xff');
    if (p.fixed_key) {
      key.append(p.key_bytes, 'h');
    } else {
      for (int b = 56; b >= 0; b -= 8) key.push_back(static_cast<char>(n >> b & 0xff));
      key.push_back(static_cast<char>(i));
    }
    key.resize(std::max<size_t>(p.key_bytes, apart ? 9 : 8), 'k');
    size_t offset = (n * 977 + i * 131) % (filler.size() - p.value_bytes);
    fn(p.cf, key, std::string_view(filler).substr(offset, p.value_bytes));
  }
}

absl::StatusOr<std::unique_ptr<RawDb>> RawDb::Open(const std::string& path) {
  // The same options as storage::Store::Open, from the same place.
  rocksdb::Options options = storage::HubDbOptions();
  options.error_if_exists = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = storage::HubColumnFamilies(64 << 20);
  std::unique_ptr<RawDb> db(new RawDb());
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(rocksdb::DBOptions(options), path, descriptors, &db->cfs_, &raw);
  if (!s.ok()) return absl::UnavailableError(Cat("baseline database ", path, ": ", s.ToString()));
  db->db_.reset(raw);
  db->statistics_ = options.statistics;
  return db;
}

RawDb::~RawDb() {
  for (auto* h : cfs_) {
    if (h != nullptr) db_->DestroyColumnFamilyHandle(h);
  }
  if (db_) db_->Close();
}

std::string RawDb::WriteGrantLike(const std::vector<PutShape>& shape) {
  uint64_t n = next_key_.fetch_add(1, std::memory_order_relaxed);
  rocksdb::WriteBatch batch;
  ForEachPut(shape, n, false, [&](int cf, std::string_view key, std::string_view value) {
    batch.Put(cfs_[cf], rocksdb::Slice(key.data(), key.size()),
              rocksdb::Slice(value.data(), value.size()));
  });
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db_->Write(wo, &batch);
  return s.ok() ? std::string() : s.ToString();
}

RawStats RawDb::stats() const {
  RawStats s;
  s.by_self = statistics_->getTickerCount(rocksdb::WRITE_DONE_BY_SELF);
  s.by_other = statistics_->getTickerCount(rocksdb::WRITE_DONE_BY_OTHER);
  s.wal_syncs = statistics_->getTickerCount(rocksdb::WAL_FILE_SYNCED);
  return s;
}

}  // namespace fedhub::bench
