#include "audit/tree_heads.h"

#include "core/merkle.h"
#include "core/strings.h"
#include "storage/keys.h"

namespace fedhub::audit {

using crypto::Digest;
using fedhub::v1::SignedTreeHead;
using storage::Cf;

namespace {

absl::StatusOr<SignedTreeHead> ParseHead(const std::optional<std::string>& raw, std::string_view what) {
  if (!raw) return absl::NotFoundError(Cat(what, " is not stored"));
  SignedTreeHead h;
  if (!h.ParseFromString(*raw)) return absl::DataLossError(Cat(what, " does not parse"));
  return h;
}

absl::StatusOr<Digest> RootOf(const SignedTreeHead& h) {
  if (h.root_hash().size() != 32) {
    return absl::DataLossError(Cat("stored tree head ", h.number(), " has a root of ", h.root_hash().size(),
                                   " bytes, expected 32"));
  }
  Digest d;
  std::copy(h.root_hash().begin(), h.root_hash().end(), d.begin());
  return d;
}

absl::StatusOr<uint64_t> LastNumber(const storage::Snapshot& view) {
  auto raw = view.Get(Cf::kMeta, storage::kLastTreeHeadKey);
  if (!raw.ok()) return raw.status();
  if (!*raw) return 0;
  auto n = storage::ReadU64BE(**raw);
  if (!n) return absl::DataLossError("the number of the newest tree head is not 8 bytes");
  return *n;
}

}  // namespace

TreeHeads::~TreeHeads() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (periodic_.joinable()) periodic_.join();
}

absl::StatusOr<SignedTreeHead> TreeHeads::Sign() {
  std::lock_guard lock(sign_mu_);
  return SignLocked();
}

absl::StatusOr<SignedTreeHead> TreeHeads::SignIfGrown() {
  std::lock_guard lock(sign_mu_);
  auto latest = Latest();
  if (latest.ok()) {
    auto view = store_->GetSnapshot();
    auto size = MerkleLog::Size(*view);
    if (!size.ok()) return size.status();
    if (*size == latest->tree_size()) return latest;
  } else if (latest.status().code() != absl::StatusCode::kNotFound) {
    return latest.status();
  }
  return SignLocked();
}

absl::StatusOr<SignedTreeHead> TreeHeads::SignLocked() {
  auto view = store_->GetSnapshot();
  auto size = MerkleLog::Size(*view);
  if (!size.ok()) return size.status();
  auto root = MerkleLog::Root(*view, *size);
  if (!root.ok()) return root.status();
  auto last = LastNumber(*view);
  if (!last.ok()) return last.status();

  SignedTreeHead h;
  h.set_tree_size(*size);
  h.set_root_hash(std::string(crypto::AsView(*root)));
  h.set_timestamp_micros(storage::NowMicros());
  h.set_key_id(key_->key_id());
  h.set_signature(key_->Sign(merkle::TreeHeadMessage(h.tree_size(), h.timestamp_micros(), *root)));
  h.set_number(*last + 1);
  absl::Status s = store_->Commit([&](storage::Txn& txn) {
    txn.Put(Cf::kTreeHeads, storage::TreeHeadKey(h.number()), h.SerializeAsString());
    txn.Put(Cf::kTreeHeads, storage::TreeHeadBySizeKey(h.tree_size()), storage::U64Key(h.number()));
    txn.Put(Cf::kMeta, storage::kLastTreeHeadKey, storage::U64Key(h.number()));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return h;
}

absl::StatusOr<SignedTreeHead> TreeHeads::Latest() const {
  auto view = store_->GetSnapshot();
  auto last = LastNumber(*view);
  if (!last.ok()) return last.status();
  if (*last == 0) {
    return absl::NotFoundError("no tree head has been signed yet; sign one with SignTreeHead");
  }
  auto raw = view->Get(Cf::kTreeHeads, storage::TreeHeadKey(*last));
  if (!raw.ok()) return raw.status();
  return ParseHead(*raw, Cat("tree head ", *last));
}

absl::StatusOr<SignedTreeHead> TreeHeads::OfSize(uint64_t tree_size) const {
  auto view = store_->GetSnapshot();
  auto number = view->Get(Cf::kTreeHeads, storage::TreeHeadBySizeKey(tree_size));
  if (!number.ok()) return number.status();
  if (!*number) {
    return absl::NotFoundError(Cat("no signed tree head has size ", tree_size,
                                   "; list the signed heads (ListSignedTreeHeads) and use one of their sizes"));
  }
  auto n = storage::ReadU64BE(**number);
  if (!n) return absl::DataLossError(Cat("the index of tree heads of size ", tree_size, " is not 8 bytes"));
  auto raw = view->Get(Cf::kTreeHeads, storage::TreeHeadKey(*n));
  if (!raw.ok()) return raw.status();
  return ParseHead(*raw, Cat("tree head ", *n));
}

absl::StatusOr<std::vector<SignedTreeHead>> TreeHeads::List(uint64_t start, int limit) const {
  std::vector<SignedTreeHead> out;
  absl::Status bad;
  absl::Status s = store_->Scan(Cf::kTreeHeads, "n", storage::TreeHeadKey(start),
                                [&](std::string_view key, std::string_view value) {
                                  SignedTreeHead h;
                                  if (!h.ParseFromString(std::string(value))) {
                                    bad = absl::DataLossError(Cat("a stored tree head (key ", crypto::HexEncode(key),
                                                                  ") does not parse"));
                                    return false;
                                  }
                                  out.push_back(std::move(h));
                                  return static_cast<int>(out.size()) < limit;
                                });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  return out;
}

absl::StatusOr<fedhub::v1::InclusionProof> TreeHeads::ProveInclusion(uint64_t sequence, uint64_t tree_size) const {
  auto head = tree_size == 0 ? Latest() : OfSize(tree_size);
  if (!head.ok()) return head.status();
  if (sequence == 0 || sequence > head->tree_size()) {
    return absl::OutOfRangeError(Cat("audit entry ", sequence, " is not in the signed head of ", head->tree_size(),
                                     " entries; entries are numbered from 1, and a newer entry needs a newer "
                                     "head (SignTreeHead)"));
  }
  auto view = store_->GetSnapshot();
  auto path = MerkleLog::InclusionPath(*view, sequence - 1, head->tree_size());
  if (!path.ok()) return path.status();
  auto entries = chain_->Read(sequence, 1);
  if (!entries.ok()) return entries.status();
  if (entries->empty() || (*entries)[0].sequence() != sequence) {
    return absl::DataLossError(Cat("audit entry ", sequence, " is missing from the chain"));
  }
  fedhub::v1::InclusionProof p;
  *p.mutable_entry() = std::move((*entries)[0]);
  p.mutable_entry()->clear_record();
  p.set_leaf_index(sequence - 1);
  for (const Digest& d : *path) p.add_audit_path(std::string(crypto::AsView(d)));
  *p.mutable_head() = *head;
  // The hub checks its own answer: a damaged store must not yield a proof that fails later.
  auto root = RootOf(*head);
  if (!root.ok()) return root.status();
  absl::Status check = merkle::VerifyInclusion(sequence - 1, head->tree_size(),
                                               merkle::LeafHash(p.entry().entry_hash()), *path, *root);
  if (!check.ok()) {
    return absl::DataLossError(Cat("the stored audit tree no longer matches signed head ", head->number(), ": ",
                                   check.message()));
  }
  return p;
}

absl::StatusOr<fedhub::v1::ConsistencyProof> TreeHeads::ProveConsistency(uint64_t first, uint64_t second) const {
  auto a = OfSize(first);
  if (!a.ok()) return a.status();
  auto b = second == 0 ? Latest() : OfSize(second);
  if (!b.ok()) return b.status();
  if (a->tree_size() > b->tree_size()) {
    return absl::InvalidArgumentError(Cat("first_tree_size ", first, " is larger than the second head's ",
                                          b->tree_size(), "; give the older head first"));
  }
  if (a->tree_size() == 0) {
    return absl::InvalidArgumentError("every tree extends the empty tree; give a first head of at least one entry");
  }
  auto view = store_->GetSnapshot();
  auto proof = MerkleLog::ConsistencyProof(*view, a->tree_size(), b->tree_size());
  if (!proof.ok()) return proof.status();
  fedhub::v1::ConsistencyProof p;
  *p.mutable_first() = *a;
  *p.mutable_second() = *b;
  for (const Digest& d : *proof) p.add_proof(std::string(crypto::AsView(d)));
  auto root_a = RootOf(*a);
  if (!root_a.ok()) return root_a.status();
  auto root_b = RootOf(*b);
  if (!root_b.ok()) return root_b.status();
  absl::Status check = merkle::VerifyConsistency(a->tree_size(), b->tree_size(), *root_a, *root_b, *proof);
  if (!check.ok()) {
    return absl::DataLossError(Cat("the stored audit tree no longer matches signed heads ", a->number(), " and ",
                                   b->number(), ": ", check.message()));
  }
  return p;
}

void TreeHeads::StartPeriodic(std::chrono::milliseconds interval, std::function<void(const absl::Status&)> on_error) {
  periodic_ = std::thread([this, interval, on_error = std::move(on_error)] {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, interval, [&] { return stopping_; })) {
      lock.unlock();
      auto h = SignIfGrown();
      if (!h.ok() && on_error) on_error(h.status());
      lock.lock();
    }
  });
}

}  // namespace fedhub::audit
