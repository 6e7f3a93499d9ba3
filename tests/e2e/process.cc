#include "process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace fedhub::e2e {

std::filesystem::path MakeScratchDir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) return {};
  return pattern;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
namespace {

using Clock = std::chrono::steady_clock;

// argv and envp for execve, built before fork so the child only calls exec.
struct ExecArgs {
  std::vector<std::string> env_storage;
  std::vector<char*> argv, envp;

  explicit ExecArgs(const std::vector<std::string>& args) {
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::strncmp(*e, "FEDHUB_", 7) != 0) env_storage.emplace_back(*e);
    }
    for (std::string& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
  }
};

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

std::string StatusText(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// Waits for `pid` to exit, up to `guard_ms`; true and its status if it did.
bool WaitFor(pid_t pid, int guard_ms, int* status) {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    int n;
    while ((n = poll(&p, 1, guard_ms)) < 0 && errno == EINTR) {
    }
    close(pidfd);
    if (n == 0) return false;
  }
  while (waitpid(pid, status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Starts `exec` with stdin from /dev/null and stdout/stderr on the given descriptors.
pid_t Spawn(const ExecArgs& exec, int out_fd, int err_fd) {
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execve(exec.argv[0], exec.argv.data(), exec.envp.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

std::string RunResult::Describe() const {
  return "exit code " + std::to_string(exit_code) + "\n--- stdout ---\n" + out +
         "--- stderr ---\n" + err;
}

RunResult RunProcess(const std::vector<std::string>& args, int guard_ms) {
  RunResult result;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.err = "pipe failed";
    return result;
  }
  ExecArgs exec(args);
  pid_t pid = Spawn(exec, out_pipe[1], err_pipe[1]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  const auto deadline = Clock::now() + std::chrono::milliseconds(guard_ms);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  bool timed_out = false;
  while (open_fds > 0) {
    int n = poll(fds, 2, RemainingMs(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      timed_out = true;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) close(p.fd);
  }
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    result.err += "\n[killed after " + std::to_string(guard_ms) + " ms guard]";
  } else if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  }
  return result;
}

std::string Daemon::Start(const std::vector<std::string>& args, const std::string& stderr_file,
                          const std::string& ready_marker, int guard_ms) {
  if (running()) return "already running";
  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return "pipe failed";
  int err_fd = open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (err_fd < 0) return "cannot open " + stderr_file;
  ExecArgs exec(args);
  pid_t pid = Spawn(exec, out_pipe[1], err_fd);
  close(out_pipe[1]);
  close(err_fd);
  pid_ = pid;
  stdout_fd_ = out_pipe[0];

  const auto deadline = Clock::now() + std::chrono::milliseconds(guard_ms);
  std::string buffer;
  while (true) {
    size_t newline;
    while ((newline = buffer.find('\n')) != std::string::npos) {
      std::string line = buffer.substr(0, newline);
      buffer.erase(0, newline + 1);
      if (line.find(ready_marker) != std::string::npos) {
        ready_line_ = line;
        return "";
      }
    }
    pollfd p{stdout_fd_, POLLIN, 0};
    int n = poll(&p, 1, RemainingMs(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      std::string why =
          "no \"" + ready_marker + "\" line within " + std::to_string(guard_ms) + " ms";
      Kill();
      return why + "; stderr:\n" + ReadWhole(stderr_file);
    }
    char buf[4096];
    ssize_t got = read(stdout_fd_, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      std::string how = Stop(SIGKILL);
      return "exited before listening (" + how + "); stdout:\n" + buffer + "\nstderr:\n" +
             ReadWhole(stderr_file);
    }
    buffer.append(buf, static_cast<size_t>(got));
  }
}

std::string Daemon::Stop(int signal, int guard_ms) {
  if (pid_ <= 0) return "not running";
  kill(pid_, signal);
  int status = 0;
  if (!WaitFor(pid_, guard_ms, &status)) {
    kill(pid_, SIGKILL);
    WaitFor(pid_, guard_ms, &status);
  }
  pid_ = -1;
  // Closed only now: a stopping fedhubd still writes its shutdown lines to the pipe.
  if (stdout_fd_ >= 0) close(stdout_fd_);
  stdout_fd_ = -1;
  return StatusText(status);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace fedhub::e2e
