// The pipeline up to C, and the optimized tier's compile.
#include "sandbox/optimize.h"

#include <algorithm>
#include <thread>

#include "engine/build_id.h"
#include "engine/compile_cc.h"
#include "engine/decode.h"
#include "engine/disk_cache.h"
#include "engine/generate_c.h"
#include "engine/instrument.h"
#include "engine/load_shared.h"
#include "engine/shape.h"
#include "engine/split_c.h"
#include "wabt/ir.h"

namespace wasm_sandbox::detail {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The stages cannot be stopped midway; between them, the time limit is checked.
std::optional<Error> out_of_time(const Limits& limits, Clock::time_point began,
                                 std::string_view name, const char* after) {
  const double spent = ms_since(began);
  if (spent <= static_cast<double>(limits.compile_time.count())) return std::nullopt;
  return Error(ErrorKind::LimitExceeded,
               std::string(name) + ": compiling took " + std::to_string(int64_t(spent)) +
                   " ms by the end of " + after + ", more than the limit of " +
                   std::to_string(limits.compile_time.count()) + " ms (Limits::compile_time)");
}

}  // namespace

Result<GeneratedModule> generate(const EngineState& engine, std::span<const uint8_t> wasm,
                                 std::string_view name, Clock::time_point began) {
  const Limits& limits = engine.config.limits;
  GeneratedModule out;
  auto start = Clock::now();
  auto decoded = engine::decode(wasm, name, limits);
  if (!decoded) return std::move(decoded).error();
  out.stats.decode_ms = ms_since(start);
  if (auto late = out_of_time(limits, began, name, "decoding")) return std::move(*late);

  start = Clock::now();
  out.info = std::move(decoded->info);
  const engine::InstrumentedExports extra = engine::instrument(
      *decoded->ir, {.fuel = engine.config.fuel, .interrupts = engine.config.interruptible});
  const auto checks = engine.config.memory_mode == MemoryMode::Dense
                          ? engine::BoundsChecks::Explicit
                          : engine::BoundsChecks::GuardPages;
  auto source = engine::generate_c(*decoded->ir, out.info, extra, checks, limits.generated_c_bytes);
  if (!source) return std::move(source).error();
  engine::release_ir(std::move(decoded->ir));
  out.c = std::move(*source);
  out.stats.generate_ms = ms_since(start);
  out.stats.c_bytes = out.c.size();
  if (auto late = out_of_time(limits, began, name, "the translation to C")) {
    return std::move(*late);
  }
  return out;
}

Result<engine::CCompiler> find_compiler(const EngineState& engine, std::string_view name) {
  const OptimizerConfig& config = engine.config.optimizer;
  auto compiler = engine::find_c_compiler(config.compiler, config.flags);
  if (!compiler) {
    return Error(compiler.error().kind(), std::string(name) + ": " + compiler.error().message());
  }
  return compiler;
}

uint32_t instrumentation_of(const EngineConfig& config) {
  return (config.fuel ? engine::kInstrumentFuel : 0) |
         (config.interruptible ? engine::kInstrumentInterrupts : 0) |
         (config.memory_mode == MemoryMode::Dense ? engine::kInstrumentBoundsChecks : 0);
}

Result<OptimizedObject> compile_object(const EngineState& engine, const engine::CCompiler& compiler,
                                       const GeneratedModule& generated,
                                       const engine::Digest& module_hash, std::string_view name,
                                       Clock::time_point began, const std::atomic<bool>* cancel) {
  const OptimizerConfig& config = engine.config.optimizer;
  const auto start = Clock::now();
  const unsigned jobs =
      config.jobs ? config.jobs : std::max(1u, std::thread::hardware_concurrency());
  // A large module's C in several translation units, compiled in parallel.
  const std::vector<std::string> units = engine::split_translation_units(
      generated.c, engine::translation_units_for(generated.c.size(), jobs));
  auto bytes = engine::compile_shared_object(compiler, units, name, jobs,
                                             began + engine.config.limits.compile_time, cancel);
  if (!bytes) return std::move(bytes).error();
  OptimizedObject out;
  out.artifact.engine_version = std::string(engine::engine_version());
  out.artifact.cpu = engine::current_cpu();
  out.artifact.compiler = compiler.describe();
  out.artifact.instrumentation = instrumentation_of(engine.config);
  out.artifact.module_hash = module_hash;
  out.artifact.info = generated.info;
  out.artifact.code = std::move(*bytes);
  out.compile_ms = ms_since(start);
  out.translation_units = units.size();
  return out;
}

std::string artifact_key(const EngineState& engine, const engine::Digest& module_hash,
                         const engine::CCompiler& compiler) {
  engine::Hasher hasher;
  hasher.update(std::span<const uint8_t>(module_hash));
  hasher.update(engine::engine_version());
  hasher.update(std::string_view("\0", 1)).update(compiler.identity);
  for (const std::string& flag : compiler.flags) {
    hasher.update(std::string_view("\0", 1)).update(flag);
  }
  const std::string bits = std::to_string(instrumentation_of(engine.config));
  hasher.update(std::string_view("\0", 1)).update(bits);
  return engine::to_hex(hasher.finish());
}

const engine::DiskCache* disk_cache(EngineState& engine) {
  if (!engine.config.cache.disk) return nullptr;
  std::call_once(engine.disk_once, [&] {
    auto cache =
        engine::DiskCache::open({engine.config.cache.directory, engine.config.cache.max_bytes});
    if (cache) {
      engine.disk.emplace(std::move(*cache));
    } else {
      engine.disk_error = std::move(cache).error();
    }
  });
  return engine.disk ? &*engine.disk : nullptr;
}

Result<std::unique_ptr<engine::NativeCode>> load_artifact_code(const EngineState& engine,
                                                               const engine::Artifact& artifact,
                                                               std::string_view name) {
  if (Status s = engine::check_compatible(artifact, name); !s) return std::move(s).error();
  const uint32_t want = instrumentation_of(engine.config);
  if (artifact.instrumentation != want) {
    auto describe = [](uint32_t bits) {
      std::string out = bits & engine::kInstrumentFuel ? "fuel metering" : "no fuel metering";
      out += bits & engine::kInstrumentInterrupts ? ", interrupts" : ", no interrupts";
      out += bits & engine::kInstrumentBoundsChecks ? " and bounds checks (dense memories)"
                                                    : " and no bounds checks (guard pages)";
      return out;
    };
    return Error(ErrorKind::InvalidArgument,
                 std::string(name) + ": compiled with " + describe(artifact.instrumentation) +
                     ", but the engine wants " + describe(want) +
                     " (EngineConfig::fuel, interruptible, memory_mode; `wasm-sandbox compile "
                     "--fuel --dense`)");
  }
  auto code = engine::load_shared_object(artifact.code, name);
  if (!code) return std::move(code).error();
  const ws_glue& glue = (*code)->glue();
  if (glue.import_count != artifact.info.imports.size() ||
      glue.export_count != artifact.info.exports.size()) {
    return Error(ErrorKind::InvalidModule,
                 std::string(name) + ": the artifact's code does not match its interface");
  }
  return code;
}

Result<std::unique_ptr<engine::NativeCode>> build_optimized(EngineState& engine,
                                                            std::span<const uint8_t> wasm,
                                                            const engine::Digest& module_hash,
                                                            std::string_view name,
                                                            const std::atomic<bool>* cancel) {
  const auto began = Clock::now();
  auto compiler = find_compiler(engine, name);
  if (!compiler) return std::move(compiler).error();
  auto generated = generate(engine, wasm, name, began);
  if (!generated) return std::move(generated).error();
  if (cancel && cancel->load()) {  // the module went away while its C was generated
    return Error(ErrorKind::Internal, std::string(name) + ": the compile was cancelled");
  }
  auto object = compile_object(engine, *compiler, *generated, module_hash, name, began, cancel);
  if (!object) return std::move(object).error();
  if (const engine::DiskCache* cache = disk_cache(engine)) {
    // A full or unwritable cache costs the next process a compile, nothing more.
    (void)cache->put(artifact_key(engine, module_hash, *compiler),
                     engine::serialize(object->artifact));
  }
  return load_artifact_code(engine, object->artifact, name);
}

}  // namespace wasm_sandbox::detail
