// A member platform's small local state file: one record per line, fields separated by tabs,
// replaced as a whole and atomically (write a temporary file, fsync it, rename it over the
// old one, fsync the directory). After a crash a reader finds the old content or the new,
// never a mix, which is what lets a platform store a stream cursor together with the data
// it applied up to that cursor.
//
// Fields are escaped (backslash, tab, newline, carriage return), so any string round-trips.
// Lines starting with '#' are comments.
#ifndef FEDHUB_EXAMPLES_COMMON_STATE_FILE_H_
#define FEDHUB_EXAMPLES_COMMON_STATE_FILE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace fedhub_examples {

// One line: its fields, unescaped.
using StateRecord = std::vector<std::string>;

// Replaces `path` with `records`, preceded by `comment` (one '#' line; may be empty).
// Returns INTERNAL naming the file and the system error when a step fails; the old file is
// then untouched.
absl::Status WriteStateFile(const std::string& path, const std::string& comment,
                            const std::vector<StateRecord>& records);

// The records of `path`, comments skipped. NOT_FOUND if the file does not exist; DATA_LOSS
// naming the line for a malformed escape.
absl::StatusOr<std::vector<StateRecord>> ReadStateFile(const std::string& path);

// Lowercase hex, for binary fields (serialized protobuf messages).
std::string ToHex(std::string_view bytes);
// INVALID_ARGUMENT if `hex` has odd length or a character that is not a hex digit.
absl::StatusOr<std::string> FromHex(std::string_view hex);

}  // namespace fedhub_examples

#endif  // FEDHUB_EXAMPLES_COMMON_STATE_FILE_H_
