// The Merkle tree over the audit log, as RFC 9162 (Certificate Transparency 2.0) §2.1
// defines it, and signed tree heads. This is the format an outside verifier implements;
// docs/audit-proofs.md describes it byte by byte and must change together with this file.
//
//   leaf i (0-based) = audit entry i + 1; its input is that entry's 32-byte entry hash
//                      (chain_codec.h), which commits to the record bytes and position
//   leaf hash        = SHA-256(0x00 || entry_hash)
//   node hash        = SHA-256(0x01 || left || right)
//   MTH(empty)       = SHA-256("")
//   MTH(D[n])        = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of 2 below n
//   signed head      = Ed25519 over "fedhub.sth.v1" || 0x00 || u64be(tree_size)
//                      || i64be(timestamp_micros) || root_hash[32]
#ifndef FEDHUB_SDK_CORE_MERKLE_H_
#define FEDHUB_SDK_CORE_MERKLE_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/crypto.h"

namespace fedhub::merkle {

using crypto::Digest;

inline constexpr std::string_view kTreeHeadDomain = "fedhub.sth.v1";

Digest LeafHash(std::string_view leaf_input);
Digest NodeHash(const Digest& left, const Digest& right);
// MTH of the empty tree: SHA-256 of nothing.
const Digest& EmptyRoot();

// The largest power of two strictly below n (n >= 2).
uint64_t SplitPoint(uint64_t n);

// MTH over leaf hashes held in memory (tests, rebuilding, verifiers of whole logs).
Digest RootOf(std::span<const Digest> leaf_hashes);

// The hash of the subtree over leaves [start, start + size), size >= 1. Proofs are built
// from these; the hub answers them from stored perfect subtrees.
using SubtreeHashFn = std::function<absl::StatusOr<Digest>(uint64_t start, uint64_t size)>;

// RFC 9162 §2.1.3.1: the audit path of leaf `index` in the tree of `size` leaves, from the
// leaf's sibling up. INVALID_ARGUMENT unless index < size.
absl::StatusOr<std::vector<Digest>> InclusionPath(uint64_t index, uint64_t size, const SubtreeHashFn& mth);

// RFC 9162 §2.1.4.1: the consistency proof from the tree of `first` leaves to the tree of
// `second`. INVALID_ARGUMENT unless 0 < first <= second; empty when first == second.
absl::StatusOr<std::vector<Digest>> ConsistencyProof(uint64_t first, uint64_t second, const SubtreeHashFn& mth);

// RFC 9162 §2.1.3.2. OK, or DATA_LOSS saying what failed (index out of range, path of the
// wrong length, root mismatch).
absl::Status VerifyInclusion(uint64_t index, uint64_t size, const Digest& leaf_hash,
                             std::span<const Digest> path, const Digest& root);

// RFC 9162 §2.1.4.2. Equal sizes need an empty proof and equal roots. OK, or DATA_LOSS
// saying what failed.
absl::Status VerifyConsistency(uint64_t first, uint64_t second, const Digest& first_root,
                               const Digest& second_root, std::span<const Digest> proof);

// What a tree head signs.
std::string TreeHeadMessage(uint64_t tree_size, int64_t timestamp_micros, const Digest& root);

// The perfect subtrees along the right edge of a growing tree (a "compact range"): enough to
// append leaves and to know the root, in O(log n) memory. Verifiers of whole logs and the
// hub's rebuild use it.
class Frontier {
 public:
  void Append(const Digest& leaf_hash);
  uint64_t size() const { return size_; }
  Digest Root() const;

 private:
  uint64_t size_ = 0;
  std::vector<Digest> peaks_;  // one per set bit of size_, largest (leftmost) first
};

}  // namespace fedhub::merkle

#endif  // FEDHUB_SDK_CORE_MERKLE_H_
