// Stage 4, optimized tier: the generated C compiled by an external compiler (gcc or clang)
// into a shared object, seconds instead of milliseconds, for code that runs at native speed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wasm_sandbox/result.h"

namespace wasm_sandbox::engine {

struct CCompiler {
  std::string path;      // the executable, symlinks resolved
  std::string identity;  // path, size and modification time: changes whenever the compiler does
  std::vector<std::string> flags;  // optimization and target flags, e.g. {"-O2"}
  // "x86_64-linux-gnu-gcc-12 -O2": for messages.
  std::string describe() const;
};

// Finds `requested`: a path, or a program name looked up in PATH; empty means $CC, then gcc,
// then clang. ErrorKind::NotFound when there is none, naming what was looked for.
Result<CCompiler> find_c_compiler(std::string_view requested, std::vector<std::string> flags);

// Compiles the translation units (generate_c(), split by split_c()) into one shared object
// and returns its bytes. Units compile in parallel, at most `jobs` at a time, in a private
// temporary directory removed afterwards. The compiler is killed at `deadline` (then
// ErrorKind::LimitExceeded, naming Limits::compile_time) or when `*cancel` turns true.
// A compiler error is ErrorKind::Internal with the compiler's first error line: the C we
// generate should always compile. `name` names the module in messages.
Result<std::vector<uint8_t>> compile_shared_object(const CCompiler& compiler,
                                                   const std::vector<std::string>& units,
                                                   std::string_view name, unsigned jobs,
                                                   std::chrono::steady_clock::time_point deadline,
                                                   const std::atomic<bool>* cancel = nullptr);

}  // namespace wasm_sandbox::engine
