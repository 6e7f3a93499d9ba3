// fedhubctl consent watch: streams consent changes that involve the caller until Ctrl-C
// (SIGINT) or SIGTERM, reconnecting from the last change seen.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <stop_token>
#include <thread>

#include "command.h"
#include "consent_io.h"
#include "names.h"

namespace fedhubctl {
namespace {

// Self-pipe: the signal handler only writes a byte; a thread turns it into a stop request.
int g_signal_pipe[2] = {-1, -1};

extern "C" void OnStopSignal(int) {
  const int saved = errno;
  const char byte = 1;
  [[maybe_unused]] ssize_t n = write(g_signal_pipe[1], &byte, 1);
  errno = saved;
}

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

  if (pipe2(g_signal_pipe, O_CLOEXEC) != 0) {
    return Fail(absl::InternalError("cannot create a pipe for signal handling"));
  }
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  std::stop_source stop;
  std::thread waiter([&stop] {
    char byte;
    while (read(g_signal_pipe[0], &byte, 1) < 0 && errno == EINTR) {
    }
    stop.request_stop();
  });

  long long seen = 0;
  absl::Status status = client->FollowConsents(
      options,
      [&](const fedhub::v1::WatchConsentsResponse& change) {
        ctx.out().Result(change, std::to_string(change.sequence()) + "  " + Name(change.kind()) +
                                     "  " + ConsentLine(change.consent()));
        return limit == 0 || ++seen < limit;
      },
      stop.get_token());

  // Wake the waiter if no signal came, then restore the default handling.
  OnStopSignal(0);
  waiter.join();
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  close(g_signal_pipe[0]);
  close(g_signal_pipe[1]);
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
