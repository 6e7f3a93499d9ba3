// fedhubctl dev-certs: a development CA and certificates for the hub and its principals.
#include <filesystem>

#include "command.h"
#include "devcerts/devcerts.h"

namespace fedhubctl {
namespace {

constexpr char kDefaultAdmin[] = "operator";
constexpr char kDefaultAuditor[] = "auditor";
// Where fedhubd reads its TLS files by default.
constexpr char kHubDefaultCertsDir[] = ".fedhub/certs";

int RunDevCerts(Context& ctx, const ParsedArgs& args) {
  fedhub::devcerts::DevCertsOptions options;
  // Where the other commands look for certificates, unless told otherwise.
  options.out_dir = args.Get("out", ctx.options().certs);
  options.overwrite = args.Has("force");
  options.hub_hosts = args.GetList("host");
  if (args.Has("days")) {
    auto days = ParseInt(args.Get("days"), 1, 36500);
    if (!days) return ctx.Usage("--days must be a whole number of days, 1 to 36500");
    options.valid_days = static_cast<int>(*days);
  }

  auto add = [&](const std::string& role, const std::string& id) -> std::string {
    if (!fedhub::devcerts::IsValidId(id)) {
      return "bad " + role + " id \"" + id +
             "\": use 1 to 64 lowercase letters, digits or "
             "'-', starting with a letter (the hub's rule for principal ids)";
    }
    if (id == "ca" || id == "hub") {
      return "\"" + id + "\" names the CA's or the hub's own files; pick another id";
    }
    for (const auto& p : options.principals) {
      if (p.id == id && p.role == role) return "";
      if (p.id == id) return "id \"" + id + "\" is given as both " + p.role + " and " + role;
    }
    options.principals.push_back({role, id});
    return "";
  };
  std::string error = add("admin", kDefaultAdmin);
  if (error.empty()) error = add("auditor", kDefaultAuditor);
  for (const char* role : {"platform", "recommender", "auditor", "admin"}) {
    for (const std::string& id : args.GetList(role)) {
      if (error.empty()) error = add(role, id);
    }
  }
  if (!error.empty()) return ctx.Usage(error);

  // Without --force existing files are kept; say which ones were made now.
  namespace fs = std::filesystem;
  const fs::path dir(options.out_dir);
  struct Entry {
    std::string role, id;
    bool existed;
  };
  std::error_code ec;
  std::vector<Entry> entries;
  entries.push_back({"ca", "ca", fs::exists(dir / "ca.crt", ec)});
  entries.push_back({"hub", "hub", fs::exists(dir / "hub.crt", ec)});
  for (const auto& p : options.principals) {
    entries.push_back({p.role, p.id, fs::exists(dir / (p.id + ".crt"), ec)});
  }

  if (absl::Status s = fedhub::devcerts::GenerateDevCerts(options); !s.ok()) return Fail(s);

  for (const Entry& e : entries) {
    const bool kept = e.existed && !options.overwrite;
    const std::string cert = (dir / (e.id + ".crt")).string();
    const std::string key = (dir / (e.id + ".key")).string();
    std::string text = (kept ? "kept   " : "wrote  ") + e.role +
                       std::string(e.role.size() < 12 ? 12 - e.role.size() : 1, ' ') + cert + "  " +
                       key;
    if (e.role != "ca" && e.role != "hub") text += "  (--as " + e.id + ")";
    ctx.out().Result(JsonObject()
                         .Str("role", e.role)
                         .Str("id", e.id)
                         .Str("cert", cert)
                         .Str("key", key)
                         .Bool("written", !kept),
                     text);
  }
  std::string note = "Development certificates only: the CA key is in " + options.out_dir + ".";
  if (dir.lexically_normal() != fs::path(kHubDefaultCertsDir)) {
    // fedhubd looks in .fedhub/certs unless told otherwise.
    note += " Start the hub with --tls-cert " + (dir / "hub.crt").string() + " --tls-key " +
            (dir / "hub.key").string() + " --tls-ca " + (dir / "ca.crt").string() + ".";
  }
  ctx.out().Text(note);
  return kExitOk;
}

}  // namespace

std::vector<Command> DevCertsCommands() {
  return {{{"dev-certs",
            {},
            "Write a development CA, the hub's certificate and one client certificate per "
            "principal.",
            {{"out", 0, "DIR", "where to write (default: the --certs directory)"},
             {"platform", 0, "ID", "a member platform", true},
             {"recommender", 0, "ID", "a recommendation team", true},
             {"auditor", 0, "ID", "an auditor (\"auditor\" is always included)", true},
             {"admin", 0, "ID", "an operator (\"operator\" is always included)", true},
             {"host", 0, "NAME", "extra DNS name or IP address for the hub's certificate", true},
             {"days", 0, "N", "validity in days (default 90)"},
             {"force", 0, "", "make everything afresh, the CA included"}},
            "Without --force an existing CA is reused and existing certificates are kept, so\n"
            "running it again only adds the principals that are new. Each principal's\n"
            "certificate names it as spiffe://fedhub/<role>/<id>; the hub still has to\n"
            "register it (fedhubctl platform register) unless it is a bootstrap admin."},
           RunDevCerts}};
}

}  // namespace fedhubctl
