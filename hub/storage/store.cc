#include "storage/store.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/strings.h"

namespace fedhub::storage {
namespace {

constexpr std::string_view kCfNames[] = {
    "default", "registry", "links", "subjects", "tickets",
    "consents", "subject_consents", "ledger", "audit",
    "events", "event_ids", "catalogue", "erasures",
};
static_assert(std::size(kCfNames) == static_cast<size_t>(Cf::kCount));

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::UnavailableError(Cat("storage ", what, " failed: ", s.ToString(),
                                    "; check the data directory's disk and permissions"));
}

// Pending value for a key: nullopt means deleted.
using Overlay = std::unordered_map<std::string, std::optional<std::string>>;

std::string OverlayKey(Cf cf, std::string_view key) {
  std::string k;
  k.reserve(key.size() + 1);
  k.push_back(static_cast<char>(cf));
  k.append(key);
  return k;
}

}  // namespace

std::string_view CfName(Cf cf) { return kCfNames[static_cast<int>(cf)]; }

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Store::Rep {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  std::shared_ptr<rocksdb::Statistics> statistics;

  // Group commit queue. The front request leads the next group: a Commit caller on its own
  // thread, a CommitAsync request on the committer thread.
  struct Request {
    const TxnFn* fn = nullptr;
    const RefusalFn* refused = nullptr;
    absl::Status result;
    bool done = false;
    std::condition_variable cv;
    // CommitAsync requests own their functions and are completed through on_done.
    TxnFn own_fn;
    RefusalFn own_refused;
    DoneFn on_done;
  };
  std::mutex mu;
  std::deque<Request*> queue;  // guarded by mu
  bool leader_active = false;  // guarded by mu: a group is being written
  bool stopping = false;       // guarded by mu
  std::condition_variable committer_cv;
  std::thread committer;

  std::atomic<uint64_t> commits{0}, groups{0}, failed_groups{0};

  ~Rep() {
    for (auto* h : cfs) {
      if (h != nullptr) db->DestroyColumnFamilyHandle(h);
    }
    if (db) db->Close();
  }

  rocksdb::ColumnFamilyHandle* cf(Cf c) const { return cfs[static_cast<int>(c)]; }
};

struct Txn::Impl {
  Store::Rep* rep;
  const Overlay* group;  // writes of earlier transactions in this group
  std::vector<std::pair<std::string, std::optional<std::string>>> ops;  // in order
  std::unordered_map<std::string, size_t> own;  // key -> its last write in `ops`
  std::vector<std::function<void()>> after;
};

absl::StatusOr<std::optional<std::string>> Txn::Get(Cf cf, std::string_view key) {
  std::string ok = OverlayKey(cf, key);
  if (auto it = impl_->own.find(ok); it != impl_->own.end()) return impl_->ops[it->second].second;
  if (auto it = impl_->group->find(ok); it != impl_->group->end()) return it->second;
  std::string value;
  rocksdb::Status s =
      impl_->rep->db->Get(rocksdb::ReadOptions(), impl_->rep->cf(cf), ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "read");
  return std::optional<std::string>(std::move(value));
}

void Txn::Put(Cf cf, std::string_view key, std::string_view value) { Put(cf, key, std::string(value)); }

void Txn::Put(Cf cf, std::string_view key, std::string&& value) {
  std::string ok = OverlayKey(cf, key);
  impl_->own[ok] = impl_->ops.size();
  impl_->ops.emplace_back(std::move(ok), std::move(value));
}

void Txn::Delete(Cf cf, std::string_view key) {
  std::string ok = OverlayKey(cf, key);
  impl_->own[ok] = impl_->ops.size();
  impl_->ops.emplace_back(std::move(ok), std::nullopt);
}

void Txn::AfterCommit(std::function<void()> fn) { impl_->after.push_back(std::move(fn)); }

Store::Store(StoreOptions options, std::unique_ptr<Rep> rep)
    : options_(std::move(options)), rep_(std::move(rep)) {}

Store::~Store() {
  // Commits what is still queued, then stops the committer, before the database closes.
  if (rep_ && rep_->committer.joinable()) {
    {
      std::lock_guard lock(rep_->mu);
      rep_->stopping = true;
    }
    rep_->committer_cv.notify_one();
    rep_->committer.join();
  }
}

// Runs groups whose first request is asynchronous, so no caller's thread waits for them.
void Store::CommitterLoop() {
  std::unique_lock<std::mutex> lock(rep_->mu);
  while (true) {
    rep_->committer_cv.wait(lock, [&] {
      return rep_->stopping ||
             (!rep_->queue.empty() && !rep_->leader_active && rep_->queue.front()->on_done);
    });
    if (!rep_->queue.empty() && !rep_->leader_active && rep_->queue.front()->on_done) {
      RunGroup(lock);
    } else if (rep_->stopping) {
      return;
    }
  }
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("storage path is empty; set data_dir in the config");
  }
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.avoid_flush_during_shutdown = options.avoid_flush_during_shutdown;
  db_options.statistics = rocksdb::CreateDBStatistics();
  db_options.statistics->set_stats_level(rocksdb::StatsLevel::kExceptTimeForMutex);
  if (options.env != nullptr) db_options.env = options.env;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (std::string_view name : kCfNames) descriptors.emplace_back(std::string(name), cf_options);

  auto rep = std::make_unique<Rep>();
  rep->statistics = db_options.statistics;
  rocksdb::DB* raw = nullptr;
  rocksdb::DBOptions dbo(db_options);
  rocksdb::Status s = rocksdb::DB::Open(dbo, options.path, descriptors, &rep->cfs, &raw);
  if (!s.ok()) {
    return absl::FailedPreconditionError(
        Cat("cannot open the data directory ", options.path, ": ", s.ToString(),
            s.IsIOError() ? " (is another fedhubd using it?)" : ""));
  }
  rep->db.reset(raw);
  std::unique_ptr<Store> store(new Store(options, std::move(rep)));
  store->rep_->committer = std::thread([s = store.get()] { s->CommitterLoop(); });
  return store;
}

absl::Status Store::Commit(const TxnFn& fn, const RefusalFn& on_refused) {
  Rep::Request self;
  self.fn = &fn;
  self.refused = on_refused ? &on_refused : nullptr;

  std::unique_lock<std::mutex> lock(rep_->mu);
  rep_->queue.push_back(&self);
  while (!self.done && !(rep_->queue.front() == &self && !rep_->leader_active)) self.cv.wait(lock);
  if (self.done) return self.result;
  RunGroup(lock);
  return self.result;
}

void Store::CommitAsync(TxnFn fn, RefusalFn on_refused, DoneFn done) {
  auto* r = new Rep::Request;
  r->own_fn = std::move(fn);
  r->fn = &r->own_fn;
  r->own_refused = std::move(on_refused);
  r->refused = r->own_refused ? &r->own_refused : nullptr;
  r->on_done = std::move(done);
  std::lock_guard lock(rep_->mu);
  rep_->queue.push_back(r);
  if (rep_->queue.front() == r && !rep_->leader_active) rep_->committer_cv.notify_one();
}

// Called with `lock` held, no group in progress and the queue not empty: commits every
// request queued so far (up to the limit) as one synced WriteBatch, completes them, and
// hands leadership to the next request. Returns with `lock` held.
void Store::RunGroup(std::unique_lock<std::mutex>& lock) {
  rep_->leader_active = true;
  // This thread leads a group: every request queued so far, up to the limit.
  std::vector<Rep::Request*> group;
  for (Rep::Request* r : rep_->queue) {
    if (static_cast<int>(group.size()) >= options_.max_group_size) break;
    group.push_back(r);
  }
  lock.unlock();

  Overlay overlay;
  rocksdb::WriteBatch batch;
  std::vector<std::function<void()>> after;
  int64_t now = NowMicros();
  auto apply = [&](Txn::Impl& impl) {
    for (auto& [key, value] : impl.ops) {
      Cf cf = static_cast<Cf>(key[0]);
      rocksdb::Slice k(key.data() + 1, key.size() - 1);
      if (value) {
        batch.Put(rep_->cf(cf), k, ToSlice(*value));
      } else {
        batch.Delete(rep_->cf(cf), k);
      }
      overlay[key] = std::move(value);
    }
    for (auto& f : impl.after) after.push_back(std::move(f));
  };
  for (Rep::Request* r : group) {
    Txn::Impl impl{rep_.get(), &overlay, {}, {}, {}};
    Txn txn(&impl, now);
    r->result = (*r->fn)(txn);
    if (r->result.ok()) {
      apply(impl);
    } else if (r->refused != nullptr) {
      Txn::Impl refusal{rep_.get(), &overlay, {}, {}, {}};
      Txn rtxn(&refusal, now);
      (*r->refused)(rtxn, r->result);
      apply(refusal);
    }
  }

  absl::Status write_status;
  if (batch.Count() > 0) {
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync_writes;
    write_status = FromRocks(rep_->db->Write(wo, &batch), "write");
    rep_->groups.fetch_add(1, std::memory_order_relaxed);
  }
  if (write_status.ok()) {
    for (auto& f : after) f();
    rep_->commits.fetch_add(group.size(), std::memory_order_relaxed);
  } else {
    rep_->failed_groups.fetch_add(1, std::memory_order_relaxed);
  }

  std::vector<Rep::Request*> async;
  lock.lock();
  for (Rep::Request* r : group) {
    rep_->queue.pop_front();
    if (!write_status.ok()) r->result = write_status;
    if (r->on_done) {
      async.push_back(r);
    } else {
      r->done = true;
      r->cv.notify_one();
    }
  }
  rep_->leader_active = false;
  if (!rep_->queue.empty()) {
    Rep::Request* next = rep_->queue.front();
    if (next->on_done) {
      rep_->committer_cv.notify_one();
    } else {
      next->cv.notify_one();
    }
  }
  if (!async.empty()) {
    lock.unlock();
    for (Rep::Request* r : async) {
      r->on_done(r->result);
      delete r;
    }
    lock.lock();
  }
}

namespace {

absl::StatusOr<std::optional<std::string>> GetAt(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                                                 const rocksdb::ReadOptions& ro,
                                                 std::string_view key) {
  std::string value;
  rocksdb::Status s = db->Get(ro, cf, ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "read");
  return std::optional<std::string>(std::move(value));
}

absl::Status ScanAt(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const rocksdb::ReadOptions& ro,
                    std::string_view prefix, std::string_view start,
                    const std::function<bool(std::string_view, std::string_view)>& visit) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, cf));
  std::string_view from = start.empty() || start < prefix ? prefix : start;
  for (it->Seek(ToSlice(from)); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!visit(key, std::string_view(it->value().data(), it->value().size()))) break;
  }
  return FromRocks(it->status(), "scan");
}

class RocksSnapshot final : public Snapshot {
 public:
  explicit RocksSnapshot(const Store::Rep* rep);
  ~RocksSnapshot() override;
  absl::StatusOr<std::optional<std::string>> Get(Cf cf, std::string_view key) const override;
  absl::Status Scan(Cf cf, std::string_view prefix, std::string_view start,
                    const std::function<bool(std::string_view, std::string_view)>& visit)
      const override;

 private:
  const Store::Rep* rep_;
  const rocksdb::Snapshot* snap_;
  rocksdb::ReadOptions ro_;
};

}  // namespace

RocksSnapshot::RocksSnapshot(const Store::Rep* rep) : rep_(rep), snap_(rep->db->GetSnapshot()) {
  ro_.snapshot = snap_;
}

RocksSnapshot::~RocksSnapshot() { rep_->db->ReleaseSnapshot(snap_); }

absl::StatusOr<std::optional<std::string>> RocksSnapshot::Get(Cf cf, std::string_view key) const {
  return GetAt(rep_->db.get(), rep_->cf(cf), ro_, key);
}

absl::Status RocksSnapshot::Scan(
    Cf cf, std::string_view prefix, std::string_view start,
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  return ScanAt(rep_->db.get(), rep_->cf(cf), ro_, prefix, start, visit);
}

std::unique_ptr<Snapshot> Store::GetSnapshot() const {
  return std::make_unique<RocksSnapshot>(rep_.get());
}

absl::StatusOr<std::optional<std::string>> Store::Get(Cf cf, std::string_view key) const {
  return GetAt(rep_->db.get(), rep_->cf(cf), rocksdb::ReadOptions(), key);
}

absl::Status Store::Scan(
    Cf cf, std::string_view prefix, std::string_view start,
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  return ScanAt(rep_->db.get(), rep_->cf(cf), rocksdb::ReadOptions(), prefix, start, visit);
}

absl::Status Store::RawPutForTesting(Cf cf, std::string_view key, std::string_view value) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(rep_->db->Put(wo, rep_->cf(cf), ToSlice(key), ToSlice(value)), "write");
}

StoreStats Store::stats() const {
  StoreStats s;
  s.commits = rep_->commits.load(std::memory_order_relaxed);
  s.groups = rep_->groups.load(std::memory_order_relaxed);
  s.failed_groups = rep_->failed_groups.load(std::memory_order_relaxed);
  s.stall_micros = rep_->statistics->getTickerCount(rocksdb::STALL_MICROS);
  return s;
}

}  // namespace fedhub::storage
