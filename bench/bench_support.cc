#include "bench_support.h"

#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string_view>
#include <thread>

#include "core/strings.h"

namespace fedhub::bench {
namespace {

using Clock = std::chrono::steady_clock;

enum Phase : int { kWarmup = 0, kMeasure = 1, kStop = 2 };

struct ProcUsage {
  double cpu_s = 0;
  double switches = 0;
};

ProcUsage ProcessUsage() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  return {s(ru.ru_utime) + s(ru.ru_stime), static_cast<double>(ru.ru_nvcsw + ru.ru_nivcsw)};
}

double Percentile(const std::vector<int64_t>& sorted_ns, double p) {
  if (sorted_ns.empty()) return 0;
  // Nearest rank.
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted_ns.size())));
  rank = std::clamp<size_t>(rank, 1, sorted_ns.size());
  return static_cast<double>(sorted_ns[rank - 1]) / 1000.0;
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out.append(buf);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string Usage() {
  return "usage: fedhub_bench_consent [flags]\n"
         "  --seconds S         length of each timed phase (default 3)\n"
         "  --dir PATH          parent of the temporary directory (default /tmp)\n"
         "  --people N          people linked between the two platforms (default 200)\n"
         "  --callers N         concurrent grant callers / baseline writers (default 32)\n"
         "  --client-per-caller each grant caller gets its own fedhub::Client (own channel);\n"
         "                      default: all callers share one Client\n"
         "  --check-callers N   concurrent callers of the check throughput phase (default 8)\n"
         "  --json              print the figures as JSON on stdout (the table goes to stderr)\n"
         "  --keep              keep the temporary directory\n";
}

bool FlagReader::Next() {
  if (++i_ >= argc_) return false;
  flag_ = argv_[i_];
  has_inline_value_ = false;
  if (size_t eq = flag_.find('='); eq != std::string::npos) {
    inline_value_ = flag_.substr(eq + 1);
    flag_.resize(eq);
    has_inline_value_ = true;
  }
  return true;
}

absl::StatusOr<std::string> FlagReader::Value() {
  if (has_inline_value_) return inline_value_;
  if (i_ + 1 >= argc_) return absl::InvalidArgumentError(Cat(flag_, " needs a value\n"));
  return std::string(argv_[++i_]);
}

absl::StatusOr<double> FlagReader::Number(double lo, double hi) {
  auto v = Value();
  if (!v.ok()) return v.status();
  char* end = nullptr;
  double d = std::strtod(v->c_str(), &end);
  if (end == v->c_str() || *end != '\0' || !(d >= lo && d <= hi)) {
    char range[64];
    std::snprintf(range, sizeof range, "%g to %g", lo, hi);
    return absl::InvalidArgumentError(Cat(flag_, " wants a number from ", range, ", got \"", *v, "\"\n"));
  }
  return d;
}

absl::StatusOr<bool> FlagReader::ReadRunFlag(RunFlags* f, std::initializer_list<std::string_view> parts) {
  if (flag_ == "--keep") {
    f->keep = true;
    return true;
  }
  if (flag_ != "--dir" && (flag_ != "--only" || parts.size() == 0)) return false;
  auto v = Value();
  if (!v.ok()) return v.status();
  if (flag_ == "--dir") {
    f->dir = *v;
    return true;
  }
  std::string choices;
  for (std::string_view part : parts) {
    if (*v == part) {
      f->only = *v;
      return true;
    }
    choices += Cat(choices.empty() ? "" : " or ", part);
  }
  return absl::InvalidArgumentError(Cat("--only wants ", choices, ", got \"", *v, "\"\n"));
}

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  FlagReader r(argc, argv);
  while (r.Next()) {
    std::string arg = r.flag();
    std::replace(arg.begin(), arg.end(), '_', '-');
    if (arg == "--help" || arg == "-h") return absl::InvalidArgumentError(Usage());
    auto run_flag = r.ReadRunFlag(&f);
    if (!run_flag.ok()) return run_flag.status();
    if (*run_flag) continue;
    if (arg == "--json") {
      f.json = true;
    } else if (arg == "--client-per-caller") {
      f.client_per_caller = true;
    } else if (arg == "--seconds") {
      auto v = r.Number(0.01, 1e9);
      if (!v.ok()) return v.status();
      f.seconds = *v;
    } else if (arg == "--people" || arg == "--callers" || arg == "--check-callers") {
      auto v = r.Number(1, 1e9);
      if (!v.ok()) return v.status();
      int n = static_cast<int>(*v);
      if (arg == "--people") f.people = n;
      if (arg == "--callers") f.callers = n;
      if (arg == "--check-callers") f.check_callers = n;
    } else {
      return absl::InvalidArgumentError(Cat("unknown flag ", arg, "\n", Usage()));
    }
  }
  return f;
}

double WarmupFor(double seconds) { return std::min(0.5, seconds / 4); }

namespace {

struct Collected {
  uint64_t ok = 0, errors = 0;
  std::string first_error;
  std::vector<int64_t> ns;
};

void Summarize(Collected& c, PhaseResult& r) {
  r.ok = c.ok;
  r.errors = c.errors;
  r.first_error = std::move(c.first_error);
  std::sort(c.ns.begin(), c.ns.end());
  if (c.ns.empty()) return;
  r.p50_us = Percentile(c.ns, 50);
  r.p99_us = Percentile(c.ns, 99);
  r.p999_us = Percentile(c.ns, 99.9);
  r.max_us = static_cast<double>(c.ns.back()) / 1000.0;
  double sum = 0;
  for (int64_t v : c.ns) sum += static_cast<double>(v);
  r.mean_us = sum / static_cast<double>(c.ns.size()) / 1000.0;
  auto slow = c.ns.end() - std::upper_bound(c.ns.begin(), c.ns.end(), int64_t{1000000});
  r.over_1ms = static_cast<double>(slow) / static_cast<double>(c.ns.size());
}

// Runs the closed loop; returns per-op collections and the measured elapsed time.
std::vector<Collected> Drive(int threads, double seconds, double warmup_s,
                             const std::vector<Op>& ops, double* elapsed_s, ProcUsage* used) {
  std::atomic<int> phase{kWarmup};
  std::atomic<int> ready{0};
  std::mutex mu;
  std::vector<Collected> merged(ops.size());
  Clock::time_point last_end{};

  auto worker = [&](int t) {
    std::vector<Collected> mine(ops.size());
    for (auto& m : mine) m.ns.reserve(1 << 13);
    // Each round takes every operation once, in a new random order, so that each one
    // follows each other one equally often.
    std::vector<size_t> order(ops.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::mt19937 rng(static_cast<unsigned>(t) + 1);
    uint64_t iteration = 0;
    ready.fetch_add(1);
    Clock::time_point end = Clock::now();
    while (true) {
      int at_start = phase.load(std::memory_order_acquire);
      if (at_start == kStop) break;
      size_t slot = iteration % ops.size();
      if (slot == 0 && ops.size() > 1) std::shuffle(order.begin(), order.end(), rng);
      size_t k = order[slot];
      Clock::time_point t0 = Clock::now();
      std::string err = ops[k](t, iteration++);
      end = Clock::now();
      if (at_start != kMeasure) continue;
      Collected& m = mine[k];
      if (err.empty()) {
        ++m.ok;
        m.ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(end - t0).count());
      } else if (m.errors++ == 0) {
        m.first_error = std::move(err);
      }
    }
    std::lock_guard lock(mu);
    for (size_t k = 0; k < ops.size(); ++k) {
      merged[k].ok += mine[k].ok;
      merged[k].errors += mine[k].errors;
      if (merged[k].first_error.empty()) merged[k].first_error = std::move(mine[k].first_error);
      merged[k].ns.insert(merged[k].ns.end(), mine[k].ns.begin(), mine[k].ns.end());
    }
    last_end = std::max(last_end, end);
  };

  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker, t);
  while (ready.load() < threads) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::duration<double>(warmup_s));
  Clock::time_point start = Clock::now();
  ProcUsage before = ProcessUsage();
  phase.store(kMeasure, std::memory_order_release);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  phase.store(kStop, std::memory_order_release);
  for (auto& th : pool) th.join();
  ProcUsage after = ProcessUsage();
  used->cpu_s = after.cpu_s - before.cpu_s;
  used->switches = after.switches - before.switches;
  *elapsed_s = std::chrono::duration<double>(std::max(last_end, start) - start).count();
  return merged;
}

}  // namespace

PhaseResult RunClosedLoop(int threads, double seconds, double warmup_s, const Op& op) {
  double elapsed = 0;
  ProcUsage used;
  std::vector<Collected> c = Drive(threads, seconds, warmup_s, {op}, &elapsed, &used);
  PhaseResult r;
  r.threads = threads;
  r.elapsed_s = elapsed;
  Summarize(c[0], r);
  if (r.ok > 0) {
    r.cpu_us_per_op = used.cpu_s * 1e6 / static_cast<double>(r.ok);
    r.switches_per_op = used.switches / static_cast<double>(r.ok);
  }
  if (elapsed > 0) r.rate = static_cast<double>(r.ok) / elapsed;
  return r;
}

std::vector<PhaseResult> RunInterleaved(int threads, double seconds, double warmup_s,
                                        const std::vector<Op>& ops) {
  double elapsed = 0;
  ProcUsage used;
  std::vector<Collected> c = Drive(threads, seconds, warmup_s, ops, &elapsed, &used);
  std::vector<PhaseResult> out(ops.size());
  uint64_t total_ok = 0;
  for (const Collected& k : c) total_ok += k.ok;
  for (size_t k = 0; k < ops.size(); ++k) {
    out[k].threads = threads;
    out[k].elapsed_s = elapsed;
    Summarize(c[k], out[k]);
    if (out[k].mean_us > 0) out[k].rate = threads * 1e6 / out[k].mean_us;
    // Shared CPU of the interleaved calls: the average over all of them.
    if (total_ok > 0) {
      out[k].cpu_us_per_op = used.cpu_s * 1e6 / static_cast<double>(total_ok);
      out[k].switches_per_op = used.switches / static_cast<double>(total_ok);
    }
  }
  return out;
}

absl::StatusOr<TempDir> TempDir::Make(const std::string& parent, const std::string& prefix) {
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  std::string templ =
      Cat(parent, parent.empty() || parent.back() == '/' ? "" : "/", prefix, "XXXXXX");
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    return absl::FailedPreconditionError(Cat("cannot create a temporary directory under ", parent));
  }
  return TempDir(std::string(buf.data()));
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)), keep_(other.keep_) {
  other.path_.clear();
}

TempDir::~TempDir() {
  if (path_.empty() || keep_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void Json::Key(const std::string& key) {
  if (!body_.empty()) body_.push_back(',');
  body_ += Cat("\"", JsonEscape(key), "\":");
}
Json& Json::Num(const std::string& key, double v) {
  Key(key);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", std::isfinite(v) ? v : 0.0);
  body_ += buf;
  return *this;
}
Json& Json::Int(const std::string& key, uint64_t v) {
  Key(key);
  body_ += std::to_string(v);
  return *this;
}
Json& Json::Str(const std::string& key, const std::string& v) {
  Key(key);
  body_ += Cat("\"", JsonEscape(v), "\"");
  return *this;
}
Json& Json::Bool(const std::string& key, bool v) {
  Key(key);
  body_ += v ? "true" : "false";
  return *this;
}
Json& Json::Raw(const std::string& key, const std::string& json) {
  Key(key);
  body_ += json;
  return *this;
}
std::string Json::Done() const { return Cat("{", body_, "}"); }

std::string PhaseJson(const PhaseResult& r) {
  Json j;
  j.Int("threads", r.threads).Int("ok", r.ok).Int("errors", r.errors).Num("elapsed_s", r.elapsed_s);
  j.Num("per_second", r.rate).Num("p50_us", r.p50_us).Num("p99_us", r.p99_us);
  j.Num("p999_us", r.p999_us).Num("mean_us", r.mean_us).Num("max_us", r.max_us);
  j.Num("over_1ms", r.over_1ms)
      .Num("cpu_us_per_op", r.cpu_us_per_op)
      .Num("switches_per_op", r.switches_per_op);
  if (!r.first_error.empty()) j.Str("first_error", r.first_error);
  return j.Done();
}

std::string FormatRate(double per_second) {
  auto whole = static_cast<uint64_t>(std::llround(per_second));
  std::string digits = std::to_string(whole);
  std::string out;
  int n = static_cast<int>(digits.size());
  for (int i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string FormatUs(double us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, us < 100 ? "%.1f" : "%.0f", us);
  return buf;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  if (in) ss << in.rdbuf();
  if (!in || in.bad()) {
    return absl::FailedPreconditionError(
        Cat("cannot read ", what, " ", path, "; check that the file exists and is readable"));
  }
  return ss.str();
}

double ProcessCpuSeconds() { return ProcessUsage().cpu_s; }

LatencyFigures SummarizeLatencies(std::vector<int64_t>& values) {
  LatencyFigures f;
  if (values.empty()) return f;
  std::sort(values.begin(), values.end());
  auto rank = [&](double p) {
    size_t r = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
    return static_cast<double>(values[std::clamp<size_t>(r, 1, values.size()) - 1]);
  };
  f.count = values.size();
  f.p50 = rank(50);
  f.p99 = rank(99);
  f.p999 = rank(99.9);
  f.max = static_cast<double>(values.back());
  double sum = 0;
  for (int64_t v : values) sum += static_cast<double>(v);
  f.mean = sum / static_cast<double>(values.size());
  return f;
}

}  // namespace fedhub::bench
