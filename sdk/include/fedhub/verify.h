// Offline verification: consent receipts and the hub's hash chains, checked with no trust
// in the hub beyond its public key.
//
// Receipt:  Ed25519 over "fedhub.receipt.v1" || 0x00 || ConsentReceipt.body, with the hub's
//           32-byte public key (HubService.GetHubInfo, or the PEM an operator publishes).
// Chains:   entry hash = SHA-256(domain || 0x00 || prev_hash || u64be(sequence) || encoded),
//           domain "fedhub.audit.v1" or "fedhub.ledger.v1"; see docs/chain-format.md.
// Proofs:   the audit log's RFC 9162 Merkle tree, its leaves the entry hashes, and tree
//           heads signed with the same key; see docs/audit-proofs.md.
#ifndef FEDHUB_VERIFY_H_
#define FEDHUB_VERIFY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fedhub/v1/audit.pb.h"
#include "fedhub/v1/consent.pb.h"

namespace fedhub {

// Checks the receipt's signature with the hub's raw 32-byte Ed25519 public key and returns
// the body it attests. UNAUTHENTICATED if the signature does not verify (altered body, or a
// different key, named by key id when the receipt carries one); INVALID_ARGUMENT if the key
// or signature has the wrong size or the signed body does not parse.
absl::StatusOr<v1::ReceiptBody> VerifyReceipt(const v1::ConsentReceipt& receipt,
                                              std::string_view hub_public_key_raw32);

// The raw 32-byte key from a PEM SubjectPublicKeyInfo holding an Ed25519 key, as
// GetHubInfoResponse.signing_public_key_pem. INVALID_ARGUMENT if it is anything else.
absl::StatusOr<std::string> HubPublicKeyFromPem(std::string_view pem);

// Identifier of a raw public key: the first 16 hex digits of its SHA-256, as
// GetHubInfoResponse.signing_key_id and ConsentReceipt.signing_key_id.
std::string HubKeyId(std::string_view hub_public_key_raw32);

// Verifies one chain entry by entry, from the genesis (or from a trusted point given to
// StartAt). Usage, e.g. for an auditor:
//
//   fedhub::ChainVerifier verifier(fedhub::v1::CHAIN_AUDIT);
//   uint64_t next = 1;
//   while (next != 0) {
//     auto page = client.ListChainEntries(chain, next, 1000);   // check page.ok()
//     for (const auto& e : page->entries()) {
//       if (absl::Status s = verifier.Add(e); !s.ok()) return s;   // first broken entry
//     }
//     next = page->next_sequence();
//     head = page->head();
//   }
//   return verifier.CheckHead(head);   // the hub's head must be the one we computed
//
// Only ChainEntry.sequence, prev_hash, entry_hash and encoded are checked; the decoded
// `record` the hub adds for convenience is ignored. Not thread-safe; movable.
class ChainVerifier {
 public:
  explicit ChainVerifier(v1::Chain chain);
  ~ChainVerifier();
  ChainVerifier(ChainVerifier&&) noexcept;
  ChainVerifier& operator=(ChainVerifier&&) noexcept;

  // Continue from a trusted point: the next entry is `next_sequence` and its prev_hash must
  // be `prev_hash` (32 raw bytes). INVALID_ARGUMENT if the hash has the wrong size.
  absl::Status StartAt(uint64_t next_sequence, std::string_view prev_hash);

  // OK, or DATA_LOSS naming the entry's sequence and what is wrong: a gap or repeat, a
  // prev_hash that does not link, content that does not match its hash, or an encoding
  // that does not decode. After an error the verifier keeps its last good state.
  absl::Status Add(const v1::ChainEntry& entry);

  // OK if `head` (as the hub reports it) is exactly the end of what was verified: same
  // size and same hash. DATA_LOSS otherwise, saying which differs.
  absl::Status CheckHead(const v1::ChainHead& head) const;

  uint64_t entries_checked() const;
  // Sequence the next Add expects.
  uint64_t next_sequence() const;
  // Hash of the last verified entry (32 raw bytes; all zero before the first).
  std::string head_hash() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Checks a signed tree head's Ed25519 signature over "fedhub.sth.v1" || 0x00 ||
// u64be(tree_size) || i64be(timestamp_micros) || root_hash with the hub's raw 32-byte key.
// UNAUTHENTICATED if it does not verify (naming the head's key id and the given key's when
// they differ); INVALID_ARGUMENT if the key, root or signature has the wrong size.
absl::Status VerifySignedTreeHead(const v1::SignedTreeHead& head, std::string_view hub_public_key_raw32);

// Checks an inclusion proof (GetInclusionProof, `fedhubctl audit prove --json`) with nothing
// but the hub's key: the head's signature; the entry's hash recomputed from its prev_hash,
// sequence and encoded bytes; leaf_index = sequence - 1; and the audit path from the entry's
// leaf to the head's root. UNAUTHENTICATED for a bad signature, DATA_LOSS naming the first
// other check that fails.
absl::Status VerifyInclusionProof(const v1::InclusionProof& proof, std::string_view hub_public_key_raw32);

// Checks a consistency proof: both heads' signatures, first size <= second size, and that the
// second head's tree extends the first's. UNAUTHENTICATED or DATA_LOSS as above.
absl::Status VerifyConsistencyProof(const v1::ConsistencyProof& proof, std::string_view hub_public_key_raw32);

}  // namespace fedhub

#endif  // FEDHUB_VERIFY_H_
