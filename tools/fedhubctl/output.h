// What fedhubctl prints: human text by default, or with --json one JSON object per result
// line (protobuf's JSON mapping for hub messages, a small object for the tool's own
// results). Errors go to stderr as "fedhubctl: <CODE_NAME>: <message>".
#ifndef FEDHUB_TOOLS_FEDHUBCTL_OUTPUT_H_
#define FEDHUB_TOOLS_FEDHUBCTL_OUTPUT_H_

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace fedhubctl {

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;  // the hub or the file system refused
inline constexpr int kExitFailed = 2;   // a check was refused or a verification failed
inline constexpr int kExitUsage = 64;   // bad command line (EX_USAGE)

// A JSON object built field by field, for results that are not one hub message.
class JsonObject {
 public:
  JsonObject& Str(const std::string& key, const std::string& value);
  JsonObject& Int(const std::string& key, int64_t value);
  JsonObject& Uint(const std::string& key, uint64_t value);
  JsonObject& Bool(const std::string& key, bool value);
  JsonObject& Strs(const std::string& key, const std::vector<std::string>& values);
  // `json` must already be valid JSON (e.g. a message from MessageJson).
  JsonObject& Raw(const std::string& key, const std::string& json);
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void Key(const std::string& key);
  std::string body_;
};

std::string JsonQuote(const std::string& s);

// A message in protobuf's JSON mapping: original proto field names, enums by name,
// unset scalars omitted. One line unless `pretty`.
std::string MessageJson(const google::protobuf::Message& message, bool pretty = false);

// Lowercase hex of raw bytes (hashes).
std::string Hex(const std::string& bytes);

// RFC 3339 in UTC, or "-" for an unset timestamp.
std::string FormatTime(const google::protobuf::Timestamp& t);

// Prints results in the mode chosen by --json.
class Output {
 public:
  explicit Output(bool json) : json_(json) {}
  bool json() const { return json_; }
  // A text line (text mode only; ignored with --json).
  void Text(const std::string& line) const;
  // A result: `message` as one JSON line with --json, else the text.
  void Result(const google::protobuf::Message& message, const std::string& text) const;
  // A result that is the tool's own object.
  void Result(const JsonObject& object, const std::string& text) const;

 private:
  bool json_;
};

// Prints "fedhubctl: <CODE_NAME>: <message>" to stderr; returns kExitRefused.
int Fail(const absl::Status& status);
// Prints "fedhubctl: <message>" and the usage to stderr; returns kExitUsage.
int UsageError(const std::string& message, const std::string& usage);

}  // namespace fedhubctl

#endif  // FEDHUB_TOOLS_FEDHUBCTL_OUTPUT_H_
