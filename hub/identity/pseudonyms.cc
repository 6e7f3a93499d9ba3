#include "identity/pseudonyms.h"

#include "core/crypto.h"

namespace fedhub {
namespace {
constexpr std::string_view kSecretKey = "secret/pseudonym";
}

absl::StatusOr<std::unique_ptr<Pseudonymizer>> Pseudonymizer::Open(storage::Store* store) {
  std::string secret;
  absl::Status s = store->Commit([&](storage::Txn& txn) -> absl::Status {
    auto existing = txn.Get(storage::Cf::kMeta, kSecretKey);
    if (!existing.ok()) return existing.status();
    if (*existing) {
      secret = **existing;
    } else {
      secret = crypto::RandomBytes(32);
      txn.Put(storage::Cf::kMeta, kSecretKey, secret);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return std::make_unique<Pseudonymizer>(std::move(secret));
}

std::string Pseudonymizer::Pairwise(std::string_view platform_id, std::string_view subject) const {
  std::string msg("pairwise");
  msg.push_back('\0');
  msg.append(platform_id);
  msg.push_back('\0');
  msg.append(subject);
  return crypto::Base64UrlEncode(crypto::AsView(crypto::HmacSha256(secret_, msg)));
}

std::string Pseudonymizer::Audit(std::string_view subject) const {
  std::string msg("audit");
  msg.push_back('\0');
  msg.append(subject);
  return crypto::HexEncode(crypto::AsView(crypto::HmacSha256(secret_, msg))).substr(0, 32);
}

}  // namespace fedhub
