// Runs WebAssembly spec scripts (.wast): converts each with Debian's `wast2json` into a
// command list plus module files, then executes every command against an Engine.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "wasm_sandbox/engine.h"

namespace wasm_sandbox::wast {

struct ScriptResult {
  std::string script;  // file name
  size_t passed = 0;
  size_t failed = 0;
  std::vector<std::string>
      failures;  // "i32.wast:42: assert_return `add`: got i32:1, expected i32:2"
};

// Runs one script. An error means the script could not be run at all (missing file,
// wast2json failed); failing commands are counted in the result instead.
Result<ScriptResult> run_script(const Engine& engine, const std::filesystem::path& script);

}  // namespace wasm_sandbox::wast
