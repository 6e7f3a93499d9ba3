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
//   default (meta)    "head/audit", "head/ledger"              -> u64be(size) hash[32]
//                     "secret/pseudonym"                       -> 32 random bytes (HMAC key)
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

inline constexpr std::string_view kAuditHeadKey = "head/audit";
inline constexpr std::string_view kLedgerHeadKey = "head/ledger";

}  // namespace fedhub::storage

#endif  // FEDHUB_HUB_STORAGE_KEYS_H_
