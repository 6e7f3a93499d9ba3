// Key encodings of every column family. Integers are big-endian so that byte order is
// numeric order; strings that are followed by more key parts end with a 0x00 byte (ids
// are validated to contain none).
//
//   registry          <principal id>                          -> PrincipalRecord
//   links             'p' <platform id> 0x00 <local user id>  -> subject (16 bytes)
//                     's' <subject 16> <platform id>          -> local user id
//   subjects          <subject 16>                            -> SubjectRecord
//   tickets           SHA-256(ticket) (32)                     -> TicketRecord
//   consents          <consent id>                             -> ConsentRecord
//   subject_consents  <subject 16> <consent id>                -> "" (index)
//   ledger, audit     u64be(sequence)                          -> prev[32] hash[32] encoded
//   events            u64be(offset)                            -> StoredEvent
//   event_ids         <publisher> 0x00 <event id>              -> EventIdRecord
//   catalogue         'i' <publisher> 0x00 <item id>           -> CatalogueEntryRecord
//                     'p' <publisher>                          -> SharingPolicyRecord
//   erasures          <notice id> 0x00 <platform id>           -> ErasureAckRecord
//   default (meta)    "head/audit", "head/ledger"              -> u64be(size) hash[32]
//                     "secret/pseudonym"                       -> 32 random bytes (HMAC key)
//                     "events/extent"                          -> u64be(first offset retained)
//                                                                 u64be(last offset) u64be(bytes)
#ifndef FEDHUB_HUB_STORAGE_KEYS_H_
#define FEDHUB_HUB_STORAGE_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fedhub::storage {

inline void AppendU64BE(std::string* out, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out->push_back(static_cast<char>(v >> s & 0xff));
}

inline std::optional<uint64_t> ReadU64BE(std::string_view in) {
  if (in.size() < 8) return std::nullopt;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<unsigned char>(in[i]);
  return v;
}

inline std::string U64Key(uint64_t v) {
  std::string k;
  AppendU64BE(&k, v);
  return k;
}

inline std::string LinkKey(std::string_view platform, std::string_view local_id) {
  std::string k;
  k.reserve(2 + platform.size() + local_id.size());
  k.push_back('p');
  k.append(platform);
  k.push_back('\0');
  k.append(local_id);
  return k;
}

inline std::string ReverseLinkKey(std::string_view subject, std::string_view platform) {
  std::string k;
  k.push_back('s');
  k.append(subject);
  k.append(platform);
  return k;
}

inline std::string ReverseLinkPrefix(std::string_view subject) {
  std::string k;
  k.push_back('s');
  k.append(subject);
  return k;
}

inline std::string SubjectConsentKey(std::string_view subject, std::string_view consent_id) {
  std::string k(subject);
  k.append(consent_id);
  return k;
}

// Two strings joined by a 0x00 byte (the first never contains one).
inline std::string PairKey(std::string_view a, std::string_view b) {
  std::string k;
  k.reserve(a.size() + 1 + b.size());
  k.append(a);
  k.push_back('\0');
  k.append(b);
  return k;
}

inline std::string EventIdKey(std::string_view publisher, std::string_view event_id) {
  return PairKey(publisher, event_id);
}

inline std::string CatalogueItemPrefix(std::string_view publisher = {}) {
  std::string k("i");
  k.append(publisher);
  if (!publisher.empty()) k.push_back('\0');
  return k;
}

inline std::string CatalogueItemKey(std::string_view publisher, std::string_view item_id) {
  return CatalogueItemPrefix(publisher) + std::string(item_id);
}

inline std::string SharingPolicyKey(std::string_view publisher) {
  std::string k("p");
  k.append(publisher);
  return k;
}

inline std::string ErasureAckKey(std::string_view notice_id, std::string_view platform) {
  return PairKey(notice_id, platform);
}

// The audit tree's perfect subtree of 2^level leaves starting at leaf index << level.
inline std::string MerkleNodeKey(uint8_t level, uint64_t index) {
  std::string k(1, static_cast<char>(level));
  k.append(U64Key(index));
  return k;
}

// Signed tree heads: "n" || u64be(number) -> SignedTreeHead; "s" || u64be(tree size) ->
// u64be(number of the newest head of that size).
inline std::string TreeHeadKey(uint64_t number) {
  std::string k(1, 'n');
  AppendU64BE(&k, number);
  return k;
}
inline std::string TreeHeadBySizeKey(uint64_t size) {
  std::string k(1, 's');
  AppendU64BE(&k, size);
  return k;
}

inline constexpr std::string_view kEventsExtentKey = "events/extent";
// Leaves in the audit tree (u64be); equals the audit chain's size once the hub is open.
inline constexpr std::string_view kAuditTreeSizeKey = "tree/audit/size";
// Number of the newest signed tree head (u64be).
inline constexpr std::string_view kLastTreeHeadKey = "tree/audit/last_head";
inline constexpr std::string_view kAuditHeadKey = "head/audit";
inline constexpr std::string_view kLedgerHeadKey = "head/ledger";

}  // namespace fedhub::storage

#endif  // FEDHUB_HUB_STORAGE_KEYS_H_
