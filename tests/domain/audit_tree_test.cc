// The audit log's Merkle tree and signed heads over a real RocksDB: the tree follows the
// chain, every entry is provable against every signed head, heads are consistent, an older
// data directory gets its tree built, and damage is reported instead of a wrong proof.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "audit/merkle_log.h"
#include "audit/tree_heads.h"
#include "core/merkle.h"
#include "core/strings.h"
#include "domain_fixture.h"
#include "storage/keys.h"

namespace fedhub::testing {
namespace {

using ::testing::HasSubstr;
using crypto::Digest;
using storage::Cf;

Digest ToDigest(std::string_view s) {
  Digest d{};
  EXPECT_EQ(s.size(), d.size());
  std::copy(s.begin(), s.begin() + std::min(s.size(), d.size()), d.begin());
  return d;
}

class AuditTreeTest : public DomainTest {
 protected:
  void SetUp() override {
    DomainTest::SetUp();
    heads_ = std::make_unique<audit::TreeHeads>(store_.get(), &audit_->chain(), key_.get());
  }
  void TearDown() override {
    heads_.reset();
    DomainTest::TearDown();
  }

  // Appends `n` audit entries, a few per transaction.
  void Append(int n) {
    for (int i = 0; i < n; i += 3) {
      absl::Status s = store_->Commit([&](storage::Txn& txn) -> absl::Status {
        for (int k = i; k < std::min(n, i + 3); ++k) {
          auto r = audit::BaseRecord(Admin(), "test.entry");
          r.set_detail(fedhub::Cat("entry ", ++appended_));
          if (auto pos = audit_->Append(txn, r); !pos.ok()) return pos.status();
        }
        return absl::OkStatus();
      });
      ASSERT_TRUE(s.ok()) << s;
    }
  }

  // Leaf hashes computed from the chain as stored, independently of the tree.
  std::vector<Digest> LeavesFromChain() {
    auto entries = audit_->chain().Read(1, 1 << 20);
    EXPECT_TRUE(entries.ok()) << entries.status();
    std::vector<Digest> out;
    for (const auto& e : *entries) out.push_back(merkle::LeafHash(e.entry_hash()));
    return out;
  }

  uint64_t ChainSize() { return audit_->chain().Head()->sequence; }

  // What an auditor checks: the head's signature, the entry's own hash, the path.
  void ExpectProofVerifies(const fedhub::v1::InclusionProof& p) {
    const auto& h = p.head();
    ASSERT_TRUE(crypto::Ed25519Verify(key_->public_key(),
                                      merkle::TreeHeadMessage(h.tree_size(), h.timestamp_micros(),
                                                              ToDigest(h.root_hash())),
                                      h.signature()));
    const auto& e = p.entry();
    const Digest entry_hash = chain::EntryHash(chain::kAuditDomain, ToDigest(e.prev_hash()), e.sequence(), e.encoded());
    ASSERT_EQ(crypto::AsView(entry_hash), e.entry_hash());
    ASSERT_EQ(p.leaf_index(), e.sequence() - 1);
    std::vector<Digest> path;
    for (const auto& d : p.audit_path()) path.push_back(ToDigest(d));
    absl::Status s = merkle::VerifyInclusion(p.leaf_index(), h.tree_size(), merkle::LeafHash(crypto::AsView(entry_hash)),
                                             path, ToDigest(h.root_hash()));
    ASSERT_TRUE(s.ok()) << s << " (entry " << e.sequence() << " in head of " << h.tree_size() << ")";
  }

  std::unique_ptr<audit::TreeHeads> heads_;
  int appended_ = 0;
};

TEST_F(AuditTreeTest, TheTreeFollowsTheChainEntryByEntry) {
  for (int round = 0; round < 5; ++round) {
    ASSERT_NO_FATAL_FAILURE(Append(7 + round * 5));
    auto view = store_->GetSnapshot();
    auto size = audit::MerkleLog::Size(*view);
    ASSERT_TRUE(size.ok()) << size.status();
    EXPECT_EQ(*size, ChainSize());
    const std::vector<Digest> leaves = LeavesFromChain();
    auto root = audit::MerkleLog::Root(*view, *size);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(*root, merkle::RootOf(leaves));
    // Every earlier size too: stored nodes never change.
    for (uint64_t n = 1; n <= *size; ++n) {
      ASSERT_EQ(*audit::MerkleLog::Root(*view, n), merkle::RootOf(std::span(leaves).first(n))) << n;
    }
  }
}

TEST_F(AuditTreeTest, EveryEntryIsProvableAgainstEverySignedHeadAndHeadsAreConsistent) {
  std::vector<fedhub::v1::SignedTreeHead> heads;
  for (int n : {1, 4, 9, 30}) {
    ASSERT_NO_FATAL_FAILURE(Append(n));
    auto h = heads_->Sign();
    ASSERT_TRUE(h.ok()) << h.status();
    EXPECT_EQ(h->tree_size(), ChainSize());
    EXPECT_EQ(h->key_id(), key_->key_id());
    heads.push_back(*h);
  }
  for (const auto& h : heads) {
    for (uint64_t seq = 1; seq <= h.tree_size(); ++seq) {
      auto p = heads_->ProveInclusion(seq, h.tree_size());
      ASSERT_TRUE(p.ok()) << p.status();
      ASSERT_NO_FATAL_FAILURE(ExpectProofVerifies(*p));
    }
  }
  for (size_t i = 0; i < heads.size(); ++i) {
    for (size_t j = i; j < heads.size(); ++j) {
      auto c = heads_->ProveConsistency(heads[i].tree_size(), heads[j].tree_size());
      ASSERT_TRUE(c.ok()) << c.status();
      std::vector<Digest> proof;
      for (const auto& d : c->proof()) proof.push_back(ToDigest(d));
      EXPECT_TRUE(merkle::VerifyConsistency(heads[i].tree_size(), heads[j].tree_size(), ToDigest(heads[i].root_hash()),
                                            ToDigest(heads[j].root_hash()), proof)
                      .ok());
    }
  }
  // The newest head is the default for both proofs.
  auto latest = heads_->ProveInclusion(1, 0);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->head().number(), heads.back().number());
}

TEST_F(AuditTreeTest, HeadsAreNumberedListedAndFoundBySize) {
  EXPECT_EQ(heads_->Latest().status().code(), absl::StatusCode::kNotFound);
  ASSERT_NO_FATAL_FAILURE(Append(3));
  auto a = heads_->Sign();
  auto b = heads_->SignIfGrown();  // nothing new: the same head
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->number(), 1u);
  EXPECT_EQ(b->number(), 1u);
  ASSERT_NO_FATAL_FAILURE(Append(2));
  auto c = heads_->SignIfGrown();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->number(), 2u);
  auto list = heads_->List(1, 10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].tree_size(), c->tree_size());
  EXPECT_EQ(heads_->OfSize(a->tree_size())->number(), 1u);
  absl::Status none = heads_->OfSize(a->tree_size() + 1).status();
  EXPECT_EQ(none.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(none.message(), HasSubstr("ListSignedTreeHeads"));
}

TEST_F(AuditTreeTest, ProofRequestsOutsideTheHeadsAreRefusedPrecisely) {
  ASSERT_NO_FATAL_FAILURE(Append(5));
  auto h = heads_->Sign();
  ASSERT_TRUE(h.ok());
  ASSERT_NO_FATAL_FAILURE(Append(1));  // entry 6 is after the only head
  absl::Status late = heads_->ProveInclusion(h->tree_size() + 1, 0).status();
  EXPECT_EQ(late.code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(late.message(), HasSubstr("newer head"));
  EXPECT_EQ(heads_->ProveInclusion(0, 0).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(heads_->ProveInclusion(1, 2).status().code(), absl::StatusCode::kNotFound);
  auto h2 = heads_->Sign();
  ASSERT_TRUE(h2.ok());
  EXPECT_EQ(heads_->ProveConsistency(h2->tree_size(), h->tree_size()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AuditTreeTest, ADamagedTreeNodeYieldsDataLossNotAWrongProof) {
  ASSERT_NO_FATAL_FAILURE(Append(8));
  auto h = heads_->Sign();
  ASSERT_TRUE(h.ok());
  ASSERT_TRUE(store_->RawPutForTesting(Cf::kMerkle, storage::MerkleNodeKey(0, 2), std::string(32, 'x')).ok());
  absl::Status s = heads_->ProveInclusion(4, h->tree_size()).status();  // its path uses leaf 2's node
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(s.message(), HasSubstr("no longer matches signed head 1"));
}

TEST_F(AuditTreeTest, CatchUpBuildsTheTreeOfEntriesWrittenWithoutIt) {
  ASSERT_NO_FATAL_FAILURE(Append(4));
  // Entries appended by a chain without a tree, as a hub from before the tree wrote them.
  audit::HashChain bare(store_.get(), fedhub::v1::CHAIN_AUDIT);
  for (int i = 0; i < 2500; i += 500) {
    ASSERT_TRUE(store_->Commit([&](storage::Txn& txn) -> absl::Status {
                        for (int k = 0; k < 500; ++k) {
                          auto pos = bare.Append(txn, chain::EncodeAudit(audit::BaseRecord(Admin(), "old.entry")));
                          if (!pos.ok()) return pos.status();
                        }
                        return absl::OkStatus();
                      }).ok());
  }
  // Until then, appending through the tree is refused rather than misnumbered.
  absl::Status refused = store_->Commit([&](storage::Txn& txn) {
    return audit_->Append(txn, audit::BaseRecord(Admin(), "test.entry")).status();
  });
  EXPECT_EQ(refused.code(), absl::StatusCode::kDataLoss) << refused;

  auto added = audit_->tree().CatchUp(audit_->chain());
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(*added, 2500u);
  EXPECT_EQ(*audit_->tree().CatchUp(audit_->chain()), 0u) << "a second catch-up has nothing to do";
  ASSERT_NO_FATAL_FAILURE(Append(1));
  auto view = store_->GetSnapshot();
  EXPECT_EQ(*audit::MerkleLog::Size(*view), ChainSize());
  EXPECT_EQ(*audit::MerkleLog::Root(*view, ChainSize()), merkle::RootOf(LeavesFromChain()));
}

TEST_F(AuditTreeTest, ATreeLongerThanTheChainIsDataLoss) {
  ASSERT_NO_FATAL_FAILURE(Append(3));
  ASSERT_TRUE(store_->RawPutForTesting(Cf::kMeta, storage::kAuditTreeSizeKey, storage::U64Key(9)).ok());
  absl::Status s = audit_->tree().CatchUp(audit_->chain()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("9 leaves but the audit chain only 3"));
}

}  // namespace
}  // namespace fedhub::testing
