// fedhubctl link ...: joining two platforms' accounts of one person with a one-time
// ticket (role platform).
#include "command.h"

namespace fedhubctl {
namespace {

int RunTicket(Context& ctx, const ParsedArgs& args) {
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  auto ticket = client->CreateLinkTicket(args.positional(0));
  if (!ticket.ok()) return Fail(ticket.status());
  ctx.out().Result(*ticket, "ticket   " + ticket->ticket() + "\nexpires  " +
                                FormatTime(ticket->expires_at()) +
                                "\nSingle use. The person takes it to the other platform, "
                                "which runs: fedhubctl link redeem -- TICKET ITS_LOCAL_ID");
  return kExitOk;
}

int RunRedeem(Context& ctx, const ParsedArgs& args) {
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  auto linked = client->RedeemLinkTicket(args.positional(0), args.positional(1));
  if (!linked.ok()) return Fail(linked.status());
  ctx.out().Result(*linked, "linked " + args.positional(1) + " with the same person's account at " +
                                linked->linked_platform_id());
  return kExitOk;
}

int RunRemove(Context& ctx, const ParsedArgs& args) {
  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());
  auto done = client->UnlinkAccount(args.positional(0));
  if (!done.ok()) return Fail(done.status());
  ctx.out().Result(
      JsonObject().Str("local_user_id", args.positional(0)).Bool("unlinked", true),
      "unlinked " + args.positional(0) + " (consents already recorded stay as they are)");
  return kExitOk;
}

}  // namespace

std::vector<Command> LinkCommands() {
  return {
      {{"link ticket",
        {"LOCAL_ID"},
        "Issue a short-lived, single-use link ticket for one of your users.",
        {},
        "Run as a platform (--as PLATFORM). Treat the ticket as a secret."},
       RunTicket},
      {{"link redeem",
        {"TICKET", "LOCAL_ID"},
        "Redeem another platform's ticket, linking your user LOCAL_ID to the same person.",
        {},
        "A ticket may start with '-': put `--` before it, as in\n"
        "  fedhubctl --as store link redeem -- TICKET u-991"},
       RunRedeem},
      {{"link remove",
        {"LOCAL_ID"},
        "Remove your user's link to the person (consents already recorded stay).",
        {}},
       RunRemove},
  };
}

}  // namespace fedhubctl
