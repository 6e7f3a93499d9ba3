// fedhubctl platform ...: the hub's registry of principals (role admin).
#include <algorithm>

#include "command.h"
#include "names.h"

namespace fedhubctl {
namespace {

using fedhub::v1::Principal;

std::string Details(const Principal& p) {
  std::string out = "id          " + p.id() + "\nrole        " + Name(p.role()) + "\nname        " +
                    (p.display_name().empty() ? "-" : p.display_name()) + "\nstatus      " +
                    Name(p.status());
  if (!p.status_reason().empty()) out += " (" + p.status_reason() + ")";
  if (!p.bound_platform_id().empty()) out += "\nbound to    " + p.bound_platform_id();
  out += "\nregistered  " + FormatTime(p.registered_at());
  return out;
}

std::string Pad(const std::string& s, size_t width) {
  return s + std::string(width > s.size() ? width - s.size() : 0, ' ');
}

int RunRegister(Context& ctx, const ParsedArgs& args) {
  Principal p;
  p.set_id(args.positional(0));
  std::vector<fedhub::v1::Role> role;
  if (auto e = ParseNames(std::vector<std::string>{args.Get("role")}, "role", &role); !e.empty()) {
    return ctx.Usage(e);
  }
  p.set_role(role[0]);
  p.set_display_name(args.Get("name"));
  p.set_bound_platform_id(args.Get("bound-platform"));
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  auto stored = client->RegisterPrincipal(p);
  if (!stored.ok()) return Fail(stored.status());
  ctx.out().Result(
      *stored, "registered " + Name(stored->role()) + " " + stored->id() + "\n" + Details(*stored));
  return kExitOk;
}

int RunStatusChange(Context& ctx, const ParsedArgs& args, bool suspend) {
  if (args.Get("reason").empty()) return ctx.Usage("--reason must not be empty (it is audited)");
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  auto p = suspend ? client->SuspendPrincipal(args.positional(0), args.Get("reason"))
                   : client->ReinstatePrincipal(args.positional(0), args.Get("reason"));
  if (!p.ok()) return Fail(p.status());
  ctx.out().Result(
      *p, std::string(suspend ? "suspended " : "reinstated ") + p->id() + "\n" + Details(*p));
  return kExitOk;
}

int RunGet(Context& ctx, const ParsedArgs& args) {
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  auto p = client->GetPrincipal(args.positional(0));
  if (!p.ok()) return Fail(p.status());
  ctx.out().Result(*p, Details(*p));
  return kExitOk;
}

int RunList(Context& ctx, const ParsedArgs& args) {
  std::vector<fedhub::v1::Role> role;
  if (args.Has("role")) {
    if (auto e = ParseNames(std::vector<std::string>{args.Get("role")}, "role", &role);
        !e.empty()) {
      return ctx.Usage(e);
    }
  }
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  auto all = client->ListAllPrincipals(role.empty() ? fedhub::v1::ROLE_UNSPECIFIED : role[0]);
  if (!all.ok()) return Fail(all.status());
  size_t id_width = 2, role_width = 4;
  for (const Principal& p : *all) {
    id_width = std::max(id_width, p.id().size());
    role_width = std::max(role_width, Name(p.role()).size());
  }
  ctx.out().Text(Pad("ID", id_width) + "  " + Pad("ROLE", role_width) + "  " + Pad("STATUS", 9) +
                 "  " + Pad("REGISTERED", 20) + "  NAME");
  for (const Principal& p : *all) {
    std::string name = p.display_name();
    if (!p.bound_platform_id().empty()) name += " (for " + p.bound_platform_id() + ")";
    ctx.out().Result(p, Pad(p.id(), id_width) + "  " + Pad(Name(p.role()), role_width) + "  " +
                            Pad(Name(p.status()), 9) + "  " +
                            Pad(FormatTime(p.registered_at()), 20) + "  " + name);
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> PlatformCommands() {
  const std::string roles = JoinedShortNames(fedhub::v1::Role_descriptor());
  return {
      {{"platform register",
        {"ID"},
        "Register a principal: a member platform, a recommendation team, an auditor or an "
        "operator.",
        {{"role", 0, "ROLE", "one of: " + roles, false, true},
         {"name", 0, "NAME", "human-readable name, e.g. \"Acme Courses\""},
         {"bound-platform", 0, "ID", "for a recommender: the platform whose users it serves"}},
        "ID is 1 to 64 characters of [a-z0-9-], starting with a letter; it must match the\n"
        "id in the principal's certificate (spiffe://fedhub/<role>/<id>)."},
       RunRegister},
      {{"platform suspend",
        {"ID"},
        "Suspend a principal: its calls are refused until it is reinstated.",
        {{"reason", 0, "TEXT", "why; kept in the registry and the audit log", false, true}}},
       [](Context& c, const ParsedArgs& a) { return RunStatusChange(c, a, true); }},
      {{"platform reinstate",
        {"ID"},
        "Lift a principal's suspension.",
        {{"reason", 0, "TEXT", "why; kept in the registry and the audit log", false, true}}},
       [](Context& c, const ParsedArgs& a) { return RunStatusChange(c, a, false); }},
      {{"platform get", {"ID"}, "Show one registered principal.", {}}, RunGet},
      {{"platform list",
        {},
        "List registered principals in id order.",
        {{"role", 0, "ROLE", "only this role: " + roles}}},
       RunList},
  };
}

}  // namespace fedhubctl
