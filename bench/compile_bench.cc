// Baseline-tier load (validate + generate C + tcc) and instantiation.
#include <benchmark/benchmark.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "wasm_sandbox/wasm_sandbox.h"

namespace {

using namespace wasm_sandbox;

std::vector<uint8_t> read_guest(const char* name) {
  std::ifstream in(std::string(GUEST_DIR) + "/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void BM_LoadBaseline(benchmark::State& state) {
  Engine engine;
  const auto bytes = read_guest("math.wasm");
  for (auto _ : state) benchmark::DoNotOptimize(engine.load(bytes, "math.wasm"));
  state.SetBytesProcessed(state.iterations() * bytes.size());
}
BENCHMARK(BM_LoadBaseline)->Unit(benchmark::kMillisecond);

// First load of a never-seen module of about 1 MB (guests/large.c: 5,000 functions).
void BM_LoadLarge(benchmark::State& state) {
  Engine engine;
  const auto bytes = read_guest("large.wasm");
  if (bytes.empty()) {
    state.SkipWithError("large.wasm is missing: build the large_guest target (make bench)");
    return;
  }
  CompileStats total;
  for (auto _ : state) {
    auto module = engine.load(bytes, "large.wasm");
    if (!module.ok()) {
      state.SkipWithError(module.error().message().c_str());
      return;
    }
    total.decode_ms += module->stats().decode_ms;
    total.generate_ms += module->stats().generate_ms;
    total.compile_ms += module->stats().compile_ms;
  }
  // The phases, in ms per load.
  const auto per_load = benchmark::Counter::kAvgIterations;
  state.counters["decode_ms"] = benchmark::Counter(total.decode_ms, per_load);
  state.counters["wasm_to_c_ms"] = benchmark::Counter(total.generate_ms, per_load);
  state.counters["tcc_ms"] = benchmark::Counter(total.compile_ms, per_load);
  state.counters["wasm_bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(BM_LoadLarge)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Instantiate(benchmark::State& state) {
  Engine engine;
  auto module = engine.load(read_guest("math.wasm"), "math.wasm");
  for (auto _ : state) benchmark::DoNotOptimize(module->instantiate());
}
BENCHMARK(BM_Instantiate)->Unit(benchmark::kMicrosecond);

// Instantiation alone: batches of 256 instances are made with the clock running and dropped
// with it stopped (dropping resets and pools their memories).
void BM_InstantiateOnly(benchmark::State& state) {
  Engine engine;
  auto module = engine.load(read_guest("math.wasm"), "math.wasm");
  constexpr size_t kBatch = 256;
  std::vector<Instance> batch;
  batch.reserve(kBatch);
  for (auto _ : state) {
    batch.push_back(std::move(module->instantiate()).value());
    if (batch.size() == kBatch) {
      state.PauseTiming();
      batch.clear();
      state.ResumeTiming();
    }
  }
}
BENCHMARK(BM_InstantiateOnly)->Unit(benchmark::kMicrosecond);

// A module with 256 KiB of data segments, instantiated and dropped: its memory mapped from
// the module's image (arg 1) or filled by copying the segments (arg 0).
void BM_InstantiateWithData(benchmark::State& state) {
  std::string data;
  for (int i = 0; i < 32768; ++i) data += "01234567";
  EngineConfig config;
  config.pool.memory_images = state.range(0) != 0;
  Engine engine(config);
  auto module =
      engine.load_wat("(module (memory 8) (data (i32.const 1024) \"" + data + "\"))", "data.wat");
  if (!module) std::abort();
  for (auto _ : state) benchmark::DoNotOptimize(module->instantiate());
}
BENCHMARK(BM_InstantiateWithData)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace
