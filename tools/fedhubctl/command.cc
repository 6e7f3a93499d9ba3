#include "command.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fedhubctl {
namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

absl::Status ErrnoStatus(int err, const std::string& what) {
  std::string message = what + ": " + std::strerror(err);
  if (err == ENOENT) return absl::NotFoundError(message);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
  return absl::InternalError(message);
}

}  // namespace

std::string ResolveGlobalOptions(const ParsedArgs& args, GlobalOptions* out) {
  out->endpoint = args.Get("endpoint", EnvOr("FEDHUB_ENDPOINT", "localhost:7443"));
  out->certs = args.Get("certs", EnvOr("FEDHUB_CERTS", ".fedhub/certs"));
  out->as = args.Get("as", EnvOr("FEDHUB_AS", "operator"));
  out->json = args.Has("json");
  if (args.Has("timeout")) {
    auto ms = ParseInt(args.Get("timeout"), 1, 24LL * 3600 * 1000);
    if (!ms) return "--timeout must be a number of milliseconds, 1 or more";
    out->timeout_ms = static_cast<int>(*ms);
  }
  if (out->endpoint.empty()) return "--endpoint is empty";
  if (out->as.empty()) return "--as is empty";
  return "";
}

absl::StatusOr<fedhub::Client> Context::Connect() const {
  fedhub::ClientOptions options =
      fedhub::ClientOptions::ForPrincipal(options_.certs, options_.as, options_.endpoint);
  // Say which principal lacks a certificate, and how to make one, rather than which
  // ClientOptions field could not be read.
  std::error_code ec;
  for (const std::string* file : {&options.cert_file, &options.key_file}) {
    if (!std::filesystem::exists(*file, ec)) {
      return absl::NotFoundError("no certificate for --as " + options_.as + ": " + *file +
                                 " does not exist; pick a principal that has one in " +
                                 options_.certs +
                                 " (--certs, --as), or make development "
                                 "certificates with `fedhubctl dev-certs`");
    }
  }
  if (!std::filesystem::exists(options.ca_cert_file, ec)) {
    return absl::NotFoundError("no CA certificate: " + options.ca_cert_file +
                               " does not exist (--certs names the directory)");
  }
  options.deadline = std::chrono::milliseconds(options_.timeout_ms);
  // Read-only calls are retried on UNAVAILABLE; a command-line tool gives up after about
  // one deadline's worth of retrying rather than the SDK's 15 s.
  options.retry.total_timeout = std::min(options.retry.total_timeout, options.deadline);
  return fedhub::Client::Connect(options);
}

int Context::Usage(const std::string& message) const {
  return UsageError(message, fedhubctl::Usage(spec_));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) return ErrnoStatus(errno != 0 ? errno : ENOENT, "cannot open " + path);
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return absl::InternalError("cannot read " + path);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(path + " is a directory");
  }
  return content.str();
}

absl::Status WriteFile(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  {
    errno = 0;
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out.is_open()) return ErrnoStatus(errno != 0 ? errno : EIO, "cannot write " + tmp);
    out << content;
    out.flush();
    if (!out) return ErrnoStatus(errno != 0 ? errno : EIO, "cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(tmp, ec);
    return absl::InternalError("cannot rename " + tmp + " to " + path + ": " + why);
  }
  return absl::OkStatus();
}

}  // namespace fedhubctl
