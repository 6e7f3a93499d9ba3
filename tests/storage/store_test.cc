// Store over a real RocksDB in a fresh directory per test: transactions, refusals, group
// commit, reads and reopening.
#include "storage/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "scratch_dir.h"
#include "storage/keys.h"

namespace fedhub::storage {
namespace {

using ::testing::HasSubstr;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    StoreOptions o;
    o.path = dir_.Sub("db");
    auto s = Store::Open(o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }

  std::optional<std::string> Read(Cf cf, std::string_view key) {
    auto v = store_->Get(cf, key);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : std::nullopt;
  }

  absl::Status PutOne(Cf cf, std::string_view key, std::string_view value) {
    return store_->Commit([&](Txn& txn) {
      txn.Put(cf, key, value);
      return absl::OkStatus();
    });
  }

  testing::ScratchDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, CommitAppliesEveryWrite) {
  ASSERT_TRUE(PutOne(Cf::kRegistry, "gone", "soon").ok());
  absl::Status s = store_->Commit([](Txn& txn) {
    txn.Put(Cf::kRegistry, "plat-a", "record-a");
    txn.Put(Cf::kLinks, "plat-a", "link-a");  // same key, another column family
    txn.Put(Cf::kAudit, U64Key(1), "entry-1");
    txn.Put(Cf::kMeta, kAuditHeadKey, "head");
    txn.Delete(Cf::kRegistry, "gone");
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(Read(Cf::kRegistry, "plat-a"), "record-a");
  EXPECT_EQ(Read(Cf::kLinks, "plat-a"), "link-a");
  EXPECT_EQ(Read(Cf::kAudit, U64Key(1)), "entry-1");
  EXPECT_EQ(Read(Cf::kMeta, kAuditHeadKey), "head");
  EXPECT_EQ(Read(Cf::kRegistry, "gone"), std::nullopt);
  EXPECT_EQ(Read(Cf::kConsents, "plat-a"), std::nullopt);
}

TEST_F(StoreTest, FailedTransactionWritesNothing) {
  ASSERT_TRUE(PutOne(Cf::kConsents, "kept", "original").ok());
  StoreStats before = store_->stats();
  bool after_ran = false;
  absl::Status s = store_->Commit([&](Txn& txn) {
    txn.Put(Cf::kConsents, "new", "value");
    txn.Delete(Cf::kConsents, "kept");
    txn.Put(Cf::kLedger, U64Key(1), "entry");
    txn.AfterCommit([&] { after_ran = true; });
    return absl::FailedPreconditionError("refused by the domain");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "refused by the domain");
  EXPECT_EQ(Read(Cf::kConsents, "new"), std::nullopt);
  EXPECT_EQ(Read(Cf::kConsents, "kept"), "original");
  EXPECT_EQ(Read(Cf::kLedger, U64Key(1)), std::nullopt);
  EXPECT_FALSE(after_ran);
  // Nothing to write, so no batch was synced for it.
  EXPECT_EQ(store_->stats().groups, before.groups);
}

TEST_F(StoreTest, RefusalWritesItsRecordButNothingOfTheChange) {
  bool refusal_after_ran = false;
  absl::Status seen_by_refusal;
  std::optional<std::string> change_seen_by_refusal = "unset";
  absl::Status s = store_->Commit(
      [](Txn& txn) {
        txn.Put(Cf::kConsents, "c-1", "consent");
        txn.Put(Cf::kLedger, U64Key(1), "ledger entry");
        return absl::PermissionDeniedError("not yours");
      },
      [&](Txn& txn, const absl::Status& refusal) {
        seen_by_refusal = refusal;
        auto v = txn.Get(Cf::kConsents, "c-1");
        ASSERT_TRUE(v.ok());
        change_seen_by_refusal = *v;
        txn.Put(Cf::kAudit, U64Key(1), "denied");
        txn.AfterCommit([&] { refusal_after_ran = true; });
      });
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(seen_by_refusal.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(change_seen_by_refusal, std::nullopt) << "the refusal saw the refused writes";
  EXPECT_EQ(Read(Cf::kConsents, "c-1"), std::nullopt);
  EXPECT_EQ(Read(Cf::kLedger, U64Key(1)), std::nullopt);
  EXPECT_EQ(Read(Cf::kAudit, U64Key(1)), "denied");
  EXPECT_TRUE(refusal_after_ran);
}

TEST_F(StoreTest, ReadsSeeOwnWritesBeforeCommit) {
  ASSERT_TRUE(PutOne(Cf::kSubjects, "k", "committed").ok());
  absl::Status s = store_->Commit([&](Txn& txn) -> absl::Status {
    EXPECT_EQ(*txn.Get(Cf::kSubjects, "k"), "committed");
    txn.Put(Cf::kSubjects, "k", "mine");
    EXPECT_EQ(*txn.Get(Cf::kSubjects, "k"), "mine");
    EXPECT_EQ(*store_->Get(Cf::kSubjects, "k"), "committed") << "visible before durable";
    txn.Delete(Cf::kSubjects, "k");
    EXPECT_EQ(*txn.Get(Cf::kSubjects, "k"), std::nullopt);
    txn.Put(Cf::kSubjects, "k", "final");
    EXPECT_EQ(*txn.Get(Cf::kSubjects, "k"), "final");
    EXPECT_EQ(*txn.Get(Cf::kTickets, "k"), std::nullopt);
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(Read(Cf::kSubjects, "k"), "final");
}

// GetMany answers as Get would for each key, in order: own writes and deletions first,
// then the database (read in one batch), absent keys as nullopt.
TEST_F(StoreTest, GetManyAnswersAsGetForEachKey) {
  ASSERT_TRUE(PutOne(Cf::kSubjects, "a", "committed-a").ok());
  ASSERT_TRUE(PutOne(Cf::kSubjects, "b", "committed-b").ok());
  ASSERT_TRUE(PutOne(Cf::kSubjects, "c", "committed-c").ok());
  absl::Status s = store_->Commit([&](Txn& txn) -> absl::Status {
    txn.Put(Cf::kSubjects, "b", "mine-b");
    txn.Delete(Cf::kSubjects, "c");
    txn.Put(Cf::kSubjects, "d", "mine-d");
    const std::vector<std::string> keys = {"d", "a", "missing", "b", "c", "a"};
    auto got = txn.GetMany(Cf::kSubjects, keys);
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok()) return got.status();
    EXPECT_EQ(got->size(), keys.size());
    for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ((*got)[i], *txn.Get(Cf::kSubjects, keys[i])) << keys[i];
    EXPECT_EQ((*got)[0], "mine-d");
    EXPECT_EQ((*got)[1], "committed-a");
    EXPECT_EQ((*got)[2], std::nullopt);
    EXPECT_EQ((*got)[3], "mine-b");
    EXPECT_EQ((*got)[4], std::nullopt);
    EXPECT_EQ((*got)[5], "committed-a");
    EXPECT_TRUE(txn.GetMany(Cf::kTickets, {})->empty());
    EXPECT_EQ((*txn.GetMany(Cf::kTickets, {"a"}))[0], std::nullopt) << "another column family";
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
}

TEST_F(StoreTest, AfterCommitRunsOnceDurableBeforeCommitReturns) {
  std::optional<std::string> seen;
  absl::Status s = store_->Commit([&](Txn& txn) {
    txn.Put(Cf::kMeta, "x", "1");
    txn.AfterCommit([&] { seen = *store_->Get(Cf::kMeta, "x"); });
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(seen, "1");
}

TEST_F(StoreTest, TransactionTimeIsFixedAndCurrent) {
  int64_t before = NowMicros();
  int64_t first = 0, second = 0;
  ASSERT_TRUE(store_->Commit([&](Txn& txn) {
                      first = txn.now_micros();
                      second = txn.now_micros();
                      return absl::OkStatus();
                    }).ok());
  int64_t after = NowMicros();
  EXPECT_EQ(first, second);
  EXPECT_GE(first, before);
  EXPECT_LE(first, after);
}

TEST_F(StoreTest, EmptyTransactionSucceedsWithoutABatch) {
  StoreStats before = store_->stats();
  ASSERT_TRUE(store_->Commit([](Txn&) { return absl::OkStatus(); }).ok());
  EXPECT_EQ(store_->stats().groups, before.groups);
}

TEST_F(StoreTest, ConcurrentCommitsAllSucceedAndShareSyncs) {
  // Each transaction increments one shared counter (read, then write) and writes a key of
  // its own. A lost increment would mean a transaction did not see the writes of one
  // before it in the same group.
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  constexpr int kTotal = kThreads * kPerThread;
  StoreStats before = store_->stats();
  std::atomic<int> failures{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        absl::Status s = store_->Commit([&](Txn& txn) -> absl::Status {
          auto v = txn.Get(Cf::kMeta, "counter");
          if (!v.ok()) return v.status();
          uint64_t n = *v ? *ReadU64BE(**v) : 0;
          txn.Put(Cf::kMeta, "counter", U64Key(n + 1));
          txn.Put(Cf::kSubjects, std::to_string(t) + "/" + std::to_string(i), "x");
          return absl::OkStatus();
        });
        if (!s.ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();

  EXPECT_EQ(failures.load(), 0);
  auto counter = Read(Cf::kMeta, "counter");
  ASSERT_TRUE(counter.has_value());
  EXPECT_EQ(*ReadU64BE(*counter), static_cast<uint64_t>(kTotal));
  int keys = 0;
  ASSERT_TRUE(store_->Scan(Cf::kSubjects, "", "", [&](std::string_view, std::string_view) {
                      ++keys;
                      return true;
                    }).ok());
  EXPECT_EQ(keys, kTotal);

  StoreStats after = store_->stats();
  EXPECT_EQ(after.commits - before.commits, static_cast<uint64_t>(kTotal));
  EXPECT_LT(after.groups - before.groups, static_cast<uint64_t>(kTotal))
      << "every transaction paid for its own sync: no group commit happened";
  EXPECT_EQ(after.failed_groups, 0u);
}

TEST_F(StoreTest, AsyncAndBlockingCommitsShareGroupsAndEachCompletesOnce) {
  // Writers mix Commit and CommitAsync; every transaction increments one counter, so a
  // lost, doubled or reordered-without-overlay transaction shows in the final value.
  constexpr int kThreads = 6, kEach = 40;
  std::atomic<int> done_calls{0}, done_ok{0};
  std::mutex mu;
  std::condition_variable cv;
  auto increment = [](Txn& txn) -> absl::Status {
    auto v = txn.Get(Cf::kMeta, "counter");
    if (!v.ok()) return v.status();
    int n = *v ? std::stoi(**v) : 0;
    txn.Put(Cf::kMeta, "counter", std::to_string(n + 1));
    return absl::OkStatus();
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if ((t + i) % 2 == 0) {
          EXPECT_TRUE(store_->Commit(increment).ok());
        } else {
          store_->CommitAsync(increment, nullptr, [&](const absl::Status& s) {
            if (s.ok()) done_ok.fetch_add(1);
            std::lock_guard lock(mu);
            done_calls.fetch_add(1);
            cv.notify_all();
          });
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  const int async_count = kThreads * kEach / 2;
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done_calls.load() == async_count; });
  }
  EXPECT_EQ(done_ok.load(), async_count);
  EXPECT_EQ(Read(Cf::kMeta, "counter"), std::to_string(kThreads * kEach));
}

TEST_F(StoreTest, AsyncRefusalIsReportedAndItsRecordWritten) {
  absl::Status seen = absl::UnknownError("not called");
  std::mutex mu;
  std::condition_variable cv;
  bool called = false;
  store_->CommitAsync(
      [](Txn& txn) {
        txn.Put(Cf::kConsents, "c-x", "change");
        return absl::InvalidArgumentError("bad request");
      },
      [](Txn& txn, const absl::Status& refusal) { txn.Put(Cf::kAudit, U64Key(1), refusal.ToString()); },
      [&](const absl::Status& s) {
        std::lock_guard lock(mu);
        seen = s;
        called = true;
        cv.notify_all();
      });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return called; });
  EXPECT_EQ(seen.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(Read(Cf::kConsents, "c-x").has_value());
  EXPECT_TRUE(Read(Cf::kAudit, U64Key(1)).has_value());
}

TEST_F(StoreTest, ClosingTheStoreCommitsWhatIsQueued) {
  std::atomic<int> completed{0};
  for (int i = 0; i < 50; ++i) {
    store_->CommitAsync(
        [i](Txn& txn) {
          txn.Put(Cf::kConsents, "c-" + std::to_string(i), "v");
          return absl::OkStatus();
        },
        nullptr, [&](const absl::Status& s) { completed.fetch_add(s.ok() ? 1 : 0); });
  }
  store_.reset();
  EXPECT_EQ(completed.load(), 50);
  Open();
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(Read(Cf::kConsents, "c-" + std::to_string(i)).has_value()) << i;
}

TEST_F(StoreTest, ReopenKeepsCommittedData) {
  ASSERT_TRUE(PutOne(Cf::kConsents, "c-1", "consent").ok());
  ASSERT_TRUE(PutOne(Cf::kAudit, U64Key(7), "entry").ok());
  store_.reset();
  Open();
  EXPECT_EQ(Read(Cf::kConsents, "c-1"), "consent");
  EXPECT_EQ(Read(Cf::kAudit, U64Key(7)), "entry");
}

TEST_F(StoreTest, ASecondOpenOfTheSameDirectoryIsRefused) {
  StoreOptions o;
  o.path = dir_.Sub("db");
  auto second = Store::Open(o);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr(o.path));
}

TEST(StoreOpen, EmptyPathIsRefused) {
  auto s = Store::Open(StoreOptions{});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, ScanVisitsAPrefixInKeyOrderFromAStart) {
  ASSERT_TRUE(store_->Commit([](Txn& txn) {
                      for (const char* k : {"a3", "b1", "a1", "a2", "c"}) txn.Put(Cf::kTickets, k, k);
                      return absl::OkStatus();
                    }).ok());
  auto scan = [&](std::string_view prefix, std::string_view start, int limit = 100) {
    std::vector<std::string> keys;
    absl::Status s = store_->Scan(Cf::kTickets, prefix, start,
                                  [&](std::string_view key, std::string_view value) {
                                    EXPECT_EQ(key, value);
                                    keys.emplace_back(key);
                                    return static_cast<int>(keys.size()) < limit;
                                  });
    EXPECT_TRUE(s.ok()) << s;
    return keys;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(scan("a", ""), (V{"a1", "a2", "a3"}));
  EXPECT_EQ(scan("a", "a2"), (V{"a2", "a3"}));
  EXPECT_EQ(scan("a", "a2\x01"), (V{"a3"}));
  EXPECT_EQ(scan("b", "a"), (V{"b1"})) << "a start before the prefix begins at the prefix";
  EXPECT_EQ(scan("", ""), (V{"a1", "a2", "a3", "b1", "c"}));
  EXPECT_EQ(scan("", "", 2), (V{"a1", "a2"}));
  EXPECT_EQ(scan("d", ""), V{});
}

TEST_F(StoreTest, RawPutBypassesTransactions) {
  ASSERT_TRUE(store_->RawPutForTesting(Cf::kAudit, U64Key(1), "tampered").ok());
  EXPECT_EQ(Read(Cf::kAudit, U64Key(1)), "tampered");
}

TEST(StoreCf, Names) {
  EXPECT_EQ(CfName(Cf::kMeta), "default");
  EXPECT_EQ(CfName(Cf::kRegistry), "registry");
  EXPECT_EQ(CfName(Cf::kLinks), "links");
  EXPECT_EQ(CfName(Cf::kSubjects), "subjects");
  EXPECT_EQ(CfName(Cf::kTickets), "tickets");
  EXPECT_EQ(CfName(Cf::kConsents), "consents");
  EXPECT_EQ(CfName(Cf::kSubjectConsents), "subject_consents");
  EXPECT_EQ(CfName(Cf::kLedger), "ledger");
  EXPECT_EQ(CfName(Cf::kAudit), "audit");
}

}  // namespace
}  // namespace fedhub::storage
