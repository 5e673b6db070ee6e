// Host -> wasm call overhead next to a plain C function call, in one run.
#include <benchmark/benchmark.h>

#include "wasm_sandbox/wasm_sandbox.h"

namespace {

using namespace wasm_sandbox;

// The native baseline: the same function, called through a pointer the optimizer cannot see.
__attribute__((noinline)) int32_t native_add(int32_t a, int32_t b) { return a + b; }
int32_t (*volatile g_native_add)(int32_t, int32_t) = native_add;

void BM_NativeCall(benchmark::State& state) {
  int32_t x = 0;
  for (auto _ : state) x = g_native_add(x, 1);
  benchmark::DoNotOptimize(x);
}
BENCHMARK(BM_NativeCall);

const Instance& add_instance() {
  static const Instance instance = [] {
    auto sb = Sandbox::from_file(std::string(GUEST_DIR) + "/add.wasm");
    if (!sb.ok()) std::abort();
    return sb.instance();
  }();
  return instance;
}

void BM_WasmCallTyped(benchmark::State& state) {
  const Instance& instance = add_instance();
  int32_t x = 0;
  for (auto _ : state) x = *instance.call<int32_t>("add", x, 1);
  benchmark::DoNotOptimize(x);
}
BENCHMARK(BM_WasmCallTyped);

void BM_WasmCallFuncHandle(benchmark::State& state) {
  Func add = *add_instance().func("add");
  Value args[2] = {Value::i32(0), Value::i32(1)};
  for (auto _ : state) {
    auto r = add.call(args);
    args[0] = (*r)[0];
  }
  benchmark::DoNotOptimize(args[0]);
}
BENCHMARK(BM_WasmCallFuncHandle);

// The fastest path: a TypedFunc, checked once, called with C++ values.
void BM_WasmCallTypedFunc(benchmark::State& state) {
  auto add = add_instance().typed<int32_t(int32_t, int32_t)>("add");
  if (!add) std::abort();
  int32_t x = 0;
  for (auto _ : state) x = *add->call(x, 1);
  benchmark::DoNotOptimize(x);
}
BENCHMARK(BM_WasmCallTypedFunc);

// The same call with a timeout: each call registers a deadline with the watchdog and drops it.
void BM_WasmCallWithTimeout(benchmark::State& state) {
  Engine engine;
  auto instance = engine.load_file(std::string(GUEST_DIR) + "/add.wasm")->instantiate();
  if (!instance || !instance->set_timeout(std::chrono::seconds(1)).ok()) std::abort();
  Func add = *instance->func("add");
  Value args[2] = {Value::i32(0), Value::i32(1)};
  for (auto _ : state) {
    auto r = add.call(args);
    args[0] = (*r)[0];
  }
  benchmark::DoNotOptimize(args[0]);
}
BENCHMARK(BM_WasmCallWithTimeout);

}  // namespace
