// The Merkle tree code against trees computed independently, straight from RFC 9162's
// definition of MTH, and against Certificate Transparency's published test vectors: roots,
// every inclusion proof and every consistency proof over a range of sizes, and tampering.
#include "core/merkle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/crypto.h"

namespace fedhub::merkle {
namespace {

using ::testing::HasSubstr;

std::string Hex(const Digest& d) { return crypto::HexEncode(crypto::AsView(d)); }

// MTH(D[start:start+n]) by the definition: recursive, no shortcuts.
Digest DefinitionRoot(const std::vector<Digest>& leaves, uint64_t start, uint64_t n) {
  if (n == 0) return crypto::Sha256("");
  if (n == 1) return leaves[start];
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  const Digest l = DefinitionRoot(leaves, start, k);
  const Digest r = DefinitionRoot(leaves, start + k, n - k);
  std::string in(1, '\x01');
  in.append(crypto::AsView(l));
  in.append(crypto::AsView(r));
  return crypto::Sha256(in);
}

std::vector<Digest> Leaves(uint64_t n) {
  std::vector<Digest> out;
  for (uint64_t i = 0; i < n; ++i) out.push_back(LeafHash(std::string(8, static_cast<char>(i * 7 + 1)) + std::to_string(i)));
  return out;
}

// Subtree hashes for proofs, memoised so sweeps over thousands of proofs stay fast; the
// values themselves come from DefinitionRoot.
class Oracle {
 public:
  explicit Oracle(const std::vector<Digest>& leaves) : leaves_(leaves) {}
  SubtreeHashFn fn() {
    return [this](uint64_t start, uint64_t size) -> absl::StatusOr<Digest> {
      auto key = std::make_pair(start, size);
      if (auto it = memo_.find(key); it != memo_.end()) return it->second;
      Digest d = DefinitionRoot(leaves_, start, size);
      memo_.emplace(key, d);
      return d;
    };
  }

 private:
  const std::vector<Digest>& leaves_;
  std::map<std::pair<uint64_t, uint64_t>, Digest> memo_;
};

TEST(Merkle, CertificateTransparencyTestVectors) {
  // Leaves and roots of the RFC 6962 reference tests (certificate-transparency, trillian).
  const std::vector<std::string> inputs = {
      "", std::string("\x00", 1), "\x10", "\x20\x21", "\x30\x31", "\x40\x41\x42\x43",
      "\x50\x51\x52\x53\x54\x55\x56\x57", "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
  const char* const roots[] = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
  };
  std::vector<Digest> leaves;
  for (size_t n = 1; n <= inputs.size(); ++n) {
    leaves.push_back(LeafHash(inputs[n - 1]));
    EXPECT_EQ(Hex(RootOf(leaves)), roots[n - 1]) << "size " << n;
  }
  EXPECT_EQ(Hex(EmptyRoot()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Merkle, RootAndFrontierMatchTheDefinition) {
  const std::vector<Digest> leaves = Leaves(600);
  Frontier f;
  EXPECT_EQ(f.Root(), DefinitionRoot(leaves, 0, 0));
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    f.Append(leaves[n - 1]);
    ASSERT_EQ(f.Root(), DefinitionRoot(leaves, 0, n)) << "size " << n;
    ASSERT_EQ(f.size(), n);
  }
}

// Every leaf of every size in `sizes`: the proof verifies, and is of the expected length.
void CheckEveryInclusion(const std::vector<Digest>& leaves, uint64_t size, Oracle& oracle) {
  const Digest root = DefinitionRoot(leaves, 0, size);
  for (uint64_t i = 0; i < size; ++i) {
    auto path = InclusionPath(i, size, oracle.fn());
    ASSERT_TRUE(path.ok()) << path.status();
    ASSERT_TRUE(VerifyInclusion(i, size, leaves[i], *path, root).ok()) << "leaf " << i << " of " << size;
  }
}

TEST(Merkle, EveryInclusionProofVerifiesForSizesOneTo300) {
  const std::vector<Digest> leaves = Leaves(300);
  Oracle oracle(leaves);
  for (uint64_t size = 1; size <= 300; ++size) CheckEveryInclusion(leaves, size, oracle);
}

TEST(Merkle, EveryInclusionProofVerifiesInLargerTrees) {
  const std::vector<Digest> leaves = Leaves(3001);
  Oracle oracle(leaves);
  for (uint64_t size : {1023u, 1024u, 1025u, 2047u, 3001u}) CheckEveryInclusion(leaves, size, oracle);
}

TEST(Merkle, EveryConsistencyProofVerifiesForSizesOneTo128) {
  const std::vector<Digest> leaves = Leaves(128);
  Oracle oracle(leaves);
  for (uint64_t n = 1; n <= 128; ++n) {
    const Digest second = DefinitionRoot(leaves, 0, n);
    for (uint64_t m = 1; m <= n; ++m) {
      const Digest first = DefinitionRoot(leaves, 0, m);
      auto proof = ConsistencyProof(m, n, oracle.fn());
      ASSERT_TRUE(proof.ok()) << proof.status();
      ASSERT_TRUE(VerifyConsistency(m, n, first, second, *proof).ok()) << m << " -> " << n;
      if (m == n) continue;
      // A first tree that is not a prefix of the second is caught.
      Digest other = first;
      other[0] ^= 1;
      ASSERT_FALSE(VerifyConsistency(m, n, other, second, *proof).ok()) << m << " -> " << n;
      ASSERT_FALSE(VerifyConsistency(m, n, first, other, *proof).ok()) << m << " -> " << n;
    }
  }
}

// A hub that rewrote history before an auditor's head — an entry changed, removed,
// inserted, or two swapped — and then signed a head over the rewritten log cannot prove
// that head consistent with the auditor's.
TEST(Merkle, RewrittenHistoryCannotBeProvedConsistent) {
  const std::vector<Digest> original = Leaves(40);
  const uint64_t m = 23;  // the auditor's head
  const Digest trusted = DefinitionRoot(original, 0, m);
  const Digest extra = LeafHash("an entry that was never there");
  using Edit = std::function<void(std::vector<Digest>&)>;
  const std::vector<std::pair<std::string, Edit>> edits = {
      {"changed", [](std::vector<Digest>& l) { l[7][0] ^= 1; }},
      {"removed", [](std::vector<Digest>& l) { l.erase(l.begin() + 7); }},
      {"inserted", [&](std::vector<Digest>& l) { l.insert(l.begin() + 7, extra); }},
      {"swapped", [](std::vector<Digest>& l) { std::swap(l[3], l[19]); }},
      {"last changed", [](std::vector<Digest>& l) { l[m - 1][31] ^= 1; }},
  };
  for (const auto& [what, edit] : edits) {
    std::vector<Digest> rewritten = original;
    edit(rewritten);
    Oracle oracle(rewritten);
    for (uint64_t n = m; n <= rewritten.size(); ++n) {
      auto proof = ConsistencyProof(m, n, oracle.fn());
      ASSERT_TRUE(proof.ok());
      EXPECT_FALSE(VerifyConsistency(m, n, trusted, DefinitionRoot(rewritten, 0, n), *proof).ok())
          << what << ": head of " << n << " proved consistent";
    }
  }
}

TEST(Merkle, TamperedInclusionProofsFailWithAReason) {
  const std::vector<Digest> leaves = Leaves(21);
  Oracle oracle(leaves);
  const Digest root = DefinitionRoot(leaves, 0, 21);
  auto path = InclusionPath(13, 21, oracle.fn());
  ASSERT_TRUE(path.ok());
  for (size_t k = 0; k < path->size(); ++k) {
    std::vector<Digest> bad = *path;
    bad[k][5] ^= 0x40;
    absl::Status s = VerifyInclusion(13, 21, leaves[13], bad, root);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(s.message(), HasSubstr("leads to root"));
  }
  // Another leaf, another position, a shortened or lengthened path, a wrong size.
  EXPECT_FALSE(VerifyInclusion(13, 21, leaves[12], *path, root).ok());
  EXPECT_FALSE(VerifyInclusion(12, 21, leaves[13], *path, root).ok());
  std::vector<Digest> shorter(path->begin(), path->end() - 1);
  EXPECT_THAT(VerifyInclusion(13, 21, leaves[13], shorter, root).message(), HasSubstr("shorter"));
  std::vector<Digest> longer = *path;
  longer.push_back(root);
  EXPECT_THAT(VerifyInclusion(13, 21, leaves[13], longer, root).message(), HasSubstr("longer"));
  EXPECT_FALSE(VerifyInclusion(13, 14, leaves[13], *path, root).ok());
  EXPECT_THAT(VerifyInclusion(21, 21, leaves[13], *path, root).message(), HasSubstr("not below the tree size"));
}

TEST(Merkle, ProofRequestsOutsideTheTreeAreRefused) {
  const std::vector<Digest> leaves = Leaves(4);
  Oracle oracle(leaves);
  EXPECT_EQ(InclusionPath(4, 4, oracle.fn()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(0, 4, oracle.fn()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(5, 4, oracle.fn()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ConsistencyProof(4, 4, oracle.fn())->empty());
  const Digest r = DefinitionRoot(leaves, 0, 4);
  EXPECT_TRUE(VerifyConsistency(4, 4, r, r, {}).ok());
  EXPECT_THAT(VerifyConsistency(3, 4, r, r, {}).message(), HasSubstr("empty"));
}

TEST(Merkle, TreeHeadMessageLayout) {
  Digest root{};
  for (size_t i = 0; i < root.size(); ++i) root[i] = static_cast<uint8_t>(i);
  const std::string m = TreeHeadMessage(0x0102030405060708, 0x1112131415161718, root);
  EXPECT_EQ(crypto::HexEncode(m),
            "6665646875622e7374682e763100"  // "fedhub.sth.v1" 0x00
            "0102030405060708"              // tree size
            "1112131415161718"              // timestamp, microseconds
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
}

}  // namespace
}  // namespace fedhub::merkle
