// What the safety controls cost: each benchmark kernel (bench/kernels.h) compiled five ways
// (no instrumentation, interrupts, fuel, both, and interrupts with dense memories, whose
// code checks bounds) and called in turn, one call of each per round, so that all five see
// the same machine state; the time of each mode is summed over
// the rounds and reported relative to "none" as counters. bench/main.cc prints the geometric
// means. (bench/instruction_counts.sh gives the same comparison in instructions.)
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "kernels.h"
#include "wasm_sandbox/wasm_sandbox.h"

namespace {

using namespace wasm_sandbox;
using bench::Kernel;
using bench::kKernels;
using Clock = std::chrono::steady_clock;

struct Mode {
  const char* name;
  bool interruptible;
  bool fuel;
  bool dense = false;
};
constexpr Mode kModes[] = {{"none", false, false},
                           {"interrupts", true, false},
                           {"fuel", false, true},
                           {"both", true, true},
                           {"dense", true, false, true}};

// The tier the kernels run on: the engine's default, unless WASM_SANDBOX_BENCH_TIER names
// one (`baseline` or `optimized`; bench/instruction_counts.sh passes its second argument).
Tier bench_tier() {
  const char* tier = std::getenv("WASM_SANDBOX_BENCH_TIER");
  if (tier && std::string(tier) == "optimized") return Tier::Optimized;
  if (tier && std::string(tier) == "baseline") return Tier::Baseline;
  return EngineConfig{}.tier;
}

Func load_kernel(const Kernel& kernel, const Mode& mode) {
  EngineConfig config;
  config.tier = bench_tier();
  config.interruptible = mode.interruptible;
  config.fuel = mode.fuel;
  if (mode.dense) config.memory_mode = MemoryMode::Dense;
  config.limits.fuel = UINT64_MAX;
  Engine engine(config);
  auto instance = engine.load_file(std::string(GUEST_DIR) + "/kernels.wasm")->instantiate();
  auto func = instance->func(std::string("run_") + kernel.name);
  if (!func) std::abort();
  return *func;
}

// Where a compiler puts a hot loop changes its speed by a few percent either way, so each
// mode is compiled several times and the rounds rotate through the copies.
constexpr size_t kCopies = 3;

void run_kernel(benchmark::State& state, const Kernel& kernel) {
  Func funcs[kCopies][std::size(kModes)];
  for (auto& copy : funcs) {
    for (size_t m = 0; m < std::size(kModes); ++m) copy[m] = load_kernel(kernel, kModes[m]);
  }
  const Value args[] = {Value::i32(kernel.n)};
  Clock::duration spent[std::size(kModes)] = {};
  size_t round = 0;
  for (auto _ : state) {
    const auto& copy = funcs[round++ % kCopies];
    for (size_t m = 0; m < std::size(kModes); ++m) {
      const auto start = Clock::now();
      auto result = copy[m].call(args);
      spent[m] += Clock::now() - start;
      if (!result) state.SkipWithError(result.error().message().c_str());
      benchmark::DoNotOptimize(result);
    }
  }
  for (size_t m = 1; m < std::size(kModes); ++m) {
    state.counters[kModes[m].name] =
        static_cast<double>(spent[m].count()) / static_cast<double>(spent[0].count());
  }
}

// One call of one mode, for bench/instruction_counts.sh (callgrind counts its instructions).
void run_once(benchmark::State& state, const Kernel& kernel, const Mode& mode) {
  Func func = load_kernel(kernel, mode);
  const Value args[] = {Value::i32(kernel.n)};
  for (auto _ : state) benchmark::DoNotOptimize(func.call(args));
}

[[maybe_unused]] const bool kRegistered = [] {
  for (const Kernel& kernel : kKernels) {
    benchmark::RegisterBenchmark((std::string("kernel/") + kernel.name).c_str(),
                                 [&kernel](benchmark::State& state) { run_kernel(state, kernel); })
        ->Unit(benchmark::kMillisecond)
        ->MinTime(3.0);
    for (const Mode& mode : kModes) {
      benchmark::RegisterBenchmark(
          (std::string("once/") + kernel.name + "/" + mode.name).c_str(),
          [&kernel, &mode](benchmark::State& state) { run_once(state, kernel, mode); })
          ->Unit(benchmark::kMillisecond)
          ->Iterations(1);
    }
  }
  return true;
}();

}  // namespace
