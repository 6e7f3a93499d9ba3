#include "interrupt.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace fedhubctl {
namespace {

// What the waiter reads: a signal came, or the StopOnInterrupt is being destroyed.
constexpr char kSignalled = 1;
constexpr char kDone = 0;

// The pipe's write end, for the handler.
int g_signal_pipe_write = -1;

extern "C" void OnStopSignal(int) {
  const int saved = errno;
  [[maybe_unused]] ssize_t n = write(g_signal_pipe_write, &kSignalled, 1);
  errno = saved;
}

}  // namespace

absl::StatusOr<std::unique_ptr<StopOnInterrupt>> StopOnInterrupt::Start(
    std::function<void()> on_stop) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError("cannot create a pipe for signal handling");
  }
  std::unique_ptr<StopOnInterrupt> s(new StopOnInterrupt(fds[0], fds[1]));
  g_signal_pipe_write = fds[1];
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &s->previous_int_);
  sigaction(SIGTERM, &action, &s->previous_term_);
  s->waiter_ = std::thread([read_fd = fds[0], on_stop = std::move(on_stop)] {
    char byte = kDone;
    while (read(read_fd, &byte, 1) < 0 && errno == EINTR) {
    }
    if (byte == kSignalled) on_stop();
  });
  return s;
}

StopOnInterrupt::~StopOnInterrupt() {
  // Wake the waiter if no signal came, then restore the previous handling.
  [[maybe_unused]] ssize_t n = write(write_fd_, &kDone, 1);
  waiter_.join();
  sigaction(SIGINT, &previous_int_, nullptr);
  sigaction(SIGTERM, &previous_term_, nullptr);
  g_signal_pipe_write = -1;
  close(read_fd_);
  close(write_fd_);
}

}  // namespace fedhubctl
