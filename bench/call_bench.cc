// Host -> wasm call overhead next to a plain C function call, in one run.
#include <benchmark/benchmark.h>

#include <vector>

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

// The counter `ns_per_call`: the time per call of a benchmark making `calls` per iteration.
void report_per_call(benchmark::State& state, size_t calls) {
  state.counters["ns_per_call"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(calls),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

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

// call_batch: 1,000 calls of `add` per batch, each with its own arguments and result; the
// counter is the time per call.
void BM_WasmCallBatch(benchmark::State& state) {
  constexpr size_t kCalls = 1000;
  std::vector<std::vector<Value>> sets(kCalls, {Value::i32(1), Value::i32(2)});
  for (auto _ : state) benchmark::DoNotOptimize(add_instance().call_batch("add", sets));
  report_per_call(state, kCalls);
}
BENCHMARK(BM_WasmCallBatch);

// TypedFunc::call_batch: the same 1,000 calls with no allocation per call.
void BM_WasmCallTypedBatch(benchmark::State& state) {
  constexpr size_t kCalls = 1000;
  auto add = add_instance().typed<int32_t(int32_t, int32_t)>("add");
  if (!add) std::abort();
  std::vector<std::tuple<int32_t, int32_t>> sets(kCalls, {1, 2});
  for (auto _ : state) benchmark::DoNotOptimize(add->call_batch(sets));
  report_per_call(state, kCalls);
}
BENCHMARK(BM_WasmCallTypedBatch);

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

// wasm -> host: a guest loop calling an imported host function (Func::wrap) n times, next
// to the same loop calling a guest function through a table (which the C compiler cannot
// inline). Both on optimized
// code; the time per iteration is what one call costs.
constexpr std::string_view kHostLoop = R"((module
  (import "host" "add" (func $host_add (param i32 i32) (result i32)))
  (import "host" "add_generic" (func $host_add_generic (param i32 i32) (result i32)))
  (global $slot (mut i32) (i32.const 0))
  (type $binary (func (param i32 i32) (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $guest_add)
  (func $guest_add (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "call_host") (param $n i32) (result i32) (local $x i32)
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $x (call $host_add (local.get $x) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))
    (local.get $x))
  (func (export "call_host_generic") (param $n i32) (result i32) (local $x i32)
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $x (call $host_add_generic (local.get $x) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))
    (local.get $x))
  (func (export "call_guest") (param $n i32) (result i32) (local $x i32)
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $x
        (call_indirect (type $binary) (local.get $x) (i32.const 1) (global.get $slot)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))
    (local.get $x)))
)";

const Instance& host_loop_instance() {
  static const Instance instance = [] {
    EngineConfig config;
    config.tier = Tier::Optimized;
    static Engine engine(config);
    auto module = engine.load_wat(kHostLoop, "host_loop.wat");
    if (!module) std::abort();
    Imports imports;
    // noinline: a real host function does work of its own; this one keeps its call.
    imports.add("host", "add", Func::wrap([](int32_t a, int32_t b) { return native_add(a, b); }));
    // The same through the generic path (Values and a std::function), as Func::host makes.
    imports.add("host", "add_generic",
                Func::host(FuncType{{ValType::I32, ValType::I32}, {ValType::I32}},
                           [](Caller&, std::span<const Value> args, std::span<Value> results) {
                             results[0] = Value::i32(native_add(args[0].i32(), args[1].i32()));
                             return Status();
                           }));
    auto instance = module->instantiate(imports);
    if (!instance) std::abort();
    return std::move(instance).value();
  }();
  return instance;
}

void loop_bench(benchmark::State& state, const char* export_name) {
  constexpr int32_t kCalls = 10000;
  auto loop = host_loop_instance().typed<int32_t(int32_t)>(export_name);
  if (!loop) std::abort();
  for (auto _ : state) benchmark::DoNotOptimize(*loop->call(kCalls));
  state.SetItemsProcessed(state.iterations() * kCalls);
  report_per_call(state, kCalls);
}
void BM_GuestCallsHost(benchmark::State& state) { loop_bench(state, "call_host"); }
BENCHMARK(BM_GuestCallsHost);
void BM_GuestCallsHostGeneric(benchmark::State& state) { loop_bench(state, "call_host_generic"); }
BENCHMARK(BM_GuestCallsHostGeneric);
void BM_GuestCallsGuest(benchmark::State& state) { loop_bench(state, "call_guest"); }
BENCHMARK(BM_GuestCallsGuest);

// wasm -> host calls that read the guest's memory: a host function that takes its caller's
// memory (Caller::memory(), or Caller::memory("memory") by name) and sums 16 bytes at a
// pointer, and WASI's clock_time_get (a virtual clock: no system call), which writes 8 bytes
// through the caller's memory. The time per iteration is one call; next to BM_GuestCallsHost,
// the difference is what the memory access costs.
constexpr std::string_view kMemoryLoop = R"((module
  (import "host" "sum16" (func $sum16 (param i32) (result i32)))
  (import "host" "sum16_named" (func $sum16_named (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock_time_get (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10")
  (func (export "sum_memory") (param $n i32) (result i32) (local $x i32)
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $x (i32.add (local.get $x) (call $sum16 (i32.const 64))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))
    (local.get $x))
  (func (export "sum_memory_named") (param $n i32) (result i32) (local $x i32)
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $x (i32.add (local.get $x) (call $sum16_named (i32.const 64))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))
    (local.get $x))
  (func (export "clock") (param $n i32) (result i32) (local $x i32)
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $x (i32.add (local.get $x)
        (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 128))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))
    (local.get $x)))
)";

const Instance& memory_loop_instance() {
  static const Instance instance = [] {
    EngineConfig config;
    config.tier = Tier::Optimized;
    static Engine engine(config);
    auto module = engine.load_wat(kMemoryLoop, "memory_loop.wat");
    if (!module) std::abort();
    static const Wasi wasi = *Wasi::create(WasiConfig());  // a virtual clock
    Imports imports;
    wasi.add_to(imports);
    auto sum16 = [](const Result<Memory>& memory, uint32_t ptr) -> Result<int32_t> {
      if (!memory) return memory.error();
      auto bytes = memory->view(ptr, 16);
      if (!bytes) return std::move(bytes).error();
      int32_t sum = 0;
      for (uint8_t byte : *bytes) sum += byte;
      return sum;
    };
    imports.add("host", "sum16", Func::wrap([sum16](Caller& caller, uint32_t ptr) {
                  return sum16(caller.memory(), ptr);
                }));
    imports.add("host", "sum16_named", Func::wrap([sum16](Caller& caller, uint32_t ptr) {
                  return sum16(caller.memory("memory"), ptr);
                }));
    auto instance = module->instantiate(imports);
    if (!instance) std::abort();
    return std::move(instance).value();
  }();
  return instance;
}

// `one` is what one call returns: 136 (1 + 2 + ... + 16) for sum_memory, errno 0 for clock.
void memory_loop_bench(benchmark::State& state, const char* export_name, int32_t one) {
  constexpr int32_t kCalls = 10000;
  auto loop = memory_loop_instance().typed<int32_t(int32_t)>(export_name);
  if (!loop || *loop->call(1) != one) std::abort();
  for (auto _ : state) benchmark::DoNotOptimize(*loop->call(kCalls));
  state.SetItemsProcessed(state.iterations() * kCalls);
  report_per_call(state, kCalls);
}
void BM_GuestCallsHostMemory(benchmark::State& state) {
  memory_loop_bench(state, "sum_memory", 136);
}
BENCHMARK(BM_GuestCallsHostMemory);
void BM_GuestCallsHostMemoryNamed(benchmark::State& state) {
  memory_loop_bench(state, "sum_memory_named", 136);
}
BENCHMARK(BM_GuestCallsHostMemoryNamed);
void BM_GuestCallsWasiClock(benchmark::State& state) { memory_loop_bench(state, "clock", 0); }
BENCHMARK(BM_GuestCallsWasiClock);

}  // namespace
