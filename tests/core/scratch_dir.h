// A fresh directory for one test under $TMPDIR (or /tmp), removed with everything in it
// when the object goes out of scope.
#ifndef FEDHUB_TESTS_CORE_SCRATCH_DIR_H_
#define FEDHUB_TESTS_CORE_SCRATCH_DIR_H_

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

namespace fedhub::testing {

class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = (base != nullptr && *base != '\0') ? base : "/tmp";
    pattern += "/fedhub-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  // A path inside the directory (not created).
  std::string Sub(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

}  // namespace fedhub::testing

#endif  // FEDHUB_TESTS_CORE_SCRATCH_DIR_H_
