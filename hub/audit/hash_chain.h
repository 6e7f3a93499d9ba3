// An append-only, hash-chained log in one column family (the consent ledger and the
// audit log are both HashChains). Each entry commits to the previous entry's hash, so
// changing, removing, inserting or reordering any stored entry breaks verification from
// that entry on. The encoding and hash are in sdk/src/core/chain_codec.h.
//
// Thread-safety: thread-safe. Append must be called inside Store::Commit; the store runs
// transactions one at a time, so the head read and written here cannot race.
#ifndef FEDHUB_HUB_AUDIT_HASH_CHAIN_H_
#define FEDHUB_HUB_AUDIT_HASH_CHAIN_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/crypto.h"
#include "fedhub/v1/audit.pb.h"
#include "storage/store.h"

namespace fedhub::audit {

class MerkleLog;

struct ChainPosition {
  uint64_t sequence = 0;
  crypto::Digest hash{};
};

struct VerifyResult {
  bool ok = true;
  uint64_t entries_checked = 0;
  uint64_t first_bad_sequence = 0;
  std::string problem;
  ChainPosition head;
};

class HashChain {
 public:
  // `chain` selects the domain tag, column family and head key. With a `tree`, every
  // appended entry also becomes its next leaf, in the same transaction.
  HashChain(storage::Store* store, fedhub::v1::Chain chain, MerkleLog* tree = nullptr);

  // Appends `encoded` after the current head (as seen by the transaction).
  absl::StatusOr<ChainPosition> Append(storage::Txn& txn, std::string_view encoded);

  // The committed head.
  absl::StatusOr<ChainPosition> Head() const;

  // Reads up to `limit` committed entries from `start` (>= 1), decoded.
  absl::StatusOr<std::vector<fedhub::v1::ChainEntry>> Read(uint64_t start, int limit) const;

  // Re-hashes every committed entry from the first and checks the links and the head.
  absl::StatusOr<VerifyResult> Verify() const;

  fedhub::v1::Chain chain() const { return chain_; }

 private:
  absl::StatusOr<ChainPosition> ParseHead(const std::optional<std::string>& value) const;
  storage::Store* store_;
  MerkleLog* tree_;
  fedhub::v1::Chain chain_;
  storage::Cf cf_;
  std::string_view head_key_;
  std::string_view domain_;
};

}  // namespace fedhub::audit

#endif  // FEDHUB_HUB_AUDIT_HASH_CHAIN_H_
