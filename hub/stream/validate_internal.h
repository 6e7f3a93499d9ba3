// Internal to the stream validation rules: the helpers that validate.cc (events, profile
// changes) and catalogue_rules.cc (catalogue items, removals, tags, languages, sharing
// policies, filters, matching) share. Not part of the hub's interface: use validate.h.
#ifndef FEDHUB_HUB_STREAM_VALIDATE_INTERNAL_H_
#define FEDHUB_HUB_STREAM_VALIDATE_INTERNAL_H_

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "core/strings.h"

// Returns the status of `expr` from the enclosing function unless it is OK.
#define RETURN_IF_INVALID(expr)                         \
  do {                                                  \
    if (absl::Status status_ = (expr); !status_.ok()) { \
      return status_;                                   \
    }                                                   \
  } while (false)

namespace fedhub::stream::validate_internal {

inline constexpr size_t kMaxIdBytes = 128;
inline constexpr int64_t kMaxPriceMinor = 1'000'000'000'000;
inline constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();

inline absl::Status Invalid(const std::string& message) {
  return absl::InvalidArgumentError(message);
}

inline std::string Indexed(std::string_view path, int index) {
  return Cat(path, "[", index, "]");
}

// Runs `check(i, path)` on elements 0..n-1 of the list at `base`, first with an empty path:
// a path is built only to name a bad element, so valid input (the common case) pays for
// none. `check` must give the same verdict whatever the path.
template <typename Check>
absl::Status CheckEach(int n, std::string_view base, const Check& check) {
  for (int i = 0; i < n; ++i) {
    if (!check(i, std::string()).ok()) return check(i, Indexed(base, i));
  }
  return absl::OkStatus();
}

inline bool IsAsciiLower(char c) { return c >= 'a' && c <= 'z'; }
inline bool IsAsciiUpper(char c) { return c >= 'A' && c <= 'Z'; }
inline bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsAsciiAlnum(char c) { return IsAsciiLower(c) || IsAsciiUpper(c) || IsAsciiDigit(c); }
inline char AsciiLower(char c) { return IsAsciiUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }
inline char AsciiUpper(char c) { return IsAsciiLower(c) ? static_cast<char>(c - 'a' + 'A') : c; }

// A value for a message: quoted, non-printable bytes escaped, cut after 64 bytes. Only for
// values that are not personal data (catalogue values, currency codes).
std::string Quote(std::string_view value);

// A string of at most `max` bytes.
absl::Status CheckMaxBytes(std::string_view value, std::string_view path, size_t max);

// A required string: 1 to `max` bytes.
absl::Status CheckRequiredBytes(std::string_view value, std::string_view path, size_t max);

// An entry of a repeated string: 1 to `max` bytes.
absl::Status CheckEntryBytes(std::string_view value, std::string_view path, size_t max);

// A repeated field of at most `max` entries.
absl::Status CheckCount(int count, std::string_view path, size_t max);

// 1 to 128 printable ASCII characters, no spaces: event and catalogue item ids.
absl::Status CheckPrintableId(std::string_view id, std::string_view path);

// `value` is a value `type` defines; 0 (the _UNSPECIFIED value) only if `allow_unspecified`.
absl::Status CheckEnum(int value, const google::protobuf::EnumDescriptor* type,
                       std::string_view path, bool allow_unspecified);

// A required, active ISO 4217 code.
absl::Status CheckCurrency(std::string_view code, std::string_view path);

// Refuses fields the hub's contract does not define (sent by a newer publisher): the hub
// would store and forward them without being able to filter them by category.
absl::Status CheckOwnUnknownFields(const google::protobuf::Message& message,
                                   std::string_view path);

struct GenericLimits {
  size_t max_repeated = kNoLimit;
  // For strings without a limit of their own (those whose limit the contract states).
  size_t max_unlisted_string_bytes = kNoLimit;
};

// Rules every field of `message` and of its sub-messages obeys, whatever it means: no
// unknown fields, strings in UTF-8 and within limits, repeated fields within limits.
// With `bytes`, it also leaves there the message's deterministic wire bytes, which it
// checked (a caller that needs them anyway serialises once).
absl::Status CheckGenerically(const google::protobuf::Message& message, const std::string& path,
                              const GenericLimits& limits, std::string* bytes = nullptr);

// The slow pass of CheckGenerically: visits every field through reflection and names the
// first that breaks a rule.
absl::Status CheckGenericallyByReflection(const google::protobuf::Message& message, const std::string& path,
                                          const GenericLimits& limits);

// The fast pass of CheckGenerically, on the message's wire bytes (validate_wire.cc): true
// only if every generic rule certainly holds. False means "look closer", not "invalid".
// The message is serialised deterministically into `bytes` (a scratch string if null).
bool CertainlyPassesGenericChecks(const google::protobuf::Message& message, const GenericLimits& limits,
                                  std::string* bytes = nullptr);

// Offset of the first byte that does not begin a well-formed UTF-8 sequence (overlong forms,
// surrogates and code points above U+10FFFF are malformed), or npos if there is none.
size_t FirstInvalidUtf8(std::string_view s);

// Whether the contract states a limit of its own for string field `f` (checked by the
// rules of its message); other strings are bounded by GenericLimits::max_unlisted_string_bytes.
bool HasOwnStringLimit(const google::protobuf::FieldDescriptor* f);

}  // namespace fedhub::stream::validate_internal

#endif  // FEDHUB_HUB_STREAM_VALIDATE_INTERNAL_H_
