// Helpers shared by the tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "wasm_sandbox/wasm_sandbox.h"

namespace wasm_sandbox::testing {

// A whole file's bytes (empty if it cannot be read).
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes `bytes` to `path`, creating the directories on the way.
inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

inline std::string guest(const std::string& name) { return std::string(GUEST_DIR) + "/" + name; }

// Loads WAT text or fails the test.
inline Module load_wat(const Engine& engine, std::string_view text) {
  auto module = engine.load_wat(text, "test.wat");
  EXPECT_TRUE(module.ok()) << module.error().message();
  return std::move(module).value();
}

}  // namespace wasm_sandbox::testing
