#include "core/chain_codec.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <span>

#include "core/strings.h"

namespace fedhub::chain {
namespace {

using fedhub::v1::AuditRecord;
using fedhub::v1::LedgerRecord;

int64_t ToMicros(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000 + t.nanos() / 1000;
}

google::protobuf::Timestamp FromMicros(int64_t micros) {
  google::protobuf::Timestamp t;
  int64_t secs = micros / 1000000;
  int64_t rem = micros % 1000000;
  if (rem < 0) {
    rem += 1000000;
    secs -= 1;
  }
  t.set_seconds(secs);
  t.set_nanos(static_cast<int32_t>(rem * 1000));
  return t;
}

class Writer {
 public:
  Writer() : out_(&own_) {}
  // Appends to `*out`.
  explicit Writer(std::string* out) : out_(out) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  void Reserve(size_t bytes) { out_->reserve(bytes); }
  void U8(uint32_t v) { out_->push_back(static_cast<char>(v & 0xff)); }
  void U32(uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
    out_->append(b, 4);
  }
  void U64(uint64_t v) {
    U32(static_cast<uint32_t>(v >> 32));
    U32(static_cast<uint32_t>(v));
  }
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void Str(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    out_->append(s);
  }
  template <typename Repeated>
  void Enums(const Repeated& values) {
    U8(static_cast<uint32_t>(values.size()));
    for (int v : values) U8(static_cast<uint32_t>(v));
  }
  std::string Take() { return std::move(*out_); }

 private:
  std::string own_;
  std::string* out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool U8(uint32_t* v) {
    if (!Need(1)) return false;
    *v = static_cast<unsigned char>(in_[pos_++]);
    return true;
  }
  bool U32(uint32_t* v) {
    if (!Need(4)) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v = *v << 8 | static_cast<unsigned char>(in_[pos_++]);
    return true;
  }
  bool U64(uint64_t* v) {
    if (!Need(8)) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v = *v << 8 | static_cast<unsigned char>(in_[pos_++]);
    return true;
  }
  bool I64(int64_t* v) {
    uint64_t u;
    if (!U64(&u)) return false;
    *v = static_cast<int64_t>(u);
    return true;
  }
  bool Str(std::string* s) {
    uint32_t n;
    if (!U32(&n) || !Need(n)) return false;
    s->assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  template <typename Add>
  bool Enums(Add add) {
    uint32_t n, v;
    if (!U8(&n)) return false;
    for (uint32_t i = 0; i < n; ++i) {
      if (!U8(&v)) return false;
      add(static_cast<int>(v));
    }
    return true;
  }
  // Skips a str or an enums list without copying it.
  bool SkipStr() {
    uint32_t n;
    if (!U32(&n) || !Need(n)) return false;
    pos_ += n;
    return true;
  }
  bool SkipEnums() {
    uint32_t n;
    if (!U8(&n)) return false;
    if (!Need(n)) {
      pos_ = in_.size();  // where Enums, reading one byte at a time, would stop
      return false;
    }
    pos_ += n;
    return true;
  }
  // Walks fields laid out as `layout` (B u8, I u32, Q 8 bytes, S str, E enums).
  bool Skip(std::string_view layout) {
    uint32_t u32;
    uint64_t u64;
    for (char c : layout) {
      const bool ok = c == 'B' ? U8(&u32) : c == 'I' ? U32(&u32) : c == 'Q' ? U64(&u64) : c == 'S' ? SkipStr() : SkipEnums();
      if (!ok) return false;
    }
    return true;
  }
  bool AtEnd() const { return pos_ == in_.size(); }
  size_t pos() const { return pos_; }

 private:
  bool Need(size_t n) const { return in_.size() - pos_ >= n; }
  std::string_view in_;
  size_t pos_ = 0;
};

// The layouts EncodeAudit and EncodeLedger write after the version byte (see Reader::Skip),
// for checking an encoding without decoding it.
constexpr std::string_view kAuditLayout = "QSBSSEESSBIS";
constexpr std::string_view kAccessLayout = "SSSEQI";
constexpr std::string_view kLedgerLayout = "QBSSSSEEQSSS";

absl::Status Malformed(std::string_view what, const Reader& r) {
  return absl::DataLossError(
      Cat("malformed ", what, " record near byte ", r.pos()));
}

}  // namespace

std::string_view DomainOf(fedhub::v1::Chain chain) {
  return chain == fedhub::v1::CHAIN_LEDGER ? kLedgerDomain : kAuditDomain;
}

const crypto::Digest& GenesisHash() {
  static const crypto::Digest kZero{};
  return kZero;
}

crypto::Digest EntryHash(std::string_view domain, const crypto::Digest& prev_hash,
                         uint64_t sequence, std::string_view encoded) {
  // domain || 0x00 || prev_hash || u64be(sequence) as one piece: one hash update for the
  // prefix instead of four (a verifier's cost is mostly these calls on short records).
  char prefix[kLedgerDomain.size() + 1 + 32 + 8];
  const size_t d = std::min(domain.size(), kLedgerDomain.size());
  std::copy(domain.begin(), domain.begin() + d, prefix);
  prefix[d] = 0;
  std::copy(prev_hash.begin(), prev_hash.end(), prefix + d + 1);
  for (int i = 0; i < 8; ++i) prefix[d + 33 + i] = static_cast<char>(sequence >> (56 - 8 * i) & 0xff);
  return crypto::Sha256Parts({std::string_view(prefix, d + 41), encoded});
}

absl::Status CheckEncoding(fedhub::v1::Chain chain, std::string_view encoded) {
  const bool ledger = chain == fedhub::v1::CHAIN_LEDGER;
  const char* what = ledger ? "ledger" : "audit";
  Reader rd(encoded);
  uint32_t version;
  if (!rd.U8(&version)) return Malformed(what, rd);
  if (version != kEncodingVersion) return absl::DataLossError(Cat("unknown ", what, " encoding version ", version));
  if (!rd.Skip(ledger ? kLedgerLayout : kAuditLayout)) return Malformed(what, rd);
  if (!ledger && !rd.AtEnd()) {
    uint32_t n;
    if (!rd.U32(&n) || n == 0) return Malformed(what, rd);
    for (uint32_t i = 0; i < n; ++i) {
      if (!rd.Skip(kAccessLayout)) return Malformed(what, rd);
    }
  }
  if (!rd.AtEnd()) return absl::DataLossError(Cat(what, " record has trailing bytes"));
  return absl::OkStatus();
}

void SetEncodedAuditTime(std::string* encoded, int64_t micros) {
  uint64_t v = static_cast<uint64_t>(micros);
  for (int i = 0; i < 8; ++i) (*encoded)[1 + i] = static_cast<char>(v >> (56 - 8 * i));
}

namespace {

// Every field of `r` but its accesses.
void WriteAuditHead(Writer& w, const AuditRecord& r) {
  w.U8(kEncodingVersion);
  w.I64(ToMicros(r.time()));
  w.Str(r.actor_id());
  w.U8(static_cast<uint32_t>(r.actor_role()));
  w.Str(r.action());
  w.Str(r.subject());
  w.Enums(r.categories());
  w.Enums(r.purposes());
  w.Str(r.consent_id());
  w.Str(r.counterparty_id());
  w.U8(static_cast<uint32_t>(r.outcome()));
  w.U32(static_cast<uint32_t>(r.status_code()));
  w.Str(r.detail());
}

template <typename Categories>
void WriteAccess(Writer& w, std::string_view subject, std::string_view consent_id, std::string_view source,
                 const Categories& categories, uint64_t first_offset, uint32_t events) {
  w.Str(subject);
  w.Str(consent_id);
  w.Str(source);
  w.Enums(categories);
  w.U64(first_offset);
  w.U32(events);
}

}  // namespace

std::string EncodeAudit(const AuditRecord& r) {
  Writer w;
  WriteAuditHead(w, r);
  // Deliveries list what they covered; other records end after the detail.
  if (r.accesses_size() > 0) {
    w.U32(static_cast<uint32_t>(r.accesses_size()));
    for (const auto& a : r.accesses()) {
      WriteAccess(w, a.subject(), a.consent_id(), a.source_platform_id(), a.categories(), a.first_offset(),
                  a.events());
    }
  }
  return w.Take();
}

AuditAccessEncoder::AuditAccessEncoder(const AuditRecord& head, uint32_t accesses, size_t bytes_per_access)
    : remaining_(accesses) {
  Writer w(&out_);
  w.Reserve(128 + head.detail().size() + size_t{accesses} * bytes_per_access);
  WriteAuditHead(w, head);
  if (accesses > 0) w.U32(accesses);
}

void AuditAccessEncoder::Add(std::string_view subject, std::string_view consent_id, std::string_view source,
                             uint32_t category_bits, uint64_t first_offset, uint32_t events) {
  std::array<int, 32> categories;
  size_t n = 0;
  for (uint32_t bits = category_bits; bits != 0; bits &= bits - 1) categories[n++] = __builtin_ctz(bits);
  Writer w(&out_);
  WriteAccess(w, subject, consent_id, source, std::span<const int>(categories.data(), n), first_offset, events);
  --remaining_;
}

std::string AuditAccessEncoder::Take() && {
  assert(remaining_ == 0);
  return std::move(out_);
}

absl::StatusOr<AuditRecord> DecodeAudit(std::string_view encoded) {
  Reader rd(encoded);
  AuditRecord r;
  uint32_t version, role, outcome, code;
  int64_t micros;
  if (!rd.U8(&version)) return Malformed("audit", rd);
  if (version != kEncodingVersion) {
    return absl::DataLossError(Cat("unknown audit encoding version ", version));
  }
  bool ok = rd.I64(&micros) && rd.Str(r.mutable_actor_id()) && rd.U8(&role) &&
            rd.Str(r.mutable_action()) && rd.Str(r.mutable_subject()) &&
            rd.Enums([&](int v) { r.add_categories(static_cast<fedhub::v1::DataCategory>(v)); }) &&
            rd.Enums([&](int v) { r.add_purposes(static_cast<fedhub::v1::Purpose>(v)); }) &&
            rd.Str(r.mutable_consent_id()) && rd.Str(r.mutable_counterparty_id()) &&
            rd.U8(&outcome) && rd.U32(&code) && rd.Str(r.mutable_detail());
  if (!ok) return Malformed("audit", rd);
  if (!rd.AtEnd()) {
    uint32_t n;
    if (!rd.U32(&n) || n == 0) return Malformed("audit", rd);
    for (uint32_t i = 0; i < n; ++i) {
      auto* a = r.add_accesses();
      uint64_t first;
      uint32_t events;
      if (!(rd.Str(a->mutable_subject()) && rd.Str(a->mutable_consent_id()) &&
            rd.Str(a->mutable_source_platform_id()) &&
            rd.Enums([&](int v) { a->add_categories(static_cast<fedhub::v1::DataCategory>(v)); }) &&
            rd.U64(&first) && rd.U32(&events))) {
        return Malformed("audit", rd);
      }
      a->set_first_offset(first);
      a->set_events(events);
    }
    if (!rd.AtEnd()) return absl::DataLossError("audit record has trailing bytes");
  }
  *r.mutable_time() = FromMicros(micros);
  r.set_actor_role(static_cast<fedhub::v1::Role>(role));
  r.set_outcome(static_cast<fedhub::v1::AuditOutcome>(outcome));
  r.set_status_code(static_cast<int32_t>(code));
  return r;
}

std::string EncodeLedger(const LedgerRecord& r) {
  Writer w;
  w.U8(kEncodingVersion);
  w.I64(ToMicros(r.time()));
  w.U8(static_cast<uint32_t>(r.action()));
  w.Str(r.consent_id());
  w.Str(r.subject());
  w.Str(r.source_platform_id());
  w.Str(r.target_platform_id());
  w.Enums(r.categories());
  w.Enums(r.purposes());
  w.I64(ToMicros(r.expires_at()));
  w.Str(r.evidence_method());
  w.Str(r.evidence_reference());
  w.Str(r.actor_platform_id());
  return w.Take();
}

absl::StatusOr<LedgerRecord> DecodeLedger(std::string_view encoded) {
  Reader rd(encoded);
  LedgerRecord r;
  uint32_t version, action;
  int64_t micros, expires;
  if (!rd.U8(&version)) return Malformed("ledger", rd);
  if (version != kEncodingVersion) {
    return absl::DataLossError(Cat("unknown ledger encoding version ", version));
  }
  bool ok = rd.I64(&micros) && rd.U8(&action) && rd.Str(r.mutable_consent_id()) &&
            rd.Str(r.mutable_subject()) && rd.Str(r.mutable_source_platform_id()) &&
            rd.Str(r.mutable_target_platform_id()) &&
            rd.Enums([&](int v) { r.add_categories(static_cast<fedhub::v1::DataCategory>(v)); }) &&
            rd.Enums([&](int v) { r.add_purposes(static_cast<fedhub::v1::Purpose>(v)); }) &&
            rd.I64(&expires) && rd.Str(r.mutable_evidence_method()) &&
            rd.Str(r.mutable_evidence_reference()) && rd.Str(r.mutable_actor_platform_id());
  if (!ok) return Malformed("ledger", rd);
  if (!rd.AtEnd()) return absl::DataLossError("ledger record has trailing bytes");
  *r.mutable_time() = FromMicros(micros);
  *r.mutable_expires_at() = FromMicros(expires);
  r.set_action(static_cast<fedhub::v1::LedgerAction>(action));
  return r;
}

std::string PackStored(const crypto::Digest& prev, const crypto::Digest& hash,
                       std::string_view encoded) {
  std::string out;
  out.reserve(64 + encoded.size());
  out.append(crypto::AsView(prev));
  out.append(crypto::AsView(hash));
  out.append(encoded);
  return out;
}

absl::StatusOr<StoredEntry> UnpackStored(std::string_view packed) {
  if (packed.size() < 64) {
    return absl::DataLossError(
        Cat("stored chain entry is ", packed.size(), " bytes, shorter than 64"));
  }
  StoredEntry e;
  std::copy(packed.begin(), packed.begin() + 32, e.prev_hash.begin());
  std::copy(packed.begin() + 32, packed.begin() + 64, e.entry_hash.begin());
  e.encoded = packed.substr(64);
  return e;
}

ChainVerifier::ChainVerifier(fedhub::v1::Chain chain)
    : chain_(chain), domain_(DomainOf(chain)), prev_(GenesisHash()) {}

void ChainVerifier::StartAt(uint64_t next_sequence, const crypto::Digest& prev_hash) {
  next_ = next_sequence;
  prev_ = prev_hash;
}

absl::Status ChainVerifier::Add(const fedhub::v1::ChainEntry& e) {
  return Add(e.sequence(), e.prev_hash(), e.entry_hash(), e.encoded());
}

absl::Status ChainVerifier::Add(uint64_t sequence, std::string_view prev_hash,
                                std::string_view entry_hash, std::string_view encoded) {
  const char* name = chain_ == fedhub::v1::CHAIN_LEDGER ? "ledger" : "audit";
  auto fail = [&](std::string_view what) {
    return absl::DataLossError(Cat(name, " entry ", sequence, ": ", what));
  };
  if (sequence != next_) {
    return fail(Cat("expected sequence ", next_,
                             " (an entry is missing, duplicated or out of order)"));
  }
  if (prev_hash != crypto::AsView(prev_)) {
    return fail("prev_hash does not match the hash of the entry before it");
  }
  crypto::Digest computed = EntryHash(domain_, prev_, sequence, encoded);
  if (entry_hash != crypto::AsView(computed)) {
    return fail(Cat("content does not match its hash (stored ",
                             crypto::HexEncode(entry_hash).substr(0, 16), "…, computed ",
                             crypto::HexEncode(crypto::AsView(computed)).substr(0, 16), "…)"));
  }
  // The layout is checked without building the record: it is not needed here.
  if (absl::Status s = CheckEncoding(chain_, encoded); !s.ok()) return fail(ToStd(s.message()));
  prev_ = computed;
  ++next_;
  ++checked_;
  return absl::OkStatus();
}

}  // namespace fedhub::chain
