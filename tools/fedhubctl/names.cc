#include "names.h"

#include <algorithm>
#include <cctype>

namespace fedhubctl {
namespace {

constexpr char kUnspecified[] = "UNSPECIFIED";

// "DATA_CATEGORY_" for DataCategory: what the zero value's name has before UNSPECIFIED.
std::string PrefixOf(const google::protobuf::EnumDescriptor* e) {
  const auto* zero = e->FindValueByNumber(0);
  if (zero == nullptr) return "";
  const std::string& name = zero->name();
  const size_t n = sizeof(kUnspecified) - 1;
  if (name.size() >= n && name.compare(name.size() - n, n, kUnspecified) == 0) {
    return name.substr(0, name.size() - n);
  }
  return "";
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return c == '-' ? '_' : static_cast<char>(std::toupper(c));
  });
  return s;
}

std::string Short(const google::protobuf::EnumValueDescriptor* v, const std::string& prefix) {
  const std::string& name = v->name();
  if (!prefix.empty() && name.compare(0, prefix.size(), prefix) == 0) {
    return Lower(name.substr(prefix.size()));
  }
  return Lower(name);
}

}  // namespace

std::vector<std::string> ShortNames(const google::protobuf::EnumDescriptor* e) {
  std::vector<std::string> out;
  const std::string prefix = PrefixOf(e);
  for (int i = 0; i < e->value_count(); ++i) {
    if (e->value(i)->number() == 0) continue;
    out.push_back(Short(e->value(i), prefix));
  }
  return out;
}

std::string ShortName(const google::protobuf::EnumDescriptor* e, int number) {
  const auto* v = e->FindValueByNumber(number);
  if (v == nullptr) return std::to_string(number);
  return Short(v, PrefixOf(e));
}

int ParseShortName(const google::protobuf::EnumDescriptor* e, const std::string& name) {
  const std::string upper = Upper(name);
  const std::string prefix = PrefixOf(e);
  const auto* v = e->FindValueByName(prefix + upper);
  if (v == nullptr) v = e->FindValueByName(upper);
  if (v == nullptr || v->number() == 0) return -1;
  return v->number();
}

std::string JoinedShortNames(const google::protobuf::EnumDescriptor* e) {
  std::string out;
  for (const std::string& n : ShortNames(e)) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace fedhubctl
