// Signed heads of the audit tree, and the proofs served against them.
//
// A head is the tree's size and root at one moment, with the time, signed with the hub's
// Ed25519 key (the key that signs consent receipts); see sdk/src/core/merkle.h for the signed
// bytes. Heads are stored (column family `tree_heads`) and numbered 1, 2, ...; the newest
// head of each tree size is indexed. Proofs are only served against stored heads, so every
// proof an auditor receives ends at a root the hub has committed to by signature.
//
// Thread-safety: thread-safe.
#ifndef FEDHUB_HUB_AUDIT_TREE_HEADS_H_
#define FEDHUB_HUB_AUDIT_TREE_HEADS_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/hash_chain.h"
#include "audit/merkle_log.h"
#include "core/crypto.h"
#include "fedhub/v1/audit.pb.h"
#include "storage/store.h"

namespace fedhub::audit {

class TreeHeads {
 public:
  // Not owned; `key` signs the heads.
  TreeHeads(storage::Store* store, const HashChain* chain, const crypto::SigningKey* key)
      : store_(store), chain_(chain), key_(key) {}
  ~TreeHeads();

  // Signs and stores a head of the tree as committed now.
  absl::StatusOr<fedhub::v1::SignedTreeHead> Sign();
  // Sign() if the tree has grown since the newest head (or there is none); else that head.
  absl::StatusOr<fedhub::v1::SignedTreeHead> SignIfGrown();

  // The newest head; NOT_FOUND if none was signed yet.
  absl::StatusOr<fedhub::v1::SignedTreeHead> Latest() const;
  // The newest head of `tree_size` leaves; NOT_FOUND naming the sizes to use if none.
  absl::StatusOr<fedhub::v1::SignedTreeHead> OfSize(uint64_t tree_size) const;
  // Heads numbered from `start` (>= 1), up to `limit`.
  absl::StatusOr<std::vector<fedhub::v1::SignedTreeHead>> List(uint64_t start, int limit) const;

  // Proof that audit entry `sequence` is in the head of `tree_size` leaves (0: the newest
  // head). NOT_FOUND if there is no such head; OUT_OF_RANGE if the entry is not in it.
  absl::StatusOr<fedhub::v1::InclusionProof> ProveInclusion(uint64_t sequence, uint64_t tree_size) const;
  // Proof that the head of `second` leaves (0: the newest) extends the head of `first`.
  absl::StatusOr<fedhub::v1::ConsistencyProof> ProveConsistency(uint64_t first, uint64_t second) const;

  // Signs a head every `interval` if the tree has grown, on a thread of its own, until
  // destruction. Errors are reported to `on_error`.
  void StartPeriodic(std::chrono::milliseconds interval, std::function<void(const absl::Status&)> on_error);

 private:
  absl::StatusOr<fedhub::v1::SignedTreeHead> SignLocked();
  storage::Store* store_;
  const HashChain* chain_;
  const crypto::SigningKey* key_;
  std::mutex sign_mu_;  // one signing at a time, so head numbers and sizes only grow

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread periodic_;
};

}  // namespace fedhub::audit

#endif  // FEDHUB_HUB_AUDIT_TREE_HEADS_H_
