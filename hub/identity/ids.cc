#include "identity/ids.h"

#include "core/crypto.h"
#include "core/strings.h"

namespace fedhub::ids {

absl::Status ValidatePrincipalId(std::string_view id, std::string_view field) {
  if (id.empty()) return absl::InvalidArgumentError(Cat(field, " is required"));
  if (id.size() > 64) {
    return absl::InvalidArgumentError(
        Cat(field, " is ", id.size(), " characters long; at most 64 are allowed"));
  }
  if (!(id[0] >= 'a' && id[0] <= 'z')) {
    return absl::InvalidArgumentError(
        Cat(field, " \"", id, "\" must start with a lowercase letter"));
  }
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return absl::InvalidArgumentError(Cat(field, " \"", id,
                                            "\" may contain only a-z, 0-9 and '-'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateLocalUserId(std::string_view id, std::string_view field) {
  if (id.empty()) return absl::InvalidArgumentError(Cat(field, " is required"));
  if (id.size() > 128) {
    return absl::InvalidArgumentError(
        Cat(field, " is ", id.size(), " bytes long; at most 128 are allowed"));
  }
  for (size_t i = 0; i < id.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(id[i]);
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(
          Cat(field, " has a space, control or non-ASCII byte at offset ", i,
              "; use printable ASCII without spaces"));
    }
  }
  return absl::OkStatus();
}

std::string NewSubjectId() { return crypto::RandomBytes(16); }

std::string NewConsentId() { return "c-" + crypto::HexEncode(crypto::RandomBytes(16)); }

bool LooksLikeConsentId(std::string_view id) {
  if (id.size() != 34 || id.substr(0, 2) != "c-") return false;
  for (char c : id.substr(2)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace fedhub::ids
