// Pseudonyms derived from the hub secret, so the same person gets stable names that
// cannot be joined across platforms (DESIGN §2) or traced back from the audit log.
//
//   pairwise(platform, subject) = base64url(HMAC-SHA256(secret, "pairwise\0" platform "\0" subject))
//   audit(subject)              = hex(HMAC-SHA256(secret, "audit\0" subject))[0:32]
//
// Immutable after construction; thread-safe.
#ifndef FEDHUB_HUB_IDENTITY_PSEUDONYMS_H_
#define FEDHUB_HUB_IDENTITY_PSEUDONYMS_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "storage/store.h"

namespace fedhub {

class Pseudonymizer {
 public:
  // Reads the hub's pseudonym secret from the store, creating it on first start.
  static absl::StatusOr<std::unique_ptr<Pseudonymizer>> Open(storage::Store* store);
  explicit Pseudonymizer(std::string secret) : secret_(std::move(secret)) {}

  std::string Pairwise(std::string_view platform_id, std::string_view subject) const;
  std::string Audit(std::string_view subject) const;

 private:
  std::string secret_;
};

}  // namespace fedhub

#endif  // FEDHUB_HUB_IDENTITY_PSEUDONYMS_H_
