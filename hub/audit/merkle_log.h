// The audit log's Merkle tree (RFC 9162; hashing in sdk/src/core/merkle.h), kept in RocksDB
// beside the chain it covers: leaf i is the hash of audit entry i + 1.
//
// Stored as every perfect subtree: column family `merkle`, key u8 level || u64be index ->
// the 32-byte hash of leaves [index << level, (index + 1) << level). Appending leaf n writes
// its leaf hash and the subtrees it completes (one on average), in the transaction that
// appends the entry, so the tree is exactly as durable as the chain. Any subtree hash,
// hence any root, audit path or consistency proof for any past size, is read from at most
// 2·log2(n) stored nodes; stored nodes never change.
//
// Thread-safety: thread-safe. AppendLeaf runs inside Store transactions (one at a time).
#ifndef FEDHUB_HUB_AUDIT_MERKLE_LOG_H_
#define FEDHUB_HUB_AUDIT_MERKLE_LOG_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/merkle.h"
#include "storage/store.h"

namespace fedhub::audit {

class HashChain;

class MerkleLog {
 public:
  explicit MerkleLog(storage::Store* store) : store_(store) {}

  // Appends the leaf of the entry whose chain hash is `entry_hash`; it must be entry
  // number size() + 1 as seen by the transaction (DATA_LOSS otherwise).
  absl::Status AppendLeaf(storage::Txn& txn, uint64_t sequence, const crypto::Digest& entry_hash);

  // Leaves in the tree, in a consistent view.
  static absl::StatusOr<uint64_t> Size(const storage::Snapshot& view);

  // Hash of leaves [start, start + size) as of `view` (they must all be in the tree).
  static absl::StatusOr<crypto::Digest> SubtreeHash(const storage::Snapshot& view, uint64_t start, uint64_t size);
  // MTH of the first `size` leaves.
  static absl::StatusOr<crypto::Digest> Root(const storage::Snapshot& view, uint64_t size);
  static absl::StatusOr<std::vector<crypto::Digest>> InclusionPath(const storage::Snapshot& view, uint64_t index,
                                                                   uint64_t size);
  static absl::StatusOr<std::vector<crypto::Digest>> ConsistencyProof(const storage::Snapshot& view,
                                                                      uint64_t first, uint64_t second);

  // Brings the tree up to the chain: appends the leaves of entries the tree does not cover
  // yet (a data directory from before the tree existed), in transactions of up to 1,000.
  // Returns how many leaves it added. DATA_LOSS if the tree is longer than the chain or an
  // entry does not unpack. Call before the hub serves.
  absl::StatusOr<uint64_t> CatchUp(const HashChain& chain);

 private:
  storage::Store* store_;
};

}  // namespace fedhub::audit

#endif  // FEDHUB_HUB_AUDIT_MERKLE_LOG_H_
