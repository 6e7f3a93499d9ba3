// String building that works with both std::string_view and absl::string_view.
//
// Debian 12's Abseil is built with ABSL_OPTION_USE_STD_STRING_VIEW=0, so absl::string_view
// is its own type and absl::StrCat does not accept std::string_view. Our code uses
// std::string_view throughout and builds messages with Cat().
#ifndef FEDHUB_SDK_CORE_STRINGS_H_
#define FEDHUB_SDK_CORE_STRINGS_H_

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/string_view.h"

namespace fedhub {

namespace strings_internal {
inline void AppendOne(std::string& out, std::string_view s) { out.append(s); }
inline void AppendOne(std::string& out, const char* s) { out.append(s); }
inline void AppendOne(std::string& out, const std::string& s) { out.append(s); }
inline void AppendOne(std::string& out, absl::string_view s) { out.append(s.data(), s.size()); }
inline void AppendOne(std::string& out, char c) { out.push_back(c); }
template <typename T>
  requires(std::is_arithmetic_v<T> && !std::is_same_v<T, char> && !std::is_same_v<T, bool>)
void AppendOne(std::string& out, T v) {
  out.append(std::to_string(v));
}
inline void AppendOne(std::string& out, bool b) { out.append(b ? "true" : "false"); }
}  // namespace strings_internal

template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (strings_internal::AppendOne(out, args), ...);
  return out;
}

inline absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace fedhub

#endif  // FEDHUB_SDK_CORE_STRINGS_H_
