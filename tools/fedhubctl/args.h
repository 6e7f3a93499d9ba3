// Command-line parsing for fedhubctl: each command declares its positionals and flags in a
// CommandSpec; Parse checks an argument list against it and renders the usage text.
//
// Rules: "--name value", "--name=value" and declared one-letter short forms ("-n 5");
// flags and positionals may be mixed; "--" ends the flags (for a value that starts with
// '-', such as a link ticket). A single-dash word that is no declared short flag is a
// positional. The global flags are accepted by every command.
#ifndef FEDHUB_TOOLS_FEDHUBCTL_ARGS_H_
#define FEDHUB_TOOLS_FEDHUBCTL_ARGS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fedhubctl {

struct FlagSpec {
  std::string name;        // without the leading "--"
  char short_name = 0;     // e.g. 'n' for "-n"; 0 for none
  std::string value_name;  // empty for a boolean flag
  std::string help;
  bool repeated = false;  // may be given more than once
  bool required = false;  // Parse fails without it
};

struct CommandSpec {
  std::string path;                      // "consent grant"
  std::vector<std::string> positionals;  // names of the required positionals, in order
  std::string summary;                   // one line
  std::vector<FlagSpec> flags;
  std::string details = {};  // extra paragraphs for --help, may be empty
};

// The flags every command accepts.
const std::vector<FlagSpec>& GlobalFlags();

class ParsedArgs {
 public:
  const std::vector<std::string>& positionals() const { return positionals_; }
  const std::string& positional(size_t i) const { return positionals_.at(i); }
  bool Has(const std::string& flag) const { return values_.count(flag) != 0; }
  // The last value given, or `fallback`.
  std::string Get(const std::string& flag, const std::string& fallback = "") const;
  // Every value given, each split at commas, empty parts dropped.
  std::vector<std::string> GetList(const std::string& flag) const;
  bool help() const { return help_; }

 private:
  friend struct Parser;
  std::vector<std::string> positionals_;
  std::map<std::string, std::vector<std::string>> values_;
  bool help_ = false;
};

struct ParseResult {
  ParsedArgs args;
  std::string error;  // non-empty: a usage error, described
};

ParseResult Parse(const CommandSpec& spec, const std::vector<std::string>& argv);

// "usage: fedhubctl consent grant LOCAL_ID [flags]" with the flag table and details.
std::string Usage(const CommandSpec& spec);
// The global flags table, for the top-level usage.
std::string GlobalFlagsUsage();

// Parses a decimal integer in [min, max]; nullopt if it is not one.
std::optional<long long> ParseInt(const std::string& text, long long min, long long max);

}  // namespace fedhubctl

#endif  // FEDHUB_TOOLS_FEDHUBCTL_ARGS_H_
