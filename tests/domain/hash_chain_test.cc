// HashChain over the real store: appends, reads, and verification that names the first
// entry whose stored bytes were changed behind the hub's back.
#include "audit/hash_chain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "core/chain_codec.h"
#include "domain_fixture.h"
#include "storage/keys.h"

namespace fedhub::audit {
namespace {

using fedhub::testing::DomainTest;
using storage::Cf;
using storage::Txn;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Record(const std::string& detail) {
  fedhub::v1::AuditRecord r;
  r.mutable_time()->set_seconds(1700000000);
  r.set_actor_id("plat-a");
  r.set_action("test.append");
  r.set_detail(detail);
  return chain::EncodeAudit(r);
}

class HashChainTest : public DomainTest {
 protected:
  ChainPosition Append(HashChain& chain, const std::string& encoded) {
    ChainPosition pos;
    absl::Status s = store_->Commit([&](Txn& txn) -> absl::Status {
      auto p = chain.Append(txn, encoded);
      if (!p.ok()) return p.status();
      pos = *p;
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return pos;
  }
  // Three committed audit entries.
  void AppendThree() {
    for (int i = 1; i <= 3; ++i) Append(audit_chain(), Record("entry " + std::to_string(i)));
  }
  std::string Stored(uint64_t seq) { return **store_->Get(Cf::kAudit, storage::U64Key(seq)); }
  void Overwrite(uint64_t seq, const std::string& value) {
    ASSERT_TRUE(store_->RawPutForTesting(Cf::kAudit, storage::U64Key(seq), value).ok());
  }
  // Replaces entry `seq` with a different record whose own hash is consistent: what a
  // forger who cannot rewrite the later entries can do.
  void Forge(uint64_t seq) {
    auto original = chain::UnpackStored(Stored(seq));
    ASSERT_TRUE(original.ok());
    std::string forged = Record("forged");
    crypto::Digest hash = chain::EntryHash(chain::kAuditDomain, original->prev_hash, seq, forged);
    ASSERT_NO_FATAL_FAILURE(Overwrite(seq, chain::PackStored(original->prev_hash, hash, forged)));
  }
  VerifyResult Verify() {
    auto r = audit_chain().Verify();
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : VerifyResult{};
  }

  // The audit log's chain.
  HashChain& audit_chain() { return audit_->chain(); }
};

TEST_F(HashChainTest, EmptyChainStartsAtGenesis) {
  auto head = audit_chain().Head();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->sequence, 0u);
  EXPECT_EQ(head->hash, chain::GenesisHash());
  VerifyResult v = Verify();
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.entries_checked, 0u);
  EXPECT_TRUE(audit_chain().Read(1, 10)->empty());
}

TEST_F(HashChainTest, EachEntryCommitsToTheOneBefore) {
  std::vector<ChainPosition> positions;
  for (int i = 1; i <= 3; ++i) positions.push_back(Append(audit_chain(), Record("e" + std::to_string(i))));
  auto entries = audit_chain().Read(1, 10);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 3u);
  std::string prev = crypto::ToString(chain::GenesisHash());
  for (size_t i = 0; i < 3; ++i) {
    const auto& e = (*entries)[i];
    EXPECT_EQ(e.sequence(), i + 1);
    EXPECT_EQ(e.prev_hash(), prev);
    crypto::Digest prev_digest;
    std::copy(prev.begin(), prev.end(), prev_digest.begin());
    EXPECT_EQ(e.entry_hash(),
              crypto::ToString(chain::EntryHash(chain::kAuditDomain, prev_digest, i + 1, e.encoded())));
    EXPECT_EQ(e.entry_hash(), crypto::ToString(positions[i].hash));
    EXPECT_EQ(positions[i].sequence, i + 1);
    EXPECT_EQ(e.audit().detail(), "e" + std::to_string(i + 1)) << "decoded for convenience";
    prev = e.entry_hash();
  }
  auto head = audit_chain().Head();
  EXPECT_EQ(head->sequence, 3u);
  EXPECT_EQ(crypto::ToString(head->hash), prev);
  // The stored form is prev[32] || hash[32] || encoded.
  EXPECT_EQ(Stored(2), (*entries)[1].prev_hash() + (*entries)[1].entry_hash() + (*entries)[1].encoded());

  auto page = audit_chain().Read(2, 1);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].sequence(), 2u);
  EXPECT_TRUE(Verify().ok);
}

TEST_F(HashChainTest, AppendsInOneTransactionChainInOrder) {
  ASSERT_TRUE(store_->Commit([&](Txn& txn) -> absl::Status {
                      EXPECT_EQ(audit_chain().Append(txn, Record("a"))->sequence, 1u);
                      EXPECT_EQ(audit_chain().Append(txn, Record("b"))->sequence, 2u);
                      return absl::OkStatus();
                    }).ok());
  VerifyResult v = Verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.entries_checked, 2u);
}

TEST_F(HashChainTest, ARefusedTransactionLeavesTheChainAlone) {
  AppendThree();
  absl::Status s = store_->Commit([&](Txn& txn) -> absl::Status {
    EXPECT_TRUE(audit_chain().Append(txn, Record("dropped")).ok());
    return absl::AbortedError("changed my mind");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(audit_chain().Head()->sequence, 3u);
  EXPECT_FALSE(store_->Get(Cf::kAudit, storage::U64Key(4))->has_value());
  EXPECT_EQ(Append(audit_chain(), Record("next")).sequence, 4u);
  EXPECT_TRUE(Verify().ok);
}

TEST_F(HashChainTest, ConcurrentAppendsFormOneChain) {
  constexpr int kThreads = 6, kEach = 20;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) Append(audit_chain(), Record(std::to_string(t) + "/" + std::to_string(i)));
    });
  }
  for (auto& th : threads) th.join();
  VerifyResult v = Verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.entries_checked, static_cast<uint64_t>(kThreads * kEach));
  EXPECT_EQ(v.head.sequence, static_cast<uint64_t>(kThreads * kEach));
}

TEST_F(HashChainTest, LedgerChainHasItsOwnDomainColumnAndHead) {
  HashChain ledger(store_.get(), fedhub::v1::CHAIN_LEDGER);
  fedhub::v1::LedgerRecord l;
  l.set_consent_id("c-1");
  std::string encoded = chain::EncodeLedger(l);
  ChainPosition pos = Append(ledger, encoded);
  EXPECT_EQ(pos.sequence, 1u);
  EXPECT_EQ(pos.hash, chain::EntryHash(chain::kLedgerDomain, chain::GenesisHash(), 1, encoded));
  EXPECT_TRUE(store_->Get(Cf::kLedger, storage::U64Key(1))->has_value());
  EXPECT_FALSE(store_->Get(Cf::kAudit, storage::U64Key(1))->has_value());
  EXPECT_EQ(audit_chain().Head()->sequence, 0u);
  EXPECT_EQ(ledger.Read(1, 1)->at(0).ledger().consent_id(), "c-1");
  EXPECT_TRUE(ledger.Verify()->ok);
}

TEST_F(HashChainTest, AChangedStoredByteIsNamed) {
  AppendThree();
  std::string value = Stored(2);
  value[64 + 20] ^= 0x01;  // a byte of the encoded record
  ASSERT_NO_FATAL_FAILURE(Overwrite(2, value));
  VerifyResult v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_sequence, 2u);
  EXPECT_EQ(v.entries_checked, 1u);
  EXPECT_THAT(v.problem, StartsWith("audit entry 2: content does not match its hash"));

  // A verifier outside the hub, reading the entries, finds the same entry.
  chain::ChainVerifier outside(fedhub::v1::CHAIN_AUDIT);
  absl::Status s;
  auto entries = audit_chain().Read(1, 10);
  ASSERT_TRUE(entries.ok());
  for (const auto& e : *entries) {
    s = outside.Add(e);
    if (!s.ok()) break;
  }
  EXPECT_THAT(std::string(s.message()), StartsWith("audit entry 2:"));
}

TEST_F(HashChainTest, AChangedStoredHashIsNamed) {
  AppendThree();
  std::string value = Stored(3);
  value[40] ^= 0x80;  // a byte of the stored entry hash
  ASSERT_NO_FATAL_FAILURE(Overwrite(3, value));
  VerifyResult v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_sequence, 3u);
  EXPECT_THAT(v.problem, StartsWith("audit entry 3: content does not match its hash"));
}

TEST_F(HashChainTest, AChangedPrevHashIsNamed) {
  AppendThree();
  std::string value = Stored(2);
  value[0] ^= 0x01;
  ASSERT_NO_FATAL_FAILURE(Overwrite(2, value));
  VerifyResult v = Verify();
  EXPECT_EQ(v.first_bad_sequence, 2u);
  EXPECT_THAT(v.problem, StartsWith("audit entry 2: prev_hash does not match"));
}

TEST_F(HashChainTest, AReHashedForgeryIsNamedByTheNextEntry) {
  AppendThree();
  ASSERT_NO_FATAL_FAILURE(Forge(2));
  VerifyResult v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_sequence, 3u);
  EXPECT_THAT(v.problem, StartsWith("audit entry 3: prev_hash does not match"));
}

TEST_F(HashChainTest, AReHashedLastEntryDisagreesWithTheHead) {
  AppendThree();
  ASSERT_NO_FATAL_FAILURE(Forge(3));
  VerifyResult v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_sequence, 3u);
  EXPECT_THAT(v.problem, HasSubstr("head hash"));
}

TEST_F(HashChainTest, ATruncatedEntryIsNamed) {
  AppendThree();
  ASSERT_NO_FATAL_FAILURE(Overwrite(2, "short"));
  VerifyResult v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_sequence, 2u);
  EXPECT_THAT(v.problem, HasSubstr("entry 2"));
  // Read still hands the broken entry out, so outside verifiers can name it too.
  auto entries = audit_chain().Read(1, 10);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[1].encoded(), "short");
}

TEST_F(HashChainTest, AHeadBeyondTheStoredEntriesIsNamed) {
  AppendThree();
  std::string head = storage::U64Key(4) + crypto::ToString(audit_chain().Head()->hash);
  ASSERT_TRUE(store_->RawPutForTesting(Cf::kMeta, storage::kAuditHeadKey, head).ok());
  VerifyResult v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_sequence, 4u);
  EXPECT_THAT(v.problem, HasSubstr("head says 4 entries but 3 are stored"));
}

TEST_F(HashChainTest, AKeyThatIsNoSequenceNumberIsNamed) {
  AppendThree();
  ASSERT_TRUE(store_->RawPutForTesting(Cf::kAudit, "junk", Stored(2)).ok());
  VerifyResult v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_THAT(v.problem, HasSubstr("not a sequence number"));
  EXPECT_EQ(audit_chain().Read(1, 10).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(HashChainTest, AMalformedHeadIsDataLoss) {
  AppendThree();
  ASSERT_TRUE(store_->RawPutForTesting(Cf::kMeta, storage::kAuditHeadKey, "bad").ok());
  EXPECT_EQ(audit_chain().Head().status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(audit_chain().Verify().status().code(), absl::StatusCode::kDataLoss);
  absl::Status s = store_->Commit([&](Txn& txn) { return audit_chain().Append(txn, Record("x")).status(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace fedhub::audit
