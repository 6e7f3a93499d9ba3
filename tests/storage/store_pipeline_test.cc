// The store's two-stage pipeline over a real RocksDB: a group prepared while the previous
// one is still syncing reads that group's writes, fails with it if its write fails, and
// completes in commit order. A file system whose WAL sync can be held open makes the
// overlap deterministic.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "scratch_dir.h"
#include "core/strings.h"
#include "storage/store.h"

namespace fedhub::storage {
namespace {

using ::testing::HasSubstr;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;

// Holds the next write-ahead-log sync, once armed, until the test releases it with a
// result of its choice.
class GatedSyncFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit GatedSyncFileSystem(std::shared_ptr<rocksdb::FileSystem> base)
      : FileSystemWrapper(std::move(base)) {}
  static const char* kClassName() { return "FedHubGatedSyncFileSystem"; }
  const char* Name() const override { return kClassName(); }

  void Arm() {
    std::lock_guard lock(mu_);
    armed_ = true;
  }
  // Blocks until a sync is held at the gate.
  void WaitUntilHeld() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return held_; });
  }
  void Release(bool fail) {
    std::lock_guard lock(mu_);
    fail_ = fail;
    released_ = true;
    cv_.notify_all();
  }

  IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                           std::unique_ptr<rocksdb::FSWritableFile>* result, IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    IOStatus s = target()->NewWritableFile(fname, opts, &file, dbg);
    if (!s.ok()) return s;
    if (fname.size() > 4 && fname.compare(fname.size() - 4, 4, ".log") == 0) {
      *result = std::make_unique<Wal>(std::move(file), this);
    } else {
      *result = std::move(file);
    }
    return s;
  }

 private:
  class Wal : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    Wal(std::unique_ptr<rocksdb::FSWritableFile> f, GatedSyncFileSystem* fs)
        : FSWritableFileOwnerWrapper(std::move(f)), fs_(fs) {}
    IOStatus Sync(const IOOptions& o, IODebugContext* d) override {
      return fs_->Gate([&] { return target()->Sync(o, d); });
    }
    IOStatus Fsync(const IOOptions& o, IODebugContext* d) override {
      return fs_->Gate([&] { return target()->Fsync(o, d); });
    }

   private:
    GatedSyncFileSystem* fs_;
  };

  template <typename Fn>
  IOStatus Gate(Fn sync) {
    std::unique_lock lock(mu_);
    if (!armed_) {
      lock.unlock();
      return sync();
    }
    armed_ = false;
    held_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_; });
    if (fail_) return IOStatus::IOError("the disk refused the sync (test gate)");
    lock.unlock();
    return sync();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false, held_ = false, released_ = false, fail_ = false;
};

class StorePipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = std::make_shared<GatedSyncFileSystem>(rocksdb::FileSystem::Default());
    env_ = rocksdb::NewCompositeEnv(fs_);
    StoreOptions o;
    o.path = dir_.Sub("db");
    o.env = env_.get();
    auto s = Store::Open(o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  void TearDown() override { store_.reset(); }

  std::optional<std::string> Read(std::string_view key) {
    auto v = store_->Get(Cf::kMeta, key);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : std::nullopt;
  }

  // Queues a write of a=1 and returns once its group's sync is held at the gate.
  std::future<absl::Status> FirstGroupHeldAtTheGate() {
    fs_->Arm();
    auto done = std::make_shared<std::promise<absl::Status>>();
    std::future<absl::Status> f = done->get_future();
    store_->CommitAsync(
        [](Txn& txn) {
          txn.Put(Cf::kMeta, "a", "1");
          return absl::OkStatus();
        },
        nullptr, [done](const absl::Status& s) { done->set_value(s); });
    fs_->WaitUntilHeld();
    return f;
  }

  // Queues a transaction that reads a and writes b = a + "2"; returns once it has run
  // (its group is then prepared) with what it read, and its completion.
  std::pair<std::optional<std::string>, std::future<absl::Status>> SecondGroupPrepared() {
    auto ran = std::make_shared<std::promise<std::optional<std::string>>>();
    auto done = std::make_shared<std::promise<absl::Status>>();
    std::future<std::optional<std::string>> read = ran->get_future();
    std::future<absl::Status> f = done->get_future();
    store_->CommitAsync(
        [ran](Txn& txn) -> absl::Status {
          auto a = txn.Get(Cf::kMeta, "a");
          if (!a.ok()) return a.status();
          txn.Put(Cf::kMeta, "b", a->value_or("") + "2");
          ran->set_value(*a);
          return absl::OkStatus();
        },
        nullptr, [done](const absl::Status& s) { done->set_value(s); });
    return {read.get(), std::move(f)};
  }

  testing::ScratchDir dir_;
  std::shared_ptr<GatedSyncFileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<Store> store_;
};

TEST_F(StorePipelineTest, AGroupPreparedDuringTheSyncOfTheLastReadsItsWrites) {
  std::future<absl::Status> first = FirstGroupHeldAtTheGate();
  auto [read, second] = SecondGroupPrepared();
  // The second group ran while the first was not yet durable, and saw its write.
  EXPECT_EQ(read, "1");
  EXPECT_EQ(second.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
      << "a group must not complete before the group it read from is durable";

  fs_->Release(/*fail=*/false);
  EXPECT_TRUE(first.get().ok());
  EXPECT_TRUE(second.get().ok());
  EXPECT_EQ(Read("a"), "1");
  EXPECT_EQ(Read("b"), "12");
  EXPECT_EQ(store_->stats().groups, 2u);
}

TEST_F(StorePipelineTest, AGroupThatReadAFailedGroupsWritesFailsWithItAndWritesNothing) {
  std::future<absl::Status> first = FirstGroupHeldAtTheGate();
  auto [read, second] = SecondGroupPrepared();
  EXPECT_EQ(read, "1");

  fs_->Release(/*fail=*/true);
  absl::Status s1 = first.get();
  absl::Status s2 = second.get();
  EXPECT_EQ(s1.code(), absl::StatusCode::kUnavailable) << s1;
  EXPECT_THAT(s1.message(), HasSubstr("the disk refused the sync"));
  EXPECT_EQ(s2, s1) << "the dependent group reports the failure it depended on";
  EXPECT_EQ(Read("a"), std::nullopt);
  EXPECT_EQ(Read("b"), std::nullopt);
  EXPECT_EQ(store_->stats().failed_groups, 2u);
  EXPECT_EQ(store_->stats().commits, 0u);
}

TEST_F(StorePipelineTest, CommitFromAHookOrCallbackIsRefusedInsteadOfDeadlocking) {
  absl::Status from_hook, from_done;
  absl::Status outer = store_->Commit([&](Txn& txn) {
    txn.Put(Cf::kMeta, "k", "v");
    txn.AfterCommit([&] { from_hook = store_->Commit([](Txn&) { return absl::OkStatus(); }); });
    return absl::OkStatus();
  });
  ASSERT_TRUE(outer.ok()) << outer;
  EXPECT_EQ(from_hook.code(), absl::StatusCode::kInternal) << from_hook;
  EXPECT_THAT(from_hook.message(), HasSubstr("use CommitAsync"));

  std::promise<void> finished;
  store_->CommitAsync([](Txn&) { return absl::OkStatus(); }, nullptr, [&](const absl::Status&) {
    from_done = store_->Commit([](Txn&) { return absl::OkStatus(); });
    finished.set_value();
  });
  finished.get_future().wait();
  EXPECT_EQ(from_done.code(), absl::StatusCode::kInternal) << from_done;
}

TEST_F(StorePipelineTest, HooksAndCompletionsRunInCommitOrderAcrossOverlappingGroups) {
  // Hold the first group's sync so later requests pile up into overlapping groups.
  std::future<absl::Status> first = FirstGroupHeldAtTheGate();
  constexpr int kRequests = 200;
  std::mutex mu;
  std::vector<int> hooks, completions;
  std::promise<void> all_done;
  int remaining = kRequests;
  for (int i = 0; i < kRequests; ++i) {
    store_->CommitAsync(
        [&, i](Txn& txn) {
          txn.Put(Cf::kMeta, Cat("n", i), "x");
          txn.AfterCommit([&, i] {
            std::lock_guard lock(mu);
            hooks.push_back(i);
          });
          return absl::OkStatus();
        },
        nullptr,
        [&, i](const absl::Status& s) {
          EXPECT_TRUE(s.ok()) << s;
          bool last = false;
          {
            std::lock_guard lock(mu);
            completions.push_back(i);
            last = --remaining == 0;
          }
          if (last) all_done.set_value();  // the test's locals may go once this returns
        });
  }
  fs_->Release(/*fail=*/false);
  EXPECT_TRUE(first.get().ok());
  all_done.get_future().wait();
  std::vector<int> expected(kRequests);
  for (int i = 0; i < kRequests; ++i) expected[i] = i;
  EXPECT_EQ(hooks, expected);
  EXPECT_EQ(completions, expected);
}

}  // namespace
}  // namespace fedhub::storage
