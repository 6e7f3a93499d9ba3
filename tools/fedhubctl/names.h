// Short lowercase names for the proto enums (categories, purposes, roles, chains, ...),
// derived from the descriptors: the value name without the prefix its UNSPECIFIED value
// carries, lowercased. DATA_CATEGORY_LEARNING is "learning", PURPOSE_SYNC is "sync",
// ROLE_ADMIN is "admin". A value added to the proto is accepted with no change here.
#ifndef FEDHUB_TOOLS_FEDHUBCTL_NAMES_H_
#define FEDHUB_TOOLS_FEDHUBCTL_NAMES_H_

#include <google/protobuf/descriptor.h>
#include <google/protobuf/generated_enum_reflection.h>

#include <string>
#include <vector>

namespace fedhubctl {

// Every short name except the UNSPECIFIED one, in declaration order.
std::vector<std::string> ShortNames(const google::protobuf::EnumDescriptor* e);
// The short name of `number`, or the number itself if the enum has no such value.
std::string ShortName(const google::protobuf::EnumDescriptor* e, int number);
// The value named `name` (short or full, any case, '-' or '_'); -1 if none or UNSPECIFIED.
int ParseShortName(const google::protobuf::EnumDescriptor* e, const std::string& name);
// "profile, contact, learning, ..." for messages.
std::string JoinedShortNames(const google::protobuf::EnumDescriptor* e);

template <typename Enum>
std::string Name(Enum value) {
  return ShortName(google::protobuf::GetEnumDescriptor<Enum>(), static_cast<int>(value));
}

template <typename Enum, typename Repeated>
std::string Names(const Repeated& values) {
  std::string out;
  for (int v : values) {
    out += (out.empty() ? "" : ",") + ShortName(google::protobuf::GetEnumDescriptor<Enum>(), v);
  }
  return out.empty() ? "-" : out;
}

// Parses each of `names` into `out`; on failure returns a usage message naming the bad
// one and the accepted names, else "".
template <typename Enum>
std::string ParseNames(const std::vector<std::string>& names, const std::string& what,
                       std::vector<Enum>* out) {
  const auto* e = google::protobuf::GetEnumDescriptor<Enum>();
  for (const std::string& n : names) {
    int v = ParseShortName(e, n);
    if (v < 0) return "unknown " + what + " \"" + n + "\"; use one of: " + JoinedShortNames(e);
    out->push_back(static_cast<Enum>(v));
  }
  return "";
}

}  // namespace fedhubctl

#endif  // FEDHUB_TOOLS_FEDHUBCTL_NAMES_H_
