// Building a module's optimized tier: the C of the pipeline compiled by gcc or clang into a
// shared object (engine/compile_cc.h), kept as an artifact (engine/artifact.h) in the disk
// cache or a file, and loaded (engine/load_shared.h).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "engine/artifact.h"
#include "engine/compile_cc.h"
#include "engine/hash.h"
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

// The optimized tier's artifact for a module: its shared object and interface.
struct OptimizedObject {
  engine::Artifact artifact;
  double compile_ms = 0;
  size_t translation_units = 0;  // the C was split into, and compiled in parallel
};

// Compiles `generated` with `compiler` into an artifact. Stops at Limits::compile_time from
// `began`, or when `*cancel` turns true.
Result<OptimizedObject> compile_object(const EngineState& engine, const engine::CCompiler& compiler,
                                       const GeneratedModule& generated,
                                       const engine::Digest& module_hash, std::string_view name,
                                       std::chrono::steady_clock::time_point began,
                                       const std::atomic<bool>* cancel);

// The engine's compiler (OptimizerConfig), its error naming the module.
Result<engine::CCompiler> find_compiler(const EngineState& engine, std::string_view name);

// The engine's instrumentation as artifact bits (engine/artifact.h, kInstrument*).
uint32_t instrumentation_of(const EngineConfig& config);

// The disk cache key of a module's optimized code under this engine and compiler.
std::string artifact_key(const EngineState& engine, const engine::Digest& module_hash,
                         const engine::CCompiler& compiler);

// The engine's disk cache, opened on first use; null when disabled or when it cannot be
// opened (then EngineState::disk_error says why).
const engine::DiskCache* disk_cache(EngineState& engine);

// Checks that an artifact fits this process and this engine's instrumentation, and loads its
// code. Errors name `name`.
Result<std::unique_ptr<engine::NativeCode>> load_artifact_code(const EngineState& engine,
                                                               const engine::Artifact& artifact,
                                                               std::string_view name);

// Tier::Auto's background compile: everything from the bytes to loaded code, stored in the
// disk cache under `key` when there is one.
Result<std::unique_ptr<engine::NativeCode>> build_optimized(EngineState& engine,
                                                            std::span<const uint8_t> wasm,
                                                            const engine::Digest& module_hash,
                                                            std::string_view name,
                                                            const std::atomic<bool>* cancel);

// Makes `optimized` the module's best code (tiering.cc). REQUIRES: code.mutex held; the
// optimized code was built from the same bytes and config as code.first.
void install_optimized(ModuleCode& code, std::unique_ptr<engine::NativeCode> optimized);

}  // namespace wasm_sandbox::detail
