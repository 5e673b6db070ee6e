// Building a module's optimized tier: the C of the pipeline compiled by gcc or clang into a
// shared object (engine/compile_cc.h) and loaded (engine/load_shared.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "engine/module_info.h"
#include "engine/native_code.h"
#include "sandbox/state.h"
#include "wasm_sandbox/result.h"

namespace wasm_sandbox::detail {

// The C for a module under the engine's instrumentation, and what decoding learned.
struct GeneratedModule {
  engine::ModuleInfo info;
  std::string c;
  CompileStats stats;  // decode_ms, generate_ms, c_bytes
};

// Decodes, validates, instruments and translates to C, under the engine's module limits.
// The time limit (Limits::compile_time) counts from `began`.
Result<GeneratedModule> generate(const EngineState& engine, std::span<const uint8_t> wasm,
                                 std::string_view name,
                                 std::chrono::steady_clock::time_point began);

struct OptimizedCode {
  std::unique_ptr<engine::NativeCode> code;
  double compile_ms = 0;
};

// Compiles `c` with the engine's optimizer into loaded code. Stops at Limits::compile_time
// from `began`, or when `*cancel` turns true.
Result<OptimizedCode> compile_optimized(const EngineState& engine, const std::string& c,
                                        std::string_view name,
                                        std::chrono::steady_clock::time_point began,
                                        const std::atomic<bool>* cancel);

// Both, for Tier::Auto's background compile.
Result<OptimizedCode> build_optimized(const EngineState& engine, std::span<const uint8_t> wasm,
                                      std::string_view name, const std::atomic<bool>* cancel);

// Makes `optimized` the module's best code (tiering.cc). REQUIRES: code.mutex held; the
// optimized code was built from the same bytes and config as code.first.
void install_optimized(ModuleCode& code, std::unique_ptr<engine::NativeCode> optimized);

}  // namespace wasm_sandbox::detail
