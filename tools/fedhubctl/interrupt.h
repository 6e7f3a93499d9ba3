// Ctrl-C (SIGINT) and SIGTERM for the commands that run until interrupted (consent watch,
// stream tail). A signal handler may do next to nothing, so the handler only writes a byte
// to a pipe (the self-pipe trick); a thread of its own reads it and asks the command to stop.
#ifndef FEDHUB_TOOLS_FEDHUBCTL_INTERRUPT_H_
#define FEDHUB_TOOLS_FEDHUBCTL_INTERRUPT_H_

#include <signal.h>

#include <functional>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"

namespace fedhubctl {

// While one exists, the first SIGINT or SIGTERM calls `on_stop` once, on the object's own
// thread; later signals do nothing more. Destroying it ends that thread (without calling
// `on_stop` if no signal came) and restores the handling the two signals had before.
// At most one per process at a time.
class StopOnInterrupt {
 public:
  // Installs the handlers. INTERNAL if the pipe cannot be created.
  static absl::StatusOr<std::unique_ptr<StopOnInterrupt>> Start(std::function<void()> on_stop);
  ~StopOnInterrupt();
  StopOnInterrupt(const StopOnInterrupt&) = delete;
  StopOnInterrupt& operator=(const StopOnInterrupt&) = delete;

 private:
  StopOnInterrupt(int read_fd, int write_fd) : read_fd_(read_fd), write_fd_(write_fd) {}

  const int read_fd_;
  const int write_fd_;
  struct sigaction previous_int_ = {};
  struct sigaction previous_term_ = {};
  std::thread waiter_;
};

}  // namespace fedhubctl

#endif  // FEDHUB_TOOLS_FEDHUBCTL_INTERRUPT_H_
