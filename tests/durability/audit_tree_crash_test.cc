// The audit tree under power loss: entries appended after the last signed head, then the
// power cut before the next head is signed. After the restart the tree must hold exactly the
// entries the chain holds (with the root computed independently from the chain), the old
// head must still be listed, and a new head must be provably consistent with it — also when
// the cut lands while appends are in flight.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "app/hub.h"
#include "core/merkle.h"
#include "core/strings.h"
#include "crash_fs.h"
#include "scratch_dir.h"

namespace fedhub::durability {
namespace {

using crypto::Digest;

Digest ToDigest(std::string_view s) {
  Digest d{};
  std::copy(s.begin(), s.begin() + std::min(s.size(), d.size()), d.begin());
  return d;
}

class AuditTreeCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.data_dir = dir_.Sub("data");
    config_.signing_key = dir_.Sub("signing.key");
    config_.metrics_listen = "";
    config_.bootstrap_admins = {"operator"};
    config_.tree_head_interval_seconds = 0;  // heads only when the test signs them
    env_ = NewCrashEnv(&crash_fs_);
  }
  std::unique_ptr<Hub> Open() {
    HubOpenOptions o;
    o.env = env_.get();
    o.avoid_flush_during_shutdown = true;  // what survives is what the WAL made durable
    auto hub = Hub::Open(config_, o);
    EXPECT_TRUE(hub.ok()) << hub.status();
    return hub.ok() ? std::move(*hub) : nullptr;
  }

  // `n` audited changes: registering platforms, from `threads` threads at once. Returns how
  // many the hub acknowledged.
  static int Register(Hub& hub, const std::string& tag, int threads, int n) {
    std::atomic<int> acked{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        for (int i = t; i < n; i += threads) {
          fedhub::v1::Principal p;
          p.set_id(Cat(tag, "-", i));
          p.set_role(fedhub::v1::ROLE_PLATFORM);
          if (hub.registry().Register(Caller{"operator", fedhub::v1::ROLE_ADMIN, ""}, p).ok()) ++acked;
        }
      });
    }
    for (auto& w : workers) w.join();
    return acked;
  }

  // The tree covers exactly the chain, and its root is the one computed from the chain.
  static void ExpectTreeMatchesChain(Hub& hub) {
    auto head = hub.audit().chain().Head();
    ASSERT_TRUE(head.ok());
    auto entries = hub.audit().chain().Read(1, 1 << 20);
    ASSERT_TRUE(entries.ok());
    ASSERT_EQ(entries->size(), head->sequence);
    merkle::Frontier independent;
    for (const auto& e : *entries) independent.Append(merkle::LeafHash(e.entry_hash()));
    auto view = hub.store().GetSnapshot();
    EXPECT_EQ(*audit::MerkleLog::Size(*view), head->sequence);
    EXPECT_EQ(*audit::MerkleLog::Root(*view, head->sequence), independent.Root());
  }

  // A new head extends `old`, and every entry is provable in the new head.
  static void ExpectNewHeadExtends(Hub& hub, const fedhub::v1::SignedTreeHead& old) {
    auto listed = hub.tree_heads().OfSize(old.tree_size());
    ASSERT_TRUE(listed.ok()) << listed.status();
    EXPECT_EQ(listed->signature(), old.signature()) << "the head signed before the cut is still listed";
    auto fresh = hub.tree_heads().Sign();
    ASSERT_TRUE(fresh.ok()) << fresh.status();
    auto c = hub.tree_heads().ProveConsistency(old.tree_size(), fresh->tree_size());
    ASSERT_TRUE(c.ok()) << c.status();
    std::vector<Digest> proof;
    for (const auto& d : c->proof()) proof.push_back(ToDigest(d));
    EXPECT_TRUE(merkle::VerifyConsistency(old.tree_size(), fresh->tree_size(), ToDigest(old.root_hash()),
                                          ToDigest(fresh->root_hash()), proof)
                    .ok());
    for (uint64_t seq = 1; seq <= fresh->tree_size(); seq += 7) {
      ASSERT_TRUE(hub.tree_heads().ProveInclusion(seq, fresh->tree_size()).ok()) << seq;
    }
  }

  testing::ScratchDir dir_;
  config::HubConfig config_;
  std::shared_ptr<CrashFileSystem> crash_fs_;
  std::unique_ptr<rocksdb::Env> env_;
};

TEST_F(AuditTreeCrashTest, PowerCutBetweenAppendsAndTheNextSignedHead) {
  fedhub::v1::SignedTreeHead before;
  int acked = 0;
  {
    std::unique_ptr<Hub> hub = Open();
    ASSERT_NE(hub, nullptr);
    acked += Register(*hub, "a", 4, 40);
    auto h = hub->tree_heads().Sign();
    ASSERT_TRUE(h.ok()) << h.status();
    before = *h;
    acked += Register(*hub, "b", 4, 60);  // appended, never covered by a head
  }
  ASSERT_TRUE(crash_fs_->SimulateCrash().ok());
  EXPECT_EQ(acked, 100);
  std::unique_ptr<Hub> hub = Open();
  ASSERT_NE(hub, nullptr);
  ASSERT_NO_FATAL_FAILURE(ExpectTreeMatchesChain(*hub));
  EXPECT_GE(hub->audit().chain().Head()->sequence, before.tree_size() + 60);
  ASSERT_NO_FATAL_FAILURE(ExpectNewHeadExtends(*hub, before));
}

TEST_F(AuditTreeCrashTest, PowerCutWhileAppendsAreInFlight) {
  fedhub::v1::SignedTreeHead before;
  {
    std::unique_ptr<Hub> hub = Open();
    ASSERT_NE(hub, nullptr);
    Register(*hub, "a", 2, 10);
    auto h = hub->tree_heads().Sign();
    ASSERT_TRUE(h.ok()) << h.status();
    before = *h;
    crash_fs_->FreezeAfterSyncs(15);
    const int acked = Register(*hub, "b", 4, 200);
    EXPECT_LT(acked, 200) << "the cut must land mid-run";
    EXPECT_TRUE(crash_fs_->frozen());
  }
  ASSERT_TRUE(crash_fs_->SimulateCrash().ok());
  std::unique_ptr<Hub> hub = Open();
  ASSERT_NE(hub, nullptr);
  ASSERT_NO_FATAL_FAILURE(ExpectTreeMatchesChain(*hub));
  ASSERT_NO_FATAL_FAILURE(ExpectNewHeadExtends(*hub, before));
}

}  // namespace
}  // namespace fedhub::durability
