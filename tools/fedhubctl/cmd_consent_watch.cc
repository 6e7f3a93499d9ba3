// fedhubctl consent watch: streams consent changes that involve the caller until Ctrl-C
// (SIGINT) or SIGTERM, reconnecting from the last change seen.
#include <cstdint>
#include <stop_token>

#include "command.h"
#include "consent_io.h"
#include "interrupt.h"
#include "names.h"

namespace fedhubctl {
namespace {

int RunWatch(Context& ctx, const ParsedArgs& args) {
  fedhub::FollowConsentsOptions options;
  if (args.Has("after") && args.Has("from-now")) {
    return ctx.Usage("give --after or --from-now, not both");
  }
  if (args.Has("after")) {
    auto after = ParseInt(args.Get("after"), 0, INT64_MAX);
    if (!after) return ctx.Usage("--after must be a ledger sequence number, 0 or more");
    options.after_sequence = static_cast<uint64_t>(*after);
  }
  options.from_now = args.Has("from-now");
  long long limit = 0;
  if (args.Has("count")) {
    auto n = ParseInt(args.Get("count"), 1, INT64_MAX);
    if (!n) return ctx.Usage("-n must be 1 or more");
    limit = *n;
  }

  auto client = ctx.Connect();
  if (!client.ok()) return Fail(client.status());

  std::stop_source stop;
  auto interrupt = StopOnInterrupt::Start([&stop] { stop.request_stop(); });
  if (!interrupt.ok()) return Fail(interrupt.status());

  long long seen = 0;
  absl::Status status = client->FollowConsents(
      options,
      [&](const fedhub::v1::WatchConsentsResponse& change) {
        ctx.out().Result(change, std::to_string(change.sequence()) + "  " + Name(change.kind()) +
                                     "  " + ConsentLine(change.consent()));
        return limit == 0 || ++seen < limit;
      },
      stop.get_token());

  interrupt->reset();  // Ctrl-C and SIGTERM act as before the command again
  if (!status.ok()) return Fail(status);
  return kExitOk;
}

}  // namespace

std::vector<Command> ConsentWatchCommands() {
  return {{{"consent watch",
            {},
            "Stream consent changes that involve you until Ctrl-C, one line each.",
            {{"after", 0, "N", "replay changes after ledger sequence N (default 0: all)"},
             {"from-now", 0, "", "start at the current end of the ledger"},
             {"count", 'n', "N", "stop after N changes"}},
            "Each line starts with the change's ledger sequence: pass the last one seen as\n"
            "--after to resume without gaps or repeats."},
           RunWatch}};
}

}  // namespace fedhubctl
