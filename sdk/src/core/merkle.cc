#include "core/merkle.h"

#include <bit>

#include "core/strings.h"

namespace fedhub::merkle {
namespace {

std::string_view View(const Digest& d) { return crypto::AsView(d); }

absl::Status Broken(std::string_view what) { return absl::DataLossError(std::string(what)); }

// RFC 9162 §2.1.3.1 PATH(m, D[start:start+n]), sibling first.
absl::Status Path(uint64_t m, uint64_t start, uint64_t n, const SubtreeHashFn& mth, std::vector<Digest>* out) {
  if (n == 1) return absl::OkStatus();
  const uint64_t k = SplitPoint(n);
  if (m < k) {
    if (absl::Status s = Path(m, start, k, mth, out); !s.ok()) return s;
    auto right = mth(start + k, n - k);
    if (!right.ok()) return right.status();
    out->push_back(*right);
  } else {
    if (absl::Status s = Path(m - k, start + k, n - k, mth, out); !s.ok()) return s;
    auto left = mth(start, k);
    if (!left.ok()) return left.status();
    out->push_back(*left);
  }
  return absl::OkStatus();
}

// RFC 9162 §2.1.4.1 SUBPROOF(m, D[start:start+n], b).
absl::Status SubProof(uint64_t m, uint64_t start, uint64_t n, bool whole, const SubtreeHashFn& mth,
                      std::vector<Digest>* out) {
  if (m == n) {
    if (whole) return absl::OkStatus();
    auto h = mth(start, n);
    if (!h.ok()) return h.status();
    out->push_back(*h);
    return absl::OkStatus();
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    if (absl::Status s = SubProof(m, start, k, whole, mth, out); !s.ok()) return s;
    auto right = mth(start + k, n - k);
    if (!right.ok()) return right.status();
    out->push_back(*right);
  } else {
    if (absl::Status s = SubProof(m - k, start + k, n - k, false, mth, out); !s.ok()) return s;
    auto left = mth(start, k);
    if (!left.ok()) return left.status();
    out->push_back(*left);
  }
  return absl::OkStatus();
}

bool Lsb(uint64_t x) { return (x & 1) != 0; }

}  // namespace

Digest LeafHash(std::string_view leaf_input) {
  static constexpr char kLeaf = 0x00;
  return crypto::Sha256Parts({std::string_view(&kLeaf, 1), leaf_input});
}

Digest NodeHash(const Digest& left, const Digest& right) {
  static constexpr char kNode = 0x01;
  return crypto::Sha256Parts({std::string_view(&kNode, 1), View(left), View(right)});
}

const Digest& EmptyRoot() {
  static const Digest empty = crypto::Sha256("");
  return empty;
}

uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

Digest RootOf(std::span<const Digest> leaf_hashes) {
  Frontier f;
  for (const Digest& d : leaf_hashes) f.Append(d);
  return f.Root();
}

absl::StatusOr<std::vector<Digest>> InclusionPath(uint64_t index, uint64_t size, const SubtreeHashFn& mth) {
  if (index >= size) {
    return absl::InvalidArgumentError(
        Cat("leaf index ", index, " is outside a tree of ", size, " leaves; ask for a larger tree"));
  }
  std::vector<Digest> out;
  if (absl::Status s = Path(index, 0, size, mth, &out); !s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<Digest>> ConsistencyProof(uint64_t first, uint64_t second, const SubtreeHashFn& mth) {
  if (first == 0 || first > second) {
    return absl::InvalidArgumentError(Cat("a consistency proof needs 0 < first size <= second size; got ",
                                          first, " and ", second));
  }
  std::vector<Digest> out;
  if (first == second) return out;
  if (absl::Status s = SubProof(first, 0, second, true, mth, &out); !s.ok()) return s;
  return out;
}

absl::Status VerifyInclusion(uint64_t index, uint64_t size, const Digest& leaf_hash,
                             std::span<const Digest> path, const Digest& root) {
  if (index >= size) return Broken(Cat("inclusion: leaf index ", index, " is not below the tree size ", size));
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Digest r = leaf_hash;
  for (const Digest& p : path) {
    if (sn == 0) return Broken(Cat("inclusion: the audit path is longer than a tree of ", size, " leaves allows"));
    if (Lsb(fn) || fn == sn) {
      r = NodeHash(p, r);
      while (!Lsb(fn) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Broken(Cat("inclusion: the audit path is shorter than a tree of ", size, " leaves needs"));
  if (r != root) {
    return Broken(Cat("inclusion: the audit path of leaf ", index, " leads to root ",
                      crypto::HexEncode(View(r)), ", not the head's root ", crypto::HexEncode(View(root))));
  }
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t first, uint64_t second, const Digest& first_root,
                               const Digest& second_root, std::span<const Digest> proof) {
  if (first == 0 || first > second) {
    return Broken(Cat("consistency: sizes ", first, " and ", second, " are not 0 < first <= second"));
  }
  if (first == second) {
    if (!proof.empty()) return Broken("consistency: equal sizes need an empty proof");
    if (first_root != second_root) return Broken(Cat("consistency: two heads of size ", first, " have different roots"));
    return absl::OkStatus();
  }
  if (proof.empty()) return Broken("consistency: the proof is empty");
  std::vector<Digest> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(first)) path.push_back(first_root);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = first - 1;
  uint64_t sn = second - 1;
  while (Lsb(fn)) {
    fn >>= 1;
    sn >>= 1;
  }
  Digest fr = path[0];
  Digest sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Digest& c = path[i];
    if (sn == 0) return Broken("consistency: the proof is longer than the sizes allow");
    if (Lsb(fn) || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while (!Lsb(fn) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Broken("consistency: the proof is shorter than the sizes need");
  if (fr != first_root) {
    return Broken(Cat("consistency: the proof does not lead to the root of the first head (size ", first,
                      "): the larger tree does not extend it"));
  }
  if (sr != second_root) {
    return Broken(Cat("consistency: the proof does not lead to the root of the second head (size ", second, ")"));
  }
  return absl::OkStatus();
}

std::string TreeHeadMessage(uint64_t tree_size, int64_t timestamp_micros, const Digest& root) {
  std::string m(kTreeHeadDomain);
  m.push_back('\0');
  for (int i = 7; i >= 0; --i) m.push_back(static_cast<char>(tree_size >> (8 * i)));
  const auto t = static_cast<uint64_t>(timestamp_micros);
  for (int i = 7; i >= 0; --i) m.push_back(static_cast<char>(t >> (8 * i)));
  m.append(View(root));
  return m;
}

void Frontier::Append(const Digest& leaf_hash) {
  Digest h = leaf_hash;
  // Each trailing 1 bit of the old size is a peak of equal height that merges into h.
  for (uint64_t n = size_; Lsb(n); n >>= 1) {
    h = NodeHash(peaks_.back(), h);
    peaks_.pop_back();
  }
  peaks_.push_back(h);
  ++size_;
}

Digest Frontier::Root() const {
  if (peaks_.empty()) return EmptyRoot();
  Digest r = peaks_.back();
  for (size_t i = peaks_.size() - 1; i-- > 0;) r = NodeHash(peaks_[i], r);
  return r;
}

}  // namespace fedhub::merkle
