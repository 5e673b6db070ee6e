// Baseline-tier load (validate + generate C + tcc) and instantiation.
#include <benchmark/benchmark.h>

#include <fstream>
#include <iterator>

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

void BM_Instantiate(benchmark::State& state) {
  Engine engine;
  auto module = engine.load(read_guest("math.wasm"), "math.wasm");
  for (auto _ : state) benchmark::DoNotOptimize(module->instantiate());
}
BENCHMARK(BM_Instantiate)->Unit(benchmark::kMicrosecond);

}  // namespace
