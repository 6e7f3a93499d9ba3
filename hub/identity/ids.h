// Validation and generation of identifiers the hub accepts or issues.
#ifndef FEDHUB_HUB_IDENTITY_IDS_H_
#define FEDHUB_HUB_IDENTITY_IDS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace fedhub::ids {

// Principal ids: 1-64 chars of [a-z0-9-], starting with a letter.
absl::Status ValidatePrincipalId(std::string_view id, std::string_view field);
// Platform-local user ids: 1-128 printable ASCII characters, no spaces.
absl::Status ValidateLocalUserId(std::string_view id, std::string_view field);

// A new random 128-bit subject id (16 raw bytes). Never leaves the hub.
std::string NewSubjectId();
// A new consent id: "c-" + 32 hex digits.
std::string NewConsentId();
bool LooksLikeConsentId(std::string_view id);

}  // namespace fedhub::ids

#endif  // FEDHUB_HUB_IDENTITY_IDS_H_
