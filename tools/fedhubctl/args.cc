#include "args.h"

#include <algorithm>
#include <charconv>

namespace fedhubctl {

const std::vector<FlagSpec>& GlobalFlags() {
  static const auto* kFlags = new std::vector<FlagSpec>{
      {"endpoint", 0, "HOST:PORT", "the hub (default $FEDHUB_ENDPOINT, else localhost:7443)"},
      {"certs", 0, "DIR", "certificate directory (default $FEDHUB_CERTS, else .fedhub/certs)"},
      {"as", 0, "ID",
       "principal to act as: uses DIR/ID.crt, DIR/ID.key and DIR/ca.crt "
       "(default $FEDHUB_AS, else operator)"},
      {"json", 0, "", "print one JSON object per result line"},
      {"timeout", 0, "MS", "deadline of each call in milliseconds (default 5000)"},
      {"help", 'h', "", "show help"},
  };
  return *kFlags;
}

std::string ParsedArgs::Get(const std::string& flag, const std::string& fallback) const {
  auto it = values_.find(flag);
  return it == values_.end() || it->second.empty() ? fallback : it->second.back();
}

std::vector<std::string> ParsedArgs::GetList(const std::string& flag) const {
  std::vector<std::string> out;
  auto it = values_.find(flag);
  if (it == values_.end()) return out;
  for (const std::string& value : it->second) {
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      if (comma > start) out.push_back(value.substr(start, comma - start));
      start = comma + 1;
    }
  }
  return out;
}

struct Parser {
  const CommandSpec& spec;
  ParseResult result;

  const FlagSpec* FindLong(const std::string& name) const {
    for (const auto* list : {&spec.flags, &GlobalFlags()}) {
      for (const FlagSpec& f : *list) {
        if (f.name == name) return &f;
      }
    }
    return nullptr;
  }
  const FlagSpec* FindShort(char c) const {
    for (const auto* list : {&spec.flags, &GlobalFlags()}) {
      for (const FlagSpec& f : *list) {
        if (f.short_name != 0 && f.short_name == c) return &f;
      }
    }
    return nullptr;
  }

  bool Fail(std::string message) {
    result.error = std::move(message);
    return false;
  }

  // Records one flag; `inline_value` is the part after '=' if there was one.
  bool Take(const FlagSpec& flag, const std::string& shown,
            const std::optional<std::string>& inline_value, const std::vector<std::string>& argv,
            size_t* i) {
    if (flag.name == "help") {
      result.args.help_ = true;
      return true;
    }
    std::string value;
    if (flag.value_name.empty()) {
      if (inline_value) return Fail(shown + " takes no value");
    } else if (inline_value) {
      value = *inline_value;
    } else {
      if (*i + 1 >= argv.size()) return Fail(shown + " needs a value (" + flag.value_name + ")");
      value = argv[++*i];
    }
    auto& values = result.args.values_[flag.name];
    if (!values.empty() && !flag.repeated && !flag.value_name.empty()) {
      return Fail(shown + " was given twice");
    }
    values.push_back(value);
    return true;
  }

  bool Run(const std::vector<std::string>& argv) {
    bool flags_done = false;
    for (size_t i = 0; i < argv.size(); ++i) {
      const std::string& arg = argv[i];
      if (flags_done || arg.size() < 2 || arg[0] != '-') {
        result.args.positionals_.push_back(arg);
        continue;
      }
      if (arg == "--") {
        flags_done = true;
        continue;
      }
      if (arg[1] == '-') {
        std::string name = arg.substr(2);
        std::optional<std::string> inline_value;
        if (size_t eq = name.find('='); eq != std::string::npos) {
          inline_value = name.substr(eq + 1);
          name = name.substr(0, eq);
        }
        const FlagSpec* flag = FindLong(name);
        if (flag == nullptr) return Fail("unknown flag --" + name);
        if (!Take(*flag, "--" + name, inline_value, argv, &i)) return false;
        continue;
      }
      const FlagSpec* flag = arg.size() == 2 ? FindShort(arg[1]) : nullptr;
      if (flag == nullptr) {
        result.args.positionals_.push_back(arg);  // e.g. a negative number or a ticket
        continue;
      }
      if (!Take(*flag, arg, std::nullopt, argv, &i)) return false;
    }
    if (result.args.help_) return true;
    const size_t want = spec.positionals.size();
    const size_t got = result.args.positionals_.size();
    if (got < want) return Fail("missing " + spec.positionals[got]);
    if (got > want) return Fail("unexpected argument \"" + result.args.positionals_[want] + "\"");
    for (const FlagSpec& f : spec.flags) {
      if (f.required && !result.args.Has(f.name)) return Fail("--" + f.name + " is required");
    }
    return true;
  }
};

ParseResult Parse(const CommandSpec& spec, const std::vector<std::string>& argv) {
  Parser parser{spec, {}};
  parser.Run(argv);
  return std::move(parser.result);
}

namespace {

std::string FlagTable(const std::vector<FlagSpec>& flags) {
  std::vector<std::pair<std::string, std::string>> rows;
  size_t width = 0;
  for (const FlagSpec& f : flags) {
    std::string left = "  ";
    left += f.short_name != 0 ? std::string("-") + f.short_name + ", " : "";
    left += "--" + f.name;
    if (!f.value_name.empty()) left += " " + f.value_name;
    width = std::max(width, left.size());
    std::string help = f.help;
    if (f.required) help += " (required)";
    if (f.repeated) help += " (repeatable)";
    rows.emplace_back(left, help);
  }
  std::string out;
  for (auto& [left, help] : rows) {
    out += left + std::string(width + 2 - left.size(), ' ') + help + "\n";
  }
  return out;
}

}  // namespace

std::string Usage(const CommandSpec& spec) {
  std::string out = "usage: fedhubctl " + spec.path;
  for (const std::string& p : spec.positionals) out += " " + p;
  for (const FlagSpec& f : spec.flags) {
    const std::string flag = "--" + f.name + (f.value_name.empty() ? "" : " " + f.value_name);
    out += f.required ? " " + flag : " [" + flag + "]";
    if (f.repeated) out += "...";
  }
  out += "\n\n" + spec.summary + "\n";
  if (!spec.details.empty()) out += "\n" + spec.details + "\n";
  if (!spec.flags.empty()) out += "\nflags:\n" + FlagTable(spec.flags);
  out += "\nglobal flags:\n" + FlagTable(GlobalFlags());
  return out;
}

std::string GlobalFlagsUsage() { return FlagTable(GlobalFlags()); }

std::optional<long long> ParseInt(const std::string& text, long long min, long long max) {
  long long value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

}  // namespace fedhubctl
