// The pieces every fedhubctl command uses: the global options, a connection to the hub as
// the chosen principal, and the table of commands each command group contributes.
#ifndef FEDHUB_TOOLS_FEDHUBCTL_COMMAND_H_
#define FEDHUB_TOOLS_FEDHUBCTL_COMMAND_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "args.h"
#include "fedhub/client.h"
#include "output.h"

namespace fedhubctl {

struct GlobalOptions {
  std::string endpoint;
  std::string certs;
  std::string as;
  bool json = false;
  int timeout_ms = 5000;
};

class Context {
 public:
  Context(GlobalOptions options, const CommandSpec& spec)
      : options_(std::move(options)), out_(options_.json), spec_(spec) {}

  const GlobalOptions& options() const { return options_; }
  const Output& out() const { return out_; }

  // A client for --as over --endpoint. NOT_FOUND naming the files when the principal has
  // no certificate in --certs.
  absl::StatusOr<fedhub::Client> Connect() const;

  // Prints `message` and this command's usage; returns kExitUsage.
  int Usage(const std::string& message) const;

 private:
  GlobalOptions options_;
  Output out_;
  const CommandSpec& spec_;
};

// Runs one command; returns the process exit code.
using Handler = std::function<int(Context&, const ParsedArgs&)>;

struct Command {
  CommandSpec spec;
  Handler run;
};

// Each group's commands (one file per group).
std::vector<Command> DevCertsCommands();
std::vector<Command> InfoCommands();
std::vector<Command> PlatformCommands();
std::vector<Command> LinkCommands();
std::vector<Command> ConsentCommands();
std::vector<Command> ReceiptCommands();
std::vector<Command> AuditCommands();
std::vector<Command> AuditProofCommands();
std::vector<Command> ReportCommands();
std::vector<Command> StreamCommands();
std::vector<Command> CatalogueCommands();

// Resolves the global options from the parsed flags and the environment; "" or a usage
// message.
std::string ResolveGlobalOptions(const ParsedArgs& args, GlobalOptions* out);

// Reads a whole file; NOT_FOUND / PERMISSION_DENIED / INTERNAL naming it.
absl::StatusOr<std::string> ReadFile(const std::string& path);
// Writes a file through a temporary in the same directory and a rename.
absl::Status WriteFile(const std::string& path, const std::string& content);

}  // namespace fedhubctl

#endif  // FEDHUB_TOOLS_FEDHUBCTL_COMMAND_H_
