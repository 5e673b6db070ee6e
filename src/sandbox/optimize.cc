// The pipeline up to C, and the optimized tier's compile.
#include "sandbox/optimize.h"

#include <algorithm>
#include <thread>

#include "engine/compile_cc.h"
#include "engine/decode.h"
#include "engine/generate_c.h"
#include "engine/instrument.h"
#include "engine/load_shared.h"
#include "engine/shape.h"
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
  auto source = engine::generate_c(*decoded->ir, out.info, extra, limits.generated_c_bytes);
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

Result<OptimizedCode> compile_optimized(const EngineState& engine, const std::string& c,
                                        std::string_view name, Clock::time_point began,
                                        const std::atomic<bool>* cancel) {
  const OptimizerConfig& config = engine.config.optimizer;
  auto compiler = engine::find_c_compiler(config.compiler, config.flags);
  if (!compiler) {
    return Error(compiler.error().kind(), std::string(name) + ": " + compiler.error().message());
  }
  const auto start = Clock::now();
  const unsigned jobs =
      config.jobs ? config.jobs : std::max(1u, std::thread::hardware_concurrency());
  const std::vector<std::string> units{c};
  auto bytes = engine::compile_shared_object(*compiler, units, name, jobs,
                                             began + engine.config.limits.compile_time, cancel);
  if (!bytes) return std::move(bytes).error();
  auto code = engine::load_shared_object(*bytes, name);
  if (!code) return std::move(code).error();
  return OptimizedCode{std::move(*code), ms_since(start)};
}

Result<OptimizedCode> build_optimized(const EngineState& engine, std::span<const uint8_t> wasm,
                                      std::string_view name, const std::atomic<bool>* cancel) {
  const auto began = Clock::now();
  auto generated = generate(engine, wasm, name, began);
  if (!generated) return std::move(generated).error();
  return compile_optimized(engine, generated->c, name, began, cancel);
}

}  // namespace wasm_sandbox::detail
