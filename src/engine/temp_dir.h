// A private temporary directory (mode 0700, under $TMPDIR or /tmp), removed with everything
// in it when the object goes out of scope. For the C compiler's files and wast2json's output.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace wasm_sandbox::engine {

class TempDir {
 public:
  // `prefix` starts the directory's name, e.g. "wasm-sandbox-". path() is empty if the
  // directory could not be made.
  explicit TempDir(std::string_view prefix) {
    std::error_code ec;
    std::filesystem::path base = std::filesystem::temp_directory_path(ec);
    if (ec) base = "/tmp";
    std::string pattern = (base / (std::string(prefix) + "XXXXXX")).string();
    if (mkdtemp(pattern.data())) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace wasm_sandbox::engine
