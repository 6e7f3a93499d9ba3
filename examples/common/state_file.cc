#include "state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace fedhub_examples {
namespace {

std::string Escape(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (char c : field) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
  return out;
}

// Splits one line into unescaped fields; false on a dangling or unknown escape.
bool SplitLine(std::string_view line, StateRecord* fields) {
  fields->assign(1, std::string());
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '\t') {
      fields->emplace_back();
      continue;
    }
    if (c != '\\') {
      fields->back() += c;
      continue;
    }
    if (++i == line.size()) return false;
    switch (line[i]) {
      case '\\': fields->back() += '\\'; break;
      case 't': fields->back() += '\t'; break;
      case 'n': fields->back() += '\n'; break;
      case 'r': fields->back() += '\r'; break;
      default: return false;
    }
  }
  return true;
}

absl::Status SystemError(const std::string& what, const std::string& path) {
  return absl::InternalError(what + " " + path + ": " + std::strerror(errno));
}

// Writes all of `data` to `fd`, retrying short writes.
bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

absl::Status WriteStateFile(const std::string& path, const std::string& comment,
                            const std::vector<StateRecord>& records) {
  std::string content;
  if (!comment.empty()) content += "# " + Escape(comment) + "\n";
  for (const StateRecord& record : records) {
    for (size_t i = 0; i < record.size(); ++i) {
      if (i > 0) content += '\t';
      content += Escape(record[i]);
    }
    content += '\n';
  }

  const std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return SystemError("cannot create", temp);
  if (!WriteAll(fd, content) || ::fsync(fd) != 0) {
    absl::Status s = SystemError("cannot write", temp);
    ::close(fd);
    ::unlink(temp.c_str());
    return s;
  }
  if (::close(fd) != 0) return SystemError("cannot close", temp);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    absl::Status s = SystemError("cannot rename " + temp + " to", path);
    ::unlink(temp.c_str());
    return s;
  }
  // The rename is durable only once the directory entry is.
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return SystemError("cannot open directory", dir);
  int synced = ::fsync(dir_fd);
  ::close(dir_fd);
  if (synced != 0) return SystemError("cannot sync directory", dir);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<StateRecord>> ReadStateFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    if (!std::filesystem::exists(path)) return absl::NotFoundError("no state file " + path);
    return SystemError("cannot read", path);
  }
  std::vector<StateRecord> records;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line[0] == '#') continue;
    StateRecord fields;
    if (!SplitLine(line, &fields)) {
      return absl::DataLossError(path + " line " + std::to_string(number) +
                                 ": malformed escape; the file was not written by this platform "
                                 "or was edited by hand");
    }
    records.push_back(std::move(fields));
  }
  if (in.bad()) return SystemError("cannot read", path);
  return records;
}

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

absl::StatusOr<std::string> FromHex(std::string_view hex) {
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return absl::InvalidArgumentError("hex field has an odd length");
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = value(hex[i]), lo = value(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError("hex field has a non-hex character at offset " +
                                        std::to_string(hi < 0 ? i : i + 1));
    }
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

}  // namespace fedhub_examples
