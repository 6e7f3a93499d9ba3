// The byte encoding of consent-ledger and audit-log entries, and the chain hash over it.
// This is the format an outside verifier implements; docs/chain-format.md describes it
// byte by byte and must change together with this file.
//
// Entry hash:
//   SHA-256( domain_tag || 0x00 || prev_hash[32] || u64be(sequence) || encoded )
// with domain_tag "fedhub.audit.v1" or "fedhub.ledger.v1". The first entry's prev_hash
// is 32 zero bytes.
#ifndef FEDHUB_SDK_CORE_CHAIN_CODEC_H_
#define FEDHUB_SDK_CORE_CHAIN_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/crypto.h"
#include "fedhub/v1/audit.pb.h"

namespace fedhub::chain {

inline constexpr std::string_view kAuditDomain = "fedhub.audit.v1";
inline constexpr std::string_view kLedgerDomain = "fedhub.ledger.v1";
inline constexpr uint8_t kEncodingVersion = 1;

std::string_view DomainOf(fedhub::v1::Chain chain);

// The all-zero hash that precedes the first entry.
const crypto::Digest& GenesisHash();

crypto::Digest EntryHash(std::string_view domain, const crypto::Digest& prev_hash,
                         uint64_t sequence, std::string_view encoded);

// Canonical encodings. Encoding is total; decoding rejects anything that is not exactly
// what Encode would produce (unknown version, truncation, trailing bytes).
std::string EncodeAudit(const fedhub::v1::AuditRecord& record);
// Encodes an audit record that lists many accesses (a delivery) without building an
// AuditAccess per access: std::move(encoder).Take() is exactly EncodeAudit of `head` with
// the accesses added, in order. `head` has no accesses; exactly `accesses` are added.
class AuditAccessEncoder {
 public:
  AuditAccessEncoder(const fedhub::v1::AuditRecord& head, uint32_t accesses, size_t bytes_per_access = 0);
  // One access; `category_bits` has bit c set for DataCategory c (listed in ascending order).
  void Add(std::string_view subject, std::string_view consent_id, std::string_view source,
           uint32_t category_bits, uint64_t first_offset, uint32_t events);
  std::string Take() &&;

 private:
  std::string out_;
  uint32_t remaining_;
};

// Sets the time of an encoded audit record (it sits at a fixed place, after the version),
// so a record can be encoded before the time it is committed at is known.
void SetEncodedAuditTime(std::string* encoded, int64_t micros);
absl::StatusOr<fedhub::v1::AuditRecord> DecodeAudit(std::string_view encoded);
// OK exactly when the matching Decode would succeed, with the same message otherwise;
// reads the layout without building a record.
absl::Status CheckEncoding(fedhub::v1::Chain chain, std::string_view encoded);
std::string EncodeLedger(const fedhub::v1::LedgerRecord& record);
absl::StatusOr<fedhub::v1::LedgerRecord> DecodeLedger(std::string_view encoded);

// Stored form of an entry in the hub's RocksDB: prev_hash[32] || entry_hash[32] || encoded.
std::string PackStored(const crypto::Digest& prev, const crypto::Digest& hash,
                       std::string_view encoded);
struct StoredEntry {
  crypto::Digest prev_hash;
  crypto::Digest entry_hash;
  std::string_view encoded;  // points into the packed value
};
absl::StatusOr<StoredEntry> UnpackStored(std::string_view packed);

// Checks a chain entry by entry. Feed entries in order, starting at sequence 1 (or at
// any sequence after calling StartAt with the trusted hash before it).
class ChainVerifier {
 public:
  explicit ChainVerifier(fedhub::v1::Chain chain);
  void StartAt(uint64_t next_sequence, const crypto::Digest& prev_hash);

  // OK, or DATA_LOSS naming the sequence and what is wrong with it.
  absl::Status Add(const fedhub::v1::ChainEntry& entry);
  absl::Status Add(uint64_t sequence, std::string_view prev_hash, std::string_view entry_hash,
                   std::string_view encoded);

  uint64_t entries_checked() const { return checked_; }
  uint64_t next_sequence() const { return next_; }
  const crypto::Digest& head_hash() const { return prev_; }

 private:
  fedhub::v1::Chain chain_;
  std::string_view domain_;
  uint64_t next_ = 1;
  uint64_t checked_ = 0;
  crypto::Digest prev_;
};

}  // namespace fedhub::chain

#endif  // FEDHUB_SDK_CORE_CHAIN_CODEC_H_
