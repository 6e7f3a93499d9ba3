// fedhubctl info: the hub's version and receipt-signing key, and who the caller is.
#include "command.h"
#include "names.h"

namespace fedhubctl {
namespace {

int RunInfo(Context& ctx, const ParsedArgs&) {
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  auto info = client->GetHubInfo();
  if (!info.ok()) return Fail(info.status());
  std::string pem = info->signing_public_key_pem();
  if (!pem.empty() && pem.back() == '\n') pem.pop_back();
  ctx.out().Result(*info, "hub version     " + info->version() + "\nsigning key id  " +
                              info->signing_key_id() + "\nyou are         " + info->caller_id() +
                              " (" + Name(info->caller_role()) + ")\n" + pem);
  return kExitOk;
}

}  // namespace

std::vector<Command> InfoCommands() {
  return {{{"info",
            {},
            "Show the hub's version and receipt-signing key (id and PEM), and who you are.",
            {},
            "The PEM is what `fedhubctl receipt verify --hub-key FILE` takes to verify\n"
            "receipts offline; publish it out of band."},
           RunInfo}};
}

}  // namespace fedhubctl
