// Helpers shared by the tests.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
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

// A path for a scratch file or directory `name`, of this process only: ctest runs tests in
// parallel processes, and two that wrote the same file raced (one read it truncated).
inline std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/" + std::to_string(getpid()) + "_" + name;
}

// An engine on `tier`, without the disk cache: for suites parameterized by tier.
inline EngineConfig tier_config(Tier tier) {
  EngineConfig config;
  config.tier = tier;
  config.cache.disk = false;
  return config;
}

// Both compiled tiers, and their names in test names ("baseline", "optimized").
inline auto both_tiers() { return ::testing::Values(Tier::Baseline, Tier::Optimized); }
inline std::string tier_name(const ::testing::TestParamInfo<Tier>& info) {
  return info.param == Tier::Baseline ? "baseline" : "optimized";
}

// A module whose data segment puts 01 02 03 04 at 70000, in its second page; `overwrite`
// changes it, `peek` reads a word.
constexpr std::string_view kWithData = R"((module
  (memory (export "memory") 2)
  (data (i32.const 70000) "\01\02\03\04")
  (func (export "overwrite") (i32.store (i32.const 70000) (i32.const -1)))
  (func (export "peek") (param i32) (result i32) (i32.load (local.get 0))))
)";

// Loads WAT text or fails the test.
inline Module load_wat(const Engine& engine, std::string_view text) {
  auto module = engine.load_wat(text, "test.wat");
  EXPECT_TRUE(module.ok()) << module.error().message();
  return std::move(module).value();
}

// One run of the `wasm-sandbox` command.
struct CliRun {
  int exit_code;
  std::string out;  // stdout then stderr
  double ms;        // wall-clock time
};

// Runs `PREFIX wasm-sandbox ARGS 2>&1` through the shell; PREFIX can set the environment
// (e.g. "env PATH=/nonexistent ").
inline CliRun cli(const std::string& args, const std::string& prefix = "") {
  const auto start = std::chrono::steady_clock::now();
  const std::string command = prefix + std::string(CLI_PATH) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  CliRun run{-1, "", 0};
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) run.out.append(buf.data(), n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return run;
}

}  // namespace wasm_sandbox::testing
