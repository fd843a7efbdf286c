// A temporary directory for a test, removed with everything in it when the object dies.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace ferry::testing {

class TempDir {
 public:
  // Under `base`, by default the system's temporary directory.
  explicit TempDir(std::filesystem::path base = std::filesystem::temp_directory_path()) {
    std::string tmpl = (base / "ferry-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data()) ? tmpl : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace ferry::testing
