// `wasm-sandbox wast FILE.wast... [--expected-failures FILE]`
//
// Prints "N passed, N failed" per script and a total line. With --expected-failures, exits
// non-zero when a script not on the list fails, or a listed script passes completely (the list
// must be kept true).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "cli/commands.h"
#include "wast/wast_runner.h"

namespace wasm_sandbox::cli {
namespace {

// "script.wast reason..." per line; blank lines and lines starting with # are skipped.
bool read_expected(const std::string& path, std::map<std::string, std::string>* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string script, reason;
    fields >> script;
    std::getline(fields, reason);
    (*out)[script] = reason;
  }
  return true;
}

}  // namespace

int run_wast(const WastOptions& options) {
  std::map<std::string, std::string> expected;
  if (!options.expected_failures.empty() && !read_expected(options.expected_failures, &expected)) {
    print_error(options.expected_failures + ": cannot read the expected-failures list");
    return kExitUsage;
  }
  auto config = engine_config(options.safety);
  if (!config) {
    print_error(config.error());
    return kExitUsage;
  }
  Engine engine(*config);
  size_t passed = 0, failed = 0, unexpected = 0;
  for (const std::string& script : options.scripts) {
    auto result = wast::run_script(engine, script);
    const std::string name = std::filesystem::path(script).filename().string();
    if (!result) {
      print_error(result.error().message());
      ++unexpected;
      continue;
    }
    passed += result->passed;
    failed += result->failed;
    const bool allowed = expected.count(name) != 0;
    const std::string note = result->failed && allowed ? " (expected:" + expected[name] + ")" : "";
    std::printf("%s: %zu passed, %zu failed%s\n", name.c_str(), result->passed, result->failed,
                note.c_str());
    if (result->failed && !allowed) {
      ++unexpected;
      const size_t shown = options.verbose ? result->failures.size() : 10;
      for (size_t i = 0; i < result->failures.size() && i < shown; ++i) {
        std::printf("  FAIL %s\n", result->failures[i].c_str());
      }
    } else if (!result->failed && allowed) {
      std::printf("  %s is listed as an expected failure but passed: remove it from the list\n",
                  name.c_str());
      ++unexpected;
    }
  }
  std::printf("total: %zu passed, %zu failed\n", passed, failed);
  return unexpected ? kExitFailure : kExitOk;
}

}  // namespace wasm_sandbox::cli
