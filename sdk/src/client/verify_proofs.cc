// Offline checks of the audit tree's signed heads and proofs (fedhub/verify.h), over the
// core Merkle code the hub builds its tree with.
#include <vector>

#include "core/chain_codec.h"
#include "core/crypto.h"
#include "core/merkle.h"
#include "core/strings.h"
#include "fedhub/verify.h"

namespace fedhub {
namespace {

using crypto::Digest;

absl::StatusOr<Digest> ToDigest(std::string_view bytes, std::string_view what) {
  if (bytes.size() != 32) return absl::InvalidArgumentError(Cat(what, " is ", bytes.size(), " bytes, expected 32"));
  Digest d;
  std::copy(bytes.begin(), bytes.end(), d.begin());
  return d;
}

absl::StatusOr<std::vector<Digest>> ToDigests(const google::protobuf::RepeatedPtrField<std::string>& list,
                                              std::string_view what) {
  std::vector<Digest> out;
  for (int i = 0; i < list.size(); ++i) {
    auto d = ToDigest(list.Get(i), Cat(what, "[", i, "]"));
    if (!d.ok()) return absl::DataLossError(d.status().message());
    out.push_back(*d);
  }
  return out;
}

absl::Status WithContext(const absl::Status& s, std::string_view context) {
  if (s.ok()) return s;
  return absl::Status(s.code(), Cat(context, ": ", s.message()));
}

}  // namespace

absl::Status VerifySignedTreeHead(const v1::SignedTreeHead& head, std::string_view key) {
  if (key.size() != 32) return absl::InvalidArgumentError(Cat("the hub's public key is ", key.size(), " bytes, expected 32"));
  auto root = ToDigest(head.root_hash(), "root_hash");
  if (!root.ok()) return root.status();
  if (head.signature().size() != 64) {
    return absl::InvalidArgumentError(Cat("the signature is ", head.signature().size(), " bytes, expected 64"));
  }
  if (crypto::Ed25519Verify(key, merkle::TreeHeadMessage(head.tree_size(), head.timestamp_micros(), *root),
                            head.signature())) {
    return absl::OkStatus();
  }
  const std::string given = crypto::KeyIdFor(key);
  return absl::UnauthenticatedError(
      head.key_id() != given
          ? Cat("tree head of size ", head.tree_size(), " was signed by key ", head.key_id(), ", not by key ", given)
          : Cat("the signature of the tree head of size ", head.tree_size(), " does not verify with key ", given,
                ": the head was altered or forged"));
}

absl::Status VerifyInclusionProof(const v1::InclusionProof& proof, std::string_view key) {
  const v1::SignedTreeHead& head = proof.head();
  if (absl::Status s = VerifySignedTreeHead(head, key); !s.ok()) return s;
  const v1::ChainEntry& e = proof.entry();
  const std::string what = Cat("audit entry ", e.sequence());
  if (e.sequence() == 0) return absl::DataLossError("the proof's entry has no sequence");
  if (proof.leaf_index() != e.sequence() - 1) {
    return absl::DataLossError(Cat(what, ": leaf index ", proof.leaf_index(), " is not sequence - 1"));
  }
  auto prev = ToDigest(e.prev_hash(), "prev_hash");
  if (!prev.ok()) return absl::DataLossError(Cat(what, ": ", prev.status().message()));
  const Digest entry_hash = chain::EntryHash(chain::kAuditDomain, *prev, e.sequence(), e.encoded());
  if (crypto::AsView(entry_hash) != e.entry_hash()) {
    return absl::DataLossError(Cat(what, ": its content does not match its entry hash (changed after it was written)"));
  }
  auto path = ToDigests(proof.audit_path(), "audit_path");
  if (!path.ok()) return path.status();
  return WithContext(merkle::VerifyInclusion(proof.leaf_index(), head.tree_size(),
                                             merkle::LeafHash(crypto::AsView(entry_hash)), *path,
                                             *ToDigest(head.root_hash(), "root_hash")),
                     Cat(what, " in the head of size ", head.tree_size()));
}

absl::Status VerifyConsistencyProof(const v1::ConsistencyProof& proof, std::string_view key) {
  if (absl::Status s = VerifySignedTreeHead(proof.first(), key); !s.ok()) return WithContext(s, "first head");
  if (absl::Status s = VerifySignedTreeHead(proof.second(), key); !s.ok()) return WithContext(s, "second head");
  auto path = ToDigests(proof.proof(), "proof");
  if (!path.ok()) return path.status();
  return WithContext(
      merkle::VerifyConsistency(proof.first().tree_size(), proof.second().tree_size(),
                                *ToDigest(proof.first().root_hash(), "root_hash"),
                                *ToDigest(proof.second().root_hash(), "root_hash"), *path),
      Cat("heads of size ", proof.first().tree_size(), " and ", proof.second().tree_size()));
}

}  // namespace fedhub
