// Shared pieces of the FedHub benchmarks: flags and a flag reader, closed-loop load
// generation, latency statistics, temporary directories, and the printed table / JSON output.
#ifndef FEDHUB_BENCH_BENCH_SUPPORT_H_
#define FEDHUB_BENCH_BENCH_SUPPORT_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace fedhub::bench {

// Flags every benchmark program takes.
struct RunFlags {
  // Parent of the temporary directory (certificates, hub data, baseline database).
  std::string dir = "/tmp";
  // Keep the temporary directory.
  bool keep = false;
  // The one part to run (--only), empty for every part.
  std::string only;
  bool Runs(std::string_view part) const { return only.empty() || only == part; }
};

// The consent benchmark's flags.
struct Flags : RunFlags {
  // Length of each timed phase; a warm-up of a quarter of it (at most 0.5 s) precedes it.
  double seconds = 3.0;
  // People linked between the two platforms during setup.
  int people = 200;
  // Concurrent callers of the "many callers" grant phase (and baseline writers).
  int callers = 32;
  // Grant callers share one fedhub::Client (one channel, one HTTP/2 connection), or
  // each has its own Client (its own channel).
  bool client_per_caller = false;
  // Concurrent callers of the check throughput phase.
  int check_callers = 8;
  // Machine-readable output on stdout (the table then goes to stderr).
  bool json = false;
};

absl::StatusOr<Flags> ParseFlags(int argc, char** argv);
std::string Usage();

// Walks a command line of "--flag value" and "--flag=value" arguments, for the benchmarks'
// flag parsers:
//   FlagReader r(argc, argv);
//   while (r.Next()) { if (r.flag() == "--seconds") { auto v = r.Number(0.01, 3600); ... } }
class FlagReader {
 public:
  FlagReader(int argc, char** argv) : argc_(argc), argv_(argv) {}
  // Moves to the next flag; false once every argument was read.
  bool Next();
  // The current flag, without its "=value".
  const std::string& flag() const { return flag_; }
  // Its value: after '=', else the next argument.
  absl::StatusOr<std::string> Value();
  // Its value as a number in [lo, hi].
  absl::StatusOr<double> Number(double lo, double hi);
  // Reads the current flag into `f` if it is --keep, --dir or (with `parts`, the program's
  // parts) --only: true if it was one of them, false if the caller should read it.
  absl::StatusOr<bool> ReadRunFlag(RunFlags* f, std::initializer_list<std::string_view> parts = {});

 private:
  int argc_;
  char** argv_;
  int i_ = 0;
  std::string flag_, inline_value_;
  bool has_inline_value_ = false;
};

// Figures of one timed phase.
struct PhaseResult {
  int threads = 0;
  uint64_t ok = 0;
  uint64_t errors = 0;
  std::string first_error;
  double elapsed_s = 0;
  double rate = 0;  // ok / elapsed_s
  // CPU time (user + system) of the whole process over the measured part, per
  // successful call: client, server and storage threads together.
  double cpu_us_per_op = 0;
  // Context switches (voluntary + involuntary) of the whole process per successful call.
  double switches_per_op = 0;
  // Latency of successful calls, microseconds (0 if not recorded).
  double p50_us = 0, p99_us = 0, p999_us = 0, mean_us = 0, max_us = 0;
  // Fraction of successful calls that took longer than 1 ms.
  double over_1ms = 0;
};

// One operation of a phase; returns an empty string on success or the error.
using Op = std::function<std::string(int thread, uint64_t iteration)>;

// Runs `op` in a closed loop on `threads` threads: a warm-up of `warmup_s`, then
// `seconds` measured. Each thread issues its next call as soon as the previous one
// returns. Elapsed time runs from the common start until the last thread finished its
// last call, so a call still in flight at the deadline is counted in both.
PhaseResult RunClosedLoop(int threads, double seconds, double warmup_s, const Op& op);

// The same with several operations taken in turn by every thread (each round runs every
// operation once, in a random order), so each operation meets the same machine noise
// and follows each other operation equally often.
// Each result's rate is then that operation's own sequential rate per thread times the
// threads: ok / (sum of its latencies / threads).
std::vector<PhaseResult> RunInterleaved(int threads, double seconds, double warmup_s,
                                        const std::vector<Op>& ops);

// Warm-up used before a measured phase of `seconds`.
double WarmupFor(double seconds);

// A directory made with mkdtemp under `parent`, removed (recursively) when destroyed
// unless keep is set.
class TempDir {
 public:
  static absl::StatusOr<TempDir> Make(const std::string& parent, const std::string& prefix);
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir();
  const std::string& path() const { return path_; }
  void set_keep(bool keep) { keep_ = keep; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
  bool keep_ = false;
};

// Minimal JSON object builder (flat keys, numbers, strings and nested raw objects).
class Json {
 public:
  Json& Num(const std::string& key, double v);
  Json& Int(const std::string& key, uint64_t v);
  Json& Str(const std::string& key, const std::string& v);
  Json& Bool(const std::string& key, bool v);
  Json& Raw(const std::string& key, const std::string& json);
  std::string Done() const;

 private:
  void Key(const std::string& key);
  std::string body_;
};

std::string PhaseJson(const PhaseResult& r);

// "12,345" style formatting of a rate, and fixed-precision microseconds.
std::string FormatRate(double per_second);
std::string FormatUs(double us);

// The whole file; FAILED_PRECONDITION naming `what` and the path if it cannot be read.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path, const std::string& what);

// User + system CPU time of the whole process so far, seconds.
double ProcessCpuSeconds();

// Nearest-rank percentiles of a set of latencies (any unit; the figures keep it).
struct LatencyFigures {
  uint64_t count = 0;
  double p50 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;
};
// Sorts `values`.
LatencyFigures SummarizeLatencies(std::vector<int64_t>& values);

}  // namespace fedhub::bench

#endif  // FEDHUB_BENCH_BENCH_SUPPORT_H_
