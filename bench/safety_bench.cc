// What the safety controls cost: each benchmark kernel (guests/kernels.c) run with no
// instrumentation, with interrupt checks, with fuel, and with both, side by side in one run.
// bench/main.cc prints the ratios to "none" and their geometric mean.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "wasm_sandbox/wasm_sandbox.h"

namespace {

using namespace wasm_sandbox;

struct Kernel {
  const char* name;
  int32_t n;
};
// Sizes chosen for tens of milliseconds per call on the baseline tier.
constexpr Kernel kKernels[] = {{"fib", 27},    {"lcg", 20'000'000},  {"sieve", 1 << 20},
                               {"matmul", 96}, {"crc32", 4'000'000}, {"sort", 200'000}};

struct Mode {
  const char* name;
  bool interruptible;
  bool fuel;
};
constexpr Mode kModes[] = {{"none", false, false},
                           {"interrupts", true, false},
                           {"fuel", false, true},
                           {"both", true, true}};

void run_kernel(benchmark::State& state, const Kernel& kernel, const Mode& mode) {
  EngineConfig config;
  config.interruptible = mode.interruptible;
  config.fuel = mode.fuel;
  config.limits.fuel = UINT64_MAX;
  Engine engine(config);
  auto module = engine.load_file(std::string(GUEST_DIR) + "/kernels.wasm");
  if (!module) state.SkipWithError(module.error().message().c_str());
  auto instance = module->instantiate();
  auto func = instance->func(std::string("run_") + kernel.name);
  if (!func) std::abort();
  const Value args[] = {Value::i32(kernel.n)};
  for (auto _ : state) {
    auto result = func->call(args);
    if (!result) state.SkipWithError(result.error().message().c_str());
    benchmark::DoNotOptimize(result);
  }
}

[[maybe_unused]] const bool kRegistered = [] {
  for (const Kernel& kernel : kKernels) {
    for (const Mode& mode : kModes) {
      benchmark::RegisterBenchmark(
          (std::string("kernel/") + kernel.name + "/" + mode.name).c_str(),
          [&kernel, &mode](benchmark::State& state) { run_kernel(state, kernel, mode); })
          ->Unit(benchmark::kMillisecond);
    }
  }
  return true;
}();

}  // namespace
