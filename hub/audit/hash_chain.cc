#include "audit/hash_chain.h"

#include "audit/merkle_log.h"
#include "core/chain_codec.h"
#include "core/strings.h"
#include "storage/keys.h"

namespace fedhub::audit {

using storage::Cf;

namespace {

// Keys of a chain's column family are u64be sequence numbers; anything else was written
// behind the hub's back.
absl::Status NotASequence(std::string_view cf, std::string_view key) {
  return absl::DataLossError(Cat("the ", cf, " chain holds a key of ", key.size(), " bytes (",
                                 crypto::HexEncode(key.substr(0, 16)),
                                 "), which is not a sequence number"));
}

}  // namespace

HashChain::HashChain(storage::Store* store, fedhub::v1::Chain chain, MerkleLog* tree)
    : store_(store),
      tree_(tree),
      chain_(chain),
      cf_(chain == fedhub::v1::CHAIN_LEDGER ? Cf::kLedger : Cf::kAudit),
      head_key_(chain == fedhub::v1::CHAIN_LEDGER ? storage::kLedgerHeadKey
                                                  : storage::kAuditHeadKey),
      domain_(chain::DomainOf(chain)) {}

absl::StatusOr<ChainPosition> HashChain::ParseHead(const std::optional<std::string>& value) const {
  ChainPosition pos;
  pos.hash = chain::GenesisHash();
  if (!value) return pos;
  if (value->size() != 40) {
    return absl::DataLossError(Cat("stored head of the ", CfName(cf_), " chain is ",
                                   value->size(), " bytes, expected 40"));
  }
  pos.sequence = *storage::ReadU64BE(*value);
  std::copy(value->begin() + 8, value->end(), pos.hash.begin());
  return pos;
}

absl::StatusOr<ChainPosition> HashChain::Append(storage::Txn& txn, std::string_view encoded) {
  auto head_value = txn.Get(Cf::kMeta, head_key_);
  if (!head_value.ok()) return head_value.status();
  auto head = ParseHead(*head_value);
  if (!head.ok()) return head.status();

  ChainPosition next;
  next.sequence = head->sequence + 1;
  next.hash = chain::EntryHash(domain_, head->hash, next.sequence, encoded);
  txn.Put(cf_, storage::U64Key(next.sequence), chain::PackStored(head->hash, next.hash, encoded));
  std::string new_head = storage::U64Key(next.sequence);
  new_head.append(crypto::AsView(next.hash));
  txn.Put(Cf::kMeta, head_key_, new_head);
  if (tree_ != nullptr) {
    if (absl::Status s = tree_->AppendLeaf(txn, next.sequence, next.hash); !s.ok()) return s;
  }
  return next;
}

absl::StatusOr<ChainPosition> HashChain::Head() const {
  auto value = store_->Get(Cf::kMeta, head_key_);
  if (!value.ok()) return value.status();
  return ParseHead(*value);
}

absl::StatusOr<std::vector<fedhub::v1::ChainEntry>> HashChain::Read(uint64_t start,
                                                                    int limit) const {
  std::vector<fedhub::v1::ChainEntry> out;
  absl::Status decode_error;
  absl::Status s = store_->Scan(
      cf_, "", storage::U64Key(start), [&](std::string_view key, std::string_view value) {
        if (key.size() != 8) {
          decode_error = NotASequence(CfName(cf_), key);
          return false;
        }
        fedhub::v1::ChainEntry e;
        e.set_sequence(*storage::ReadU64BE(key));
        auto stored = chain::UnpackStored(value);
        if (!stored.ok()) {
          // Hand the raw bytes to the caller anyway: verifying is the caller's job, and a
          // verifier must see the broken entry to name it.
          e.set_encoded(std::string(value));
        } else {
          e.set_prev_hash(std::string(crypto::AsView(stored->prev_hash)));
          e.set_entry_hash(std::string(crypto::AsView(stored->entry_hash)));
          e.set_encoded(std::string(stored->encoded));
          if (chain_ == fedhub::v1::CHAIN_LEDGER) {
            if (auto r = chain::DecodeLedger(stored->encoded); r.ok()) *e.mutable_ledger() = *r;
          } else {
            if (auto r = chain::DecodeAudit(stored->encoded); r.ok()) *e.mutable_audit() = *r;
          }
        }
        out.push_back(std::move(e));
        return static_cast<int>(out.size()) < limit;
      });
  if (!s.ok()) return s;
  if (!decode_error.ok()) return decode_error;
  return out;
}

absl::StatusOr<VerifyResult> HashChain::Verify() const {
  auto head = Head();
  if (!head.ok()) return head.status();
  VerifyResult result;
  result.head = *head;
  chain::ChainVerifier verifier(chain_);
  absl::Status failure;
  absl::Status s = store_->Scan(cf_, "", "", [&](std::string_view key, std::string_view value) {
    if (key.size() != 8) {
      failure = NotASequence(CfName(cf_), key);
      result.first_bad_sequence = verifier.next_sequence();
      return false;
    }
    uint64_t seq = *storage::ReadU64BE(key);
    if (seq > head->sequence) return false;  // appended after the head was read
    auto stored = chain::UnpackStored(value);
    if (!stored.ok()) {
      failure = absl::DataLossError(Cat("entry ", seq, ": ", ToStd(stored.status().message())));
      result.first_bad_sequence = seq;
      return false;
    }
    failure = verifier.Add(seq, crypto::AsView(stored->prev_hash),
                           crypto::AsView(stored->entry_hash), stored->encoded);
    if (!failure.ok()) {
      result.first_bad_sequence = seq;
      return false;
    }
    return true;
  });
  if (!s.ok()) return s;
  result.entries_checked = verifier.entries_checked();
  if (failure.ok() && verifier.entries_checked() != head->sequence) {
    failure = absl::DataLossError(Cat("the head says ", head->sequence, " entries but ",
                                      verifier.entries_checked(), " are stored"));
    result.first_bad_sequence = verifier.next_sequence();
  }
  if (failure.ok() && verifier.head_hash() != head->hash) {
    failure = absl::DataLossError("the stored head hash differs from the last entry's hash");
    result.first_bad_sequence = head->sequence;
  }
  if (!failure.ok()) {
    result.ok = false;
    result.problem = std::string(failure.message());
  }
  return result;
}

}  // namespace fedhub::audit
