#include "audit/merkle_log.h"

#include <bit>

#include "audit/hash_chain.h"
#include "core/chain_codec.h"
#include "core/strings.h"
#include "storage/keys.h"

namespace fedhub::audit {

using crypto::Digest;
using storage::Cf;

namespace {

absl::StatusOr<Digest> ParseNode(const std::optional<std::string>& value, uint8_t level, uint64_t index) {
  if (!value) {
    return absl::DataLossError(Cat("the audit tree has no node at level ", level, " index ", index,
                                   "; the merkle column family is damaged"));
  }
  if (value->size() != 32) {
    return absl::DataLossError(Cat("the audit tree's node at level ", level, " index ", index, " is ",
                                   value->size(), " bytes, expected 32"));
  }
  Digest d;
  std::copy(value->begin(), value->end(), d.begin());
  return d;
}

absl::StatusOr<uint64_t> ParseSize(const std::optional<std::string>& value) {
  if (!value) return 0;
  auto n = storage::ReadU64BE(*value);
  if (!n || value->size() != 8) return absl::DataLossError("the stored size of the audit tree is not 8 bytes");
  return *n;
}

}  // namespace

absl::Status MerkleLog::AppendLeaf(storage::Txn& txn, uint64_t sequence, const Digest& entry_hash) {
  auto raw = txn.Get(Cf::kMeta, storage::kAuditTreeSizeKey);
  if (!raw.ok()) return raw.status();
  auto size = ParseSize(*raw);
  if (!size.ok()) return size.status();
  if (sequence != *size + 1) {
    return absl::DataLossError(Cat("audit entry ", sequence, " cannot become a leaf of a tree of ", *size,
                                   " leaves; restart the hub to bring the tree up to the chain"));
  }
  uint64_t index = *size;
  uint8_t level = 0;
  Digest h = merkle::LeafHash(crypto::AsView(entry_hash));
  txn.Put(Cf::kMerkle, storage::MerkleNodeKey(0, index), std::string(crypto::AsView(h)));
  // Each trailing 1 bit of the index closes a perfect subtree with its left sibling.
  while (index & 1) {
    auto left_raw = txn.Get(Cf::kMerkle, storage::MerkleNodeKey(level, index - 1));
    if (!left_raw.ok()) return left_raw.status();
    auto left = ParseNode(*left_raw, level, index - 1);
    if (!left.ok()) return left.status();
    h = merkle::NodeHash(*left, h);
    index >>= 1;
    ++level;
    txn.Put(Cf::kMerkle, storage::MerkleNodeKey(level, index), std::string(crypto::AsView(h)));
  }
  txn.Put(Cf::kMeta, storage::kAuditTreeSizeKey, storage::U64Key(*size + 1));
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> MerkleLog::Size(const storage::Snapshot& view) {
  auto raw = view.Get(Cf::kMeta, storage::kAuditTreeSizeKey);
  if (!raw.ok()) return raw.status();
  return ParseSize(*raw);
}

absl::StatusOr<Digest> MerkleLog::SubtreeHash(const storage::Snapshot& view, uint64_t start, uint64_t size) {
  if (std::has_single_bit(size) && start % size == 0) {
    const auto level = static_cast<uint8_t>(std::countr_zero(size));
    const uint64_t index = start >> level;
    auto raw = view.Get(Cf::kMerkle, storage::MerkleNodeKey(level, index));
    if (!raw.ok()) return raw.status();
    return ParseNode(*raw, level, index);
  }
  const uint64_t k = merkle::SplitPoint(size);
  auto left = SubtreeHash(view, start, k);
  if (!left.ok()) return left.status();
  auto right = SubtreeHash(view, start + k, size - k);
  if (!right.ok()) return right.status();
  return merkle::NodeHash(*left, *right);
}

absl::StatusOr<Digest> MerkleLog::Root(const storage::Snapshot& view, uint64_t size) {
  if (size == 0) return merkle::EmptyRoot();
  return SubtreeHash(view, 0, size);
}

absl::StatusOr<std::vector<Digest>> MerkleLog::InclusionPath(const storage::Snapshot& view, uint64_t index,
                                                             uint64_t size) {
  return merkle::InclusionPath(index, size, [&](uint64_t s, uint64_t n) { return SubtreeHash(view, s, n); });
}

absl::StatusOr<std::vector<Digest>> MerkleLog::ConsistencyProof(const storage::Snapshot& view, uint64_t first,
                                                                uint64_t second) {
  return merkle::ConsistencyProof(first, second, [&](uint64_t s, uint64_t n) { return SubtreeHash(view, s, n); });
}

absl::StatusOr<uint64_t> MerkleLog::CatchUp(const HashChain& chain) {
  auto head = chain.Head();
  if (!head.ok()) return head.status();
  uint64_t added = 0;
  while (true) {
    auto view = store_->GetSnapshot();
    auto size = Size(*view);
    if (!size.ok()) return size.status();
    if (*size > head->sequence) {
      return absl::DataLossError(Cat("the audit tree has ", *size, " leaves but the audit chain only ",
                                     head->sequence, " entries; the data directory is damaged"));
    }
    if (*size == head->sequence) return added;
    // The entry hashes of the next entries, read from the chain as stored.
    std::vector<std::pair<uint64_t, Digest>> next;
    absl::Status bad;
    absl::Status s = view->Scan(Cf::kAudit, "", storage::U64Key(*size + 1), [&](std::string_view key,
                                                                                 std::string_view value) {
      auto seq = storage::ReadU64BE(key);
      auto stored = chain::UnpackStored(value);
      if (!seq || !stored.ok()) {
        bad = absl::DataLossError(Cat("audit entry after leaf ", *size + next.size(), " does not unpack"));
        return false;
      }
      next.emplace_back(*seq, stored->entry_hash);
      return next.size() < 1000 && *seq < head->sequence;
    });
    if (!s.ok()) return s;
    if (!bad.ok()) return bad;
    if (next.empty()) return absl::DataLossError(Cat("audit entry ", *size + 1, " is missing from the chain"));
    s = store_->Commit([&](storage::Txn& txn) -> absl::Status {
      for (const auto& [seq, hash] : next) {
        if (absl::Status a = AppendLeaf(txn, seq, hash); !a.ok()) return a;
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    added += next.size();
  }
}

}  // namespace fedhub::audit
