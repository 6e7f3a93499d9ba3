#include "storage/store.h"

#include <rocksdb/db.h>
#include <rocksdb/statistics.h>
#include <rocksdb/write_batch.h>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/strings.h"
#include "storage/rocksdb_options.h"

namespace fedhub::storage {
namespace {

constexpr std::string_view kCfNames[] = {
    "default", "registry", "links", "subjects", "tickets",
    "consents", "subject_consents", "ledger", "audit",
    "events", "event_ids", "catalogue", "erasures", "merkle", "tree_heads",
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

namespace {

// A transaction waiting to be committed.
struct Request {
  const TxnFn* fn = nullptr;
  const RefusalFn* refused = nullptr;
  absl::Status result;
  // Commit callers wait on `cv` until `done`; CommitAsync requests own their functions and
  // are completed through on_done instead.
  bool done = false;
  std::condition_variable cv;
  TxnFn own_fn;
  RefusalFn own_refused;
  DoneFn on_done;
};

// A group prepared by the committer: its requests, their writes as one batch and as an
// overlay later transactions read, and the hooks to run once it is durable.
struct Group {
  std::vector<Request*> requests;
  rocksdb::WriteBatch batch;
  std::shared_ptr<const Overlay> overlay;
  std::vector<std::function<void()>> after;
  // Prepared while the previous group was not yet durable: it may have read that group's
  // writes, so it fails if that group fails.
  bool read_unwritten = false;
};

// Every acknowledgement waits for the committer and the writer; when the CPUs are busy,
// their scheduling delay is everyone's latency, so they ask for nice -10. Best effort:
// without CAP_SYS_NICE the request fails and they keep the process's nice value.
void RaiseThreadPriority() { setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), -10); }

}  // namespace

struct Store::Rep {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  std::shared_ptr<rocksdb::Statistics> statistics;
  StoreOptions options;

  std::mutex mu;
  std::deque<Request*> queue;              // guarded by mu: waiting for the committer
  std::unique_ptr<Group> ready;            // guarded by mu: prepared, waiting for the writer
  std::shared_ptr<const Overlay> unwritten;  // guarded by mu: writes of the newest prepared
                                             // group whose write has not finished
  bool stopping = false;                   // guarded by mu
  bool committer_done = false;             // guarded by mu
  std::condition_variable committer_cv;    // queue gained a request, or `ready` was taken
  std::condition_variable writer_cv;       // `ready` was set, or the committer finished
  std::thread committer, writer;
  absl::Status last_write;                 // writer thread only: status of the last group

  std::atomic<uint64_t> commits{0}, groups{0}, failed_groups{0};

  ~Rep() {
    for (auto* h : cfs) {
      if (h != nullptr) db->DestroyColumnFamilyHandle(h);
    }
    if (db) db->Close();
  }

  rocksdb::ColumnFamilyHandle* cf(Cf c) const { return cfs[static_cast<int>(c)]; }
  bool OnStoreThread() const {
    auto self = std::this_thread::get_id();
    return self == committer.get_id() || self == writer.get_id();
  }

  void Enqueue(Request* r);
  void CommitterLoop();
  std::unique_ptr<Group> Prepare(std::vector<Request*> requests, const Overlay* unwritten);
  void WriterLoop();
  void Write(Group& group);
};

struct Txn::Impl {
  Store::Rep* rep;
  const Overlay* group;      // writes of earlier transactions in this group
  const Overlay* unwritten;  // writes of the group being written, or null
  std::vector<std::pair<std::string, std::optional<std::string>>> ops;  // in order
  std::unordered_map<std::string, size_t> own;  // key -> its last write in `ops`
  std::vector<std::function<void()>> after;

  // The value (or deletion) an overlay holds for `ok` (an OverlayKey), or null if none
  // does: this transaction's writes, then the group's, then the group being written.
  const std::optional<std::string>* Find(const std::string& ok) const {
    if (auto it = own.find(ok); it != own.end()) return &ops[it->second].second;
    if (auto it = group->find(ok); it != group->end()) return &it->second;
    if (unwritten != nullptr) {
      if (auto it = unwritten->find(ok); it != unwritten->end()) return &it->second;
    }
    return nullptr;
  }
};

absl::StatusOr<std::optional<std::string>> Txn::Get(Cf cf, std::string_view key) {
  if (const auto* held = impl_->Find(OverlayKey(cf, key))) return *held;
  std::string value;
  rocksdb::Status s =
      impl_->rep->db->Get(rocksdb::ReadOptions(), impl_->rep->cf(cf), ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "read");
  return std::optional<std::string>(std::move(value));
}

absl::StatusOr<std::vector<std::optional<std::string>>> Txn::GetMany(Cf cf, const std::vector<std::string>& keys) {
  std::vector<std::optional<std::string>> out(keys.size());
  std::vector<size_t> from_db;  // indexes of keys no overlay holds
  for (size_t i = 0; i < keys.size(); ++i) {
    if (const auto* held = impl_->Find(OverlayKey(cf, keys[i]))) {
      out[i] = *held;
    } else {
      from_db.push_back(i);
    }
  }
  if (from_db.empty()) return out;
  std::vector<rocksdb::Slice> slices;
  slices.reserve(from_db.size());
  for (size_t i : from_db) slices.push_back(ToSlice(keys[i]));
  std::vector<rocksdb::PinnableSlice> values(from_db.size());
  std::vector<rocksdb::Status> statuses(from_db.size());
  impl_->rep->db->MultiGet(rocksdb::ReadOptions(), impl_->rep->cf(cf), slices.size(), slices.data(), values.data(),
                           statuses.data());
  for (size_t k = 0; k < from_db.size(); ++k) {
    if (statuses[k].IsNotFound()) continue;
    if (!statuses[k].ok()) return FromRocks(statuses[k], "read");
    out[from_db[k]] = values[k].ToString();
  }
  return out;
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
  // Commits what is still queued, then stops both threads, before the database closes.
  if (!rep_) return;
  {
    std::lock_guard lock(rep_->mu);
    rep_->stopping = true;
  }
  rep_->committer_cv.notify_one();
  if (rep_->committer.joinable()) rep_->committer.join();
  if (rep_->writer.joinable()) rep_->writer.join();
}

void Store::Rep::Enqueue(Request* r) {
  std::lock_guard lock(mu);
  queue.push_back(r);
  if (queue.size() == 1) committer_cv.notify_one();
}

// Takes every request queued so far (up to the group limit) once the writer has room for
// another group, runs their transactions and hands the group to the writer.
void Store::Rep::CommitterLoop() {
  RaiseThreadPriority();
  std::unique_lock<std::mutex> lock(mu);
  while (true) {
    committer_cv.wait(lock, [&] { return (!queue.empty() && ready == nullptr) || (stopping && queue.empty()); });
    if (queue.empty()) break;  // stopping, and everything queued has been prepared
    std::vector<Request*> requests;
    while (!queue.empty() && static_cast<int>(requests.size()) < options.max_group_size) {
      requests.push_back(queue.front());
      queue.pop_front();
    }
    std::shared_ptr<const Overlay> base = unwritten;
    lock.unlock();
    std::unique_ptr<Group> group = Prepare(std::move(requests), base.get());
    group->read_unwritten = base != nullptr;
    lock.lock();
    unwritten = group->overlay;
    ready = std::move(group);
    writer_cv.notify_one();
  }
  committer_done = true;
  writer_cv.notify_one();
}

std::unique_ptr<Group> Store::Rep::Prepare(std::vector<Request*> requests, const Overlay* base) {
  auto group = std::make_unique<Group>();
  group->requests = std::move(requests);
  auto overlay = std::make_shared<Overlay>();
  int64_t now = NowMicros();
  auto apply = [&](Txn::Impl& impl) {
    for (auto& [key, value] : impl.ops) {
      Cf c = static_cast<Cf>(key[0]);
      rocksdb::Slice k(key.data() + 1, key.size() - 1);
      if (value) {
        group->batch.Put(cf(c), k, ToSlice(*value));
      } else {
        group->batch.Delete(cf(c), k);
      }
      (*overlay)[key] = std::move(value);
    }
    for (auto& f : impl.after) group->after.push_back(std::move(f));
  };
  for (Request* r : group->requests) {
    Txn::Impl impl{this, overlay.get(), base, {}, {}, {}};
    Txn txn(&impl, now);
    r->result = (*r->fn)(txn);
    if (r->result.ok()) {
      apply(impl);
    } else if (r->refused != nullptr) {
      Txn::Impl refusal{this, overlay.get(), base, {}, {}, {}};
      Txn rtxn(&refusal, now);
      (*r->refused)(rtxn, r->result);
      apply(refusal);
    }
  }
  group->overlay = std::move(overlay);
  return group;
}

// Writes prepared groups in order and completes their requests.
void Store::Rep::WriterLoop() {
  RaiseThreadPriority();
  std::unique_lock<std::mutex> lock(mu);
  while (true) {
    writer_cv.wait(lock, [&] { return ready != nullptr || committer_done; });
    if (ready == nullptr) return;
    std::unique_ptr<Group> group = std::move(ready);
    committer_cv.notify_one();  // room for the next group
    lock.unlock();
    Write(*group);
    lock.lock();
    // Once written, the database itself holds what the overlay did.
    if (unwritten == group->overlay) unwritten.reset();
    std::vector<Request*> async;
    for (Request* r : group->requests) {
      if (!last_write.ok()) r->result = last_write;
      if (r->on_done) {
        async.push_back(r);
      } else {
        r->done = true;
        r->cv.notify_one();
      }
    }
    if (!async.empty()) {
      lock.unlock();
      for (Request* r : async) {
        r->on_done(r->result);
        delete r;
      }
      lock.lock();
    }
  }
}

// Writes one group with one sync and runs its hooks; sets last_write.
void Store::Rep::Write(Group& group) {
  if (group.read_unwritten && !last_write.ok()) {
    // It may have read the failed group's writes: refuse it too, unwritten.
    failed_groups.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  last_write = absl::OkStatus();
  if (group.batch.Count() > 0) {
    rocksdb::WriteOptions wo;
    wo.sync = options.sync_writes;
    last_write = FromRocks(db->Write(wo, &group.batch), "write");
    groups.fetch_add(1, std::memory_order_relaxed);
  }
  if (!last_write.ok()) {
    failed_groups.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  for (auto& f : group.after) f();
  commits.fetch_add(group.requests.size(), std::memory_order_relaxed);
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("storage path is empty; set data_dir in the config");
  }
  rocksdb::Options db_options = HubDbOptions();
  db_options.avoid_flush_during_shutdown = options.avoid_flush_during_shutdown;
  if (options.env != nullptr) db_options.env = options.env;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = HubColumnFamilies(options.block_cache_bytes);

  auto rep = std::make_unique<Rep>();
  rep->statistics = db_options.statistics;
  rep->options = options;
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
  Rep* r = store->rep_.get();
  r->committer = std::thread([r] { r->CommitterLoop(); });
  r->writer = std::thread([r] { r->WriterLoop(); });
  return store;
}

absl::Status Store::Commit(const TxnFn& fn, const RefusalFn& on_refused) {
  if (rep_->OnStoreThread()) {
    return absl::InternalError(
        "Store::Commit called from a transaction, hook or completion callback; use CommitAsync there");
  }
  Request self;
  self.fn = &fn;
  self.refused = on_refused ? &on_refused : nullptr;
  rep_->Enqueue(&self);
  std::unique_lock<std::mutex> lock(rep_->mu);
  self.cv.wait(lock, [&] { return self.done; });
  return self.result;
}

void Store::CommitAsync(TxnFn fn, RefusalFn on_refused, DoneFn done) {
  auto* r = new Request;
  r->own_fn = std::move(fn);
  r->fn = &r->own_fn;
  r->own_refused = std::move(on_refused);
  r->refused = r->own_refused ? &r->own_refused : nullptr;
  r->on_done = std::move(done);
  rep_->Enqueue(r);
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
