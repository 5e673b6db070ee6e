// The optimized tier and live tier-up: an instance moves from baseline to optimized code
// between two calls and keeps its memory, globals and tables; funcrefs it stores follow it.
#include <gtest/gtest.h>

#include <bit>
#include <chrono>
#include <thread>

#include "guests/kernels.h"
#include "test_util.h"
#include "wasm_sandbox/wasm_sandbox.h"

namespace wasm_sandbox {
namespace {

using testing::load_wat;

// A counter in a global and in memory; a table of functions, filled by an element segment
// and by table.set from a funcref global; a host import.
constexpr std::string_view kStateful = R"((module
  (import "host" "twice" (func $twice (param i32) (result i32)))
  (memory (export "memory") 1)
  (global $count (mut i32) (i32.const 0))
  (global $third (mut funcref) (ref.func $three))
  (table (export "fns") 4 funcref)
  (elem (i32.const 0) $one $two)
  (elem declare func $three $twice_of_count)
  (func $one (result i32) (i32.const 1))
  (func $two (result i32) (i32.const 2))
  (func $three (result i32) (i32.const 3))
  (func (export "install") (table.set 0 (i32.const 2) (global.get $third))
                           (table.set 0 (i32.const 3) (ref.func $twice_of_count)))
  (func $twice_of_count (result i32) (call $twice (global.get $count)))
  (func (export "dispatch") (param i32) (result i32)
    (call_indirect (result i32) (local.get 0)))
  (func (export "tick") (result i32)
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (i32.store (i32.const 64) (i32.add (i32.load (i32.const 64)) (i32.const 10)))
    (i32.add (global.get $count) (i32.load (i32.const 64)))))
)";

Imports host_imports() {
  Imports imports;
  imports.add("host", "twice", Func::wrap([](int32_t x) { return 2 * x; }));
  return imports;
}

EngineConfig auto_config(uint64_t hot_calls) {
  EngineConfig config;
  config.tier = Tier::Auto;
  config.optimizer.hot_calls = hot_calls;
  config.optimizer.hot_time = std::chrono::hours(1);
  config.cache.disk = false;  // each test compiles: none finds another's artifact
  return config;
}

TEST(TierTest, OptimizedTierComputesWhatNativeCodeDoes) {
  for (bool fuel : {false, true}) {
    EngineConfig config;
    config.tier = Tier::Optimized;
    config.fuel = fuel;
    Engine engine(config);
    auto module = engine.load_file(testing::guest("kernels.wasm"));
    ASSERT_TRUE(module.ok()) << module.error().message();
    EXPECT_EQ(module->tier(), Tier::Optimized);
    auto instance = module->instantiate();
    ASSERT_TRUE(instance.ok()) << instance.error().message();
    EXPECT_EQ(instance->tier(), Tier::Optimized);
    EXPECT_EQ(*instance->call<int32_t>("run_fib", 20), run_fib(20));
    EXPECT_EQ(*instance->call<int32_t>("run_sort", 10'000), run_sort(10'000));
    EXPECT_EQ(*instance->call<double>("run_nbody", 1'000), run_nbody(1'000));
    EXPECT_EQ(*instance->call<int32_t>("run_interp", 10'000), run_interp(10'000));
    EXPECT_EQ(static_cast<uint32_t>(*instance->call<int32_t>("run_parse", 2'000)),
              run_parse(2'000));
  }
}

TEST(TierTest, TrapsAndLimitsWorkOnOptimizedCode) {
  EngineConfig config;
  config.tier = Tier::Optimized;
  config.fuel = true;
  config.limits.fuel = 100'000'000;
  Engine engine(config);
  Module module = load_wat(engine, R"((module (memory 1)
    (func (export "oob") (result i32) (i32.load (i32.const 70000)))
    (func $deep (export "deep") (param i32) (result i32)
      (i32.div_u (call $deep (i32.add (local.get 0) (i32.const 1))) (i32.const 3)))
    (func (export "spin") (loop (br 0)))))");
  auto instance = module.instantiate();
  ASSERT_TRUE(instance.ok()) << instance.error().message();
  auto oob = instance->call<int32_t>("oob");
  ASSERT_FALSE(oob.ok());
  EXPECT_EQ(oob.error().trap(), TrapKind::OutOfBounds);
  auto deep = instance->call<int32_t>("deep", 1);
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().trap(), TrapKind::StackExhausted);
  auto spin = instance->call("spin");
  ASSERT_FALSE(spin.ok());
  EXPECT_EQ(spin.error().trap(), TrapKind::OutOfFuel);
}

// Regression, differential test seed 862 (optimized tier): a NaN that f64.min made was stored
// and hashed, and the hash differed from V8's. wasm2c's FMIN/FMAX return C's NAN for a NaN
// operand, +NaN under gcc (__builtin_nanf) and -NaN under tcc (0.0f / 0.0f, x86's default NaN,
// which V8 returns too). Wasm leaves the sign open, but the tiers must agree, or tiering up
// changes what a module computes: both give V8's bits, whatever the operand's sign and payload,
// constant or not.
constexpr std::string_view kMinMaxOfNaN = R"((module
  (memory 1)
  (global $nan (mut f64) (f64.const -nan:0xfffffffffffa6))
  (func (export "f64_min_stored") (result i64)
    (f64.store offset=4 (i32.const 0) (f64.min (global.get $nan) (f64.const 64553)))
    (i64.load offset=4 (i32.const 0)))
  (func (export "f64_min_const") (result i64)
    (i64.reinterpret_f64 (f64.min (f64.const 1) (f64.const nan:0x1234))))
  (func (export "f64_max") (param f64) (result i64)
    (i64.reinterpret_f64 (f64.max (local.get 0) (f64.const 1))))
  (func (export "f32_min") (param f32) (result i32)
    (i32.reinterpret_f32 (f32.min (f32.const 1) (local.get 0))))
  (func (export "f32_max_const") (result i32)
    (i32.reinterpret_f32 (f32.max (f32.const -nan) (f32.const 1)))))
)";

TEST(TierTest, MinAndMaxOfNaNGiveV8sBitsOnEveryTier) {
  constexpr uint64_t kF64 = 0xfff8000000000000;  // V8 on x86-64, all cases
  constexpr uint32_t kF32 = 0xffc00000;
  for (Tier tier : {Tier::Baseline, Tier::Optimized}) {
    SCOPED_TRACE(to_string(tier));
    EngineConfig config;
    config.tier = tier;
    config.cache.disk = false;
    Engine engine(config);
    Module module = load_wat(engine, kMinMaxOfNaN);
    ASSERT_EQ(module.tier(), tier);
    auto instance = module.instantiate();
    ASSERT_TRUE(instance.ok()) << instance.error().message();
    EXPECT_EQ(uint64_t(*instance->call<int64_t>("f64_min_stored")), kF64);
    EXPECT_EQ(uint64_t(*instance->call<int64_t>("f64_min_const")), kF64);
    EXPECT_EQ(uint64_t(*instance->call<int64_t>(
                  "f64_max", std::bit_cast<double>(uint64_t{0x7ff8000000001234}))),
              kF64);
    EXPECT_EQ(uint32_t(*instance->call<int32_t>("f32_min", std::bit_cast<float>(0x7fc00001u))),
              kF32);
    EXPECT_EQ(uint32_t(*instance->call<int32_t>("f32_max_const")), kF32);
  }
}

TEST(TierTest, StatefulInstanceKeepsCountingAcrossTierUp) {
  Engine engine(auto_config(1'000'000));
  Module module = load_wat(engine, kStateful);
  auto instance = module.instantiate(host_imports());
  ASSERT_TRUE(instance.ok()) << instance.error().message();
  ASSERT_TRUE(instance->call("install").ok());
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(*instance->call<int32_t>("tick"), i + 10 * i);
  EXPECT_EQ(instance->tier(), Tier::Baseline);

  ASSERT_TRUE(module.optimize().ok());
  EXPECT_EQ(module.tier(), Tier::Optimized);
  EXPECT_EQ(instance->tier(), Tier::Baseline);  // until its next call
  for (int i = 4; i <= 6; ++i) EXPECT_EQ(*instance->call<int32_t>("tick"), i + 10 * i);
  EXPECT_EQ(instance->tier(), Tier::Optimized);
  auto memory = instance->memory();
  ASSERT_TRUE(memory.ok());
  EXPECT_EQ(memory->data()[64], 60);
}

TEST(TierTest, FunctionsInTablesAreRemappedAndStillRight) {
  Engine engine(auto_config(1'000'000));
  Module module = load_wat(engine, kStateful);
  auto instance = module.instantiate(host_imports());
  ASSERT_TRUE(instance.ok()) << instance.error().message();
  ASSERT_TRUE(instance->call("install").ok());
  ASSERT_TRUE(instance->call<int32_t>("tick").ok());  // count = 1
  auto table = instance->table("fns");
  ASSERT_TRUE(table.ok());
  const FuncRef before = table->get(0)->funcref();

  ASSERT_TRUE(module.optimize().ok());
  EXPECT_EQ(*instance->call<int32_t>("dispatch", 0), 1);  // the first call moves the instance
  EXPECT_EQ(*instance->call<int32_t>("dispatch", 1), 2);
  EXPECT_EQ(*instance->call<int32_t>("dispatch", 2), 3);
  EXPECT_EQ(*instance->call<int32_t>("dispatch", 3), 2);  // through the host import
  const FuncRef after = table->get(0)->funcref();
  EXPECT_NE(before.code, after.code) << "the table entry still points to baseline code";
  EXPECT_EQ(before.type_id, after.type_id);
  EXPECT_EQ(before.context, after.context);
}

TEST(TierTest, InstancesCreatedAfterTierUpStartOptimized) {
  Engine engine(auto_config(1'000'000));
  Module module = load_wat(engine, kStateful);
  ASSERT_TRUE(module.optimize().ok());
  auto instance = module.instantiate(host_imports());
  ASSERT_TRUE(instance.ok()) << instance.error().message();
  EXPECT_EQ(instance->tier(), Tier::Optimized);
  ASSERT_TRUE(instance->call("install").ok());
  EXPECT_EQ(*instance->call<int32_t>("dispatch", 3), 0);
}

TEST(TierTest, AutoTierCompilesAHotModuleInTheBackground) {
  Engine engine(auto_config(5));
  Module module = load_wat(engine, kStateful);
  auto instance = module.instantiate(host_imports());
  ASSERT_TRUE(instance.ok()) << instance.error().message();
  int expected = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (instance->tier() != Tier::Optimized && std::chrono::steady_clock::now() < give_up) {
    ++expected;
    ASSERT_EQ(*instance->call<int32_t>("tick"), expected + 10 * expected);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(instance->tier(), Tier::Optimized);
  EXPECT_GE(expected, 5);
}

TEST(TierTest, ALongCallMakesItsModuleHotWhileItRuns) {
  EngineConfig config = auto_config(1'000'000);
  config.optimizer.hot_time = std::chrono::milliseconds(20);
  Engine engine(config);
  Module module = load_wat(engine, R"((module
    (func (export "count") (param i32) (result i32) (local i32)
      (loop (local.set 1 (i32.add (local.get 1) (i32.const 1)))
            (br_if 0 (i32.lt_u (local.get 1) (local.get 0))))
      (local.get 1))))");
  auto instance = module.instantiate();
  ASSERT_TRUE(instance.ok());
  // One call, long enough on baseline code for the compile to start while it runs (as a
  // WASI program's single _start would); no call after it is needed.
  ASSERT_EQ(*instance->call<int32_t>("count", 400'000'000), 400'000'000);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (module.tier() != Tier::Optimized && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(module.tier(), Tier::Optimized);
}

TEST(TierTest, FuelCarriesOverTheSwitch) {
  EngineConfig config = auto_config(1'000'000);
  config.fuel = true;
  config.limits.fuel = 10'000;
  Engine engine(config);
  Module module = load_wat(engine, R"((module
    (func (export "work") (param i32) (local i32)
      (loop (local.set 1 (i32.add (local.get 1) (i32.const 1)))
            (br_if 0 (i32.lt_u (local.get 1) (local.get 0)))))))");
  auto baseline = module.instantiate();
  ASSERT_TRUE(baseline.ok());
  ASSERT_TRUE(baseline->call("work", 100).ok());
  const uint64_t per_call = baseline->fuel_consumed();
  ASSERT_TRUE(module.optimize().ok());
  ASSERT_TRUE(baseline->call("work", 100).ok());
  EXPECT_EQ(baseline->tier(), Tier::Optimized);
  EXPECT_EQ(baseline->fuel_consumed(), 2 * per_call) << "fuel must not depend on the tier";
}

TEST(TierTest, LargeModulesCompileInParallelTranslationUnits) {
  // 600 functions, each summing a different series: about 1 MB of C.
  std::string wat = "(module\n";
  for (int i = 0; i < 600; ++i) {
    wat += "(func $f" + std::to_string(i) + " (export \"f" + std::to_string(i) +
           "\") (param i32) (result i32) (local i32)"
           " (loop (local.set 1 (i32.add (local.get 1) (i32.mul (local.get 0) (i32.const " +
           std::to_string(i) +
           "))))"
           " (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))) (local.get 1))\n";
  }
  wat += ")";
  EngineConfig config;
  config.tier = Tier::Optimized;
  config.cache.disk = false;
  Engine engine(config);
  Module module = load_wat(engine, wat);
  EXPECT_GE(module.stats().translation_units, 2u) << module.stats().c_bytes << " bytes of C";
  auto instance = module.instantiate();
  ASSERT_TRUE(instance.ok()) << instance.error().message();
  for (int i : {0, 1, 299, 599}) {
    EXPECT_EQ(*instance->call<int32_t>("f" + std::to_string(i), 10), 55 * i) << i;
  }
}

TEST(TierTest, MissingCompilerIsAClearErrorAndBaselineKeepsWorking) {
  EngineConfig config = auto_config(1'000'000);
  config.optimizer.compiler = "/nonexistent/cc";
  Engine engine(config);
  Module module = load_wat(engine, kStateful);
  auto instance = module.instantiate(host_imports());
  ASSERT_TRUE(instance.ok());
  Status optimized = module.optimize();
  ASSERT_FALSE(optimized.ok());
  EXPECT_EQ(optimized.error().kind(), ErrorKind::NotFound);
  EXPECT_NE(optimized.error().message().find("/nonexistent/cc"), std::string::npos)
      << optimized.error().message();
  EXPECT_EQ(*instance->call<int32_t>("tick"), 11);
  EXPECT_EQ(instance->tier(), Tier::Baseline);

  config.tier = Tier::Optimized;
  auto direct = Engine(config).load_wat(kStateful, "stateful.wat");
  ASSERT_FALSE(direct.ok());
  EXPECT_NE(direct.error().message().find("stateful.wat"), std::string::npos);
}

}  // namespace
}  // namespace wasm_sandbox
