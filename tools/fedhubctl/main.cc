// fedhubctl: the operator's and auditor's command-line tool for a FedHub hub. See docs/cli.md.
#include <iostream>
#include <string>
#include <vector>

#include "args.h"
#include "command.h"
#include "output.h"

namespace fedhubctl {
namespace {

std::vector<Command> AllCommands() {
  std::vector<Command> all;
  for (auto group : {DevCertsCommands, InfoCommands, PlatformCommands, LinkCommands,
                     ConsentCommands, ReceiptCommands, AuditCommands, AuditProofCommands, ReportCommands, StreamCommands,
                     CatalogueCommands}) {
    for (Command& c : group()) all.push_back(std::move(c));
  }
  return all;
}

// Usage of every command whose path starts with `prefix` ("" for all).
std::string ListUsage(const std::vector<Command>& commands, const std::string& prefix) {
  std::string out = "usage: fedhubctl [global flags] " +
                    (prefix.empty() ? std::string("COMMAND") : prefix + " SUBCOMMAND") +
                    " [args] [flags]\n\ncommands:\n";
  size_t width = 0;
  for (const Command& c : commands) width = std::max(width, c.spec.path.size());
  for (const Command& c : commands) {
    if (!prefix.empty() && c.spec.path.rfind(prefix + " ", 0) != 0) continue;
    out += "  " + c.spec.path + std::string(width + 2 - c.spec.path.size(), ' ') + c.spec.summary +
           "\n";
  }
  out += "\nglobal flags:\n" + GlobalFlagsUsage();
  out +=
      "\n`fedhubctl COMMAND --help` describes a command. Exit codes: 0 ok, 1 refused by the "
      "hub or the file system, 2 a check was refused or a verification failed, 64 usage.\n";
  return out;
}

const FlagSpec* GlobalFlag(const std::string& token) {
  std::string name = token.rfind("--", 0) == 0 ? token.substr(2) : "";
  if (size_t eq = name.find('='); eq != std::string::npos) name = name.substr(0, eq);
  if (token == "-h") name = "help";
  for (const FlagSpec& f : GlobalFlags()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

int Main(int argc, char** argv) {
  const std::vector<Command> commands = AllCommands();
  std::vector<std::string> rest;  // everything but the command words
  std::vector<std::string> words;
  bool help = false;

  // The command words come first, after any global flags.
  int i = 1;
  for (; i < argc && words.size() < 2; ++i) {
    const std::string token = argv[i];
    if (token.size() > 1 && token[0] == '-') {
      const FlagSpec* f = GlobalFlag(token);
      if (f == nullptr) {
        if (!words.empty()) break;  // a flag of the command
        return UsageError("unknown flag " + token, ListUsage(commands, ""));
      }
      if (f->name == "help") help = true;
      rest.push_back(token);
      if (!f->value_name.empty() && token.find('=') == std::string::npos && i + 1 < argc) {
        rest.push_back(argv[++i]);
      }
      continue;
    }
    if (!words.empty()) {
      // A second word is part of the command only when the first names a group.
      bool is_group = false;
      for (const Command& c : commands) is_group |= c.spec.path == words[0] + " " + token;
      if (!is_group) break;
    }
    words.push_back(token);
    bool exact = false;
    for (const Command& c : commands) exact |= c.spec.path == words[0];
    if (words.size() == 1 && exact) {
      ++i;
      break;
    }
  }
  for (; i < argc; ++i) rest.emplace_back(argv[i]);

  if (words.empty()) {
    if (help) {
      std::cout << ListUsage(commands, "");
      return kExitOk;
    }
    return UsageError("no command given", ListUsage(commands, ""));
  }
  const std::string path = words.size() == 1 ? words[0] : words[0] + " " + words[1];
  const Command* command = nullptr;
  bool group = false;
  for (const Command& c : commands) {
    if (c.spec.path == path) command = &c;
    group |= c.spec.path.rfind(words[0] + " ", 0) == 0;
  }
  if (command == nullptr) {
    if (group && words.size() == 1) {
      // `fedhubctl consent` or `fedhubctl consent --help`.
      bool asked = help;
      for (const std::string& r : rest) asked |= r == "-h" || r == "--help";
      if (asked) {
        std::cout << ListUsage(commands, words[0]);
        return kExitOk;
      }
      std::string message = "missing subcommand of " + words[0];
      if (!rest.empty() && rest[0][0] != '-')
        message = "unknown command " + words[0] + " " + rest[0];
      return UsageError(message, ListUsage(commands, words[0]));
    }
    return UsageError("unknown command " + path, ListUsage(commands, ""));
  }

  ParseResult parsed = Parse(command->spec, rest);
  if (parsed.args.help()) {
    std::cout << Usage(command->spec);
    return kExitOk;
  }
  if (!parsed.error.empty()) return UsageError(parsed.error, Usage(command->spec));
  GlobalOptions options;
  if (std::string error = ResolveGlobalOptions(parsed.args, &options); !error.empty()) {
    return UsageError(error, Usage(command->spec));
  }
  Context context(options, command->spec);
  return command->run(context, parsed.args);
}

}  // namespace
}  // namespace fedhubctl

int main(int argc, char** argv) { return fedhubctl::Main(argc, argv); }
