// Child processes for the end-to-end tests: run a command to completion capturing its
// output, or keep fedhubd running and know when it listens by reading its stdout.
#ifndef FEDHUB_TESTS_E2E_PROCESS_H_
#define FEDHUB_TESTS_E2E_PROCESS_H_

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace fedhub::e2e {

// A new directory under the system temp dir, named `prefix`-XXXXXX; empty if it could not be
// made. The test removes it.
std::filesystem::path MakeScratchDir(const std::string& prefix);

// The whole file ("" if it cannot be read).
std::string ReadFile(const std::filesystem::path& path);

// The non-empty lines of `text`.
std::vector<std::string> Lines(const std::string& text);

// `s` without trailing newlines and spaces.
std::string Trim(std::string s);

struct RunResult {
  int exit_code = -1;  // -1 if it did not exit normally (signal, or the guard timeout)
  std::string out;
  std::string err;
  std::string Describe() const;  // for failure messages
};

// Runs argv[0] with argv, an environment without FEDHUB_* variables, and no stdin. Gives up
// and kills it after `guard_ms` (a guard against a hang, never a synchronisation).
RunResult RunProcess(const std::vector<std::string>& argv, int guard_ms = 30000);

// A long-running child whose stdout is a pipe we read line by line; stderr goes to a file.
class Daemon {
 public:
  Daemon() = default;
  ~Daemon() { Kill(); }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Starts it and reads stdout until a line containing `ready_marker`. Returns "" once that
  // line was read, else what went wrong (it exited, with its stderr; or the guard expired).
  std::string Start(const std::vector<std::string>& argv, const std::string& stderr_file,
                    const std::string& ready_marker, int guard_ms = 30000);

  // Sends `signal` and reaps the process; returns its wait status description. Sends
  // SIGKILL if it has not exited within `guard_ms`.
  std::string Stop(int signal, int guard_ms = 20000);
  void Kill() { Stop(9, 20000); }
  bool running() const { return pid_ > 0; }
  const std::string& ready_line() const { return ready_line_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string ready_line_;
};

}  // namespace fedhub::e2e

#endif  // FEDHUB_TESTS_E2E_PROCESS_H_
