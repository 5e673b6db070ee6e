// Fuel: a deterministic budget. The cost model (engine/instrument.h) charges one unit per
// instruction of each straight-line segment entered; these tests pin it down exactly.
#include <gtest/gtest.h>

#include "test_util.h"
#include "wasm_sandbox/wasm_sandbox.h"

namespace wasm_sandbox {
namespace {

using testing::load_wat;

Engine fuel_engine(uint64_t fuel) {
  EngineConfig config;
  config.fuel = true;
  config.limits.fuel = fuel;
  return Engine(config);
}

// count(n): loops n times, adding to a global as it goes; `steps` exports the global so a
// run stopped by fuel shows how far it got.
constexpr std::string_view kCounter = R"(
  (module
    (global $steps (export "steps") (mut i32) (i32.const 0))
    (func (export "three") (result i32) (i32.add (i32.const 1) (i32.const 2)))
    (func (export "count") (param $n i32) (result i32)
      (block $done
        (loop $next
          (br_if $done (i32.eqz (local.get $n)))
          (if (i32.and (local.get $n) (i32.const 1))
            (then (global.set $steps (i32.add (global.get $steps) (i32.const 1))))
            (else (global.set $steps (i32.add (global.get $steps) (i32.const 2)))))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $next)))
      (global.get $steps)))
)";

TEST(FuelTest, ChargesOneUnitPerInstruction) {
  Engine engine = fuel_engine(1000);
  auto instance = load_wat(engine, kCounter).instantiate();
  ASSERT_TRUE(instance.ok());
  EXPECT_EQ(instance->fuel(), 1000u);
  ASSERT_EQ(instance->call<int32_t>("three").value(), 3);
  // i32.const, i32.const, i32.add
  EXPECT_EQ(instance->fuel_consumed(), 3u);
  EXPECT_EQ(instance->fuel(), 997u);
}

TEST(FuelTest, CostGrowsByTheSameAmountPerIteration) {
  Engine engine = fuel_engine(1'000'000);
  Module module = load_wat(engine, kCounter);
  auto cost = [&](int32_t n) {
    auto instance = module.instantiate();
    EXPECT_TRUE(instance->call<int32_t>("count", n).ok());
    return instance->fuel_consumed();
  };
  const uint64_t c10 = cost(10), c20 = cost(20), c30 = cost(30);
  EXPECT_GT(c20, c10);
  EXPECT_EQ(c30 - c20, c20 - c10);
  // Per iteration: the loop's first segment up to and including the `if` (7), one arm (4),
  // the rest up to `br` (5).
  EXPECT_EQ(c20 - c10, 10u * 16u);
}

TEST(FuelTest, CodeWithoutLoopsIsChargedItsLongestPathUpFront) {
  Engine engine = fuel_engine(1000);
  Module module = load_wat(engine, R"((module (func (export "f") (param i32) (result i32)
      (if (local.get 0) (then (nop) (nop) (nop)) (else (nop)))
      (i32.const 7))))");
  auto cost = [&](int32_t arg) {
    auto instance = module.instantiate();
    EXPECT_EQ(instance->call<int32_t>("f", arg).value(), 7);
    return instance->fuel_consumed();
  };
  // local.get, if (1 + the longer arm's 3), i32.const
  EXPECT_EQ(cost(1), 6u);
  EXPECT_EQ(cost(0), 6u);
}

TEST(FuelTest, RunningOutStopsAtTheSamePointEveryTime) {
  Engine engine = fuel_engine(5'000);
  Module module = load_wat(engine, kCounter);
  int32_t first_steps = -1;
  for (int run = 0; run < 3; ++run) {
    auto instance = module.instantiate();
    auto result = instance->call<int32_t>("count", 1'000'000);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind(), ErrorKind::Trap);
    EXPECT_EQ(result.error().trap(), TrapKind::OutOfFuel);
    EXPECT_NE(result.error().message().find("Limits::fuel"), std::string::npos)
        << result.error().message();
    const int32_t steps = instance->global("steps")->get().i32();
    if (run == 0) first_steps = steps;
    EXPECT_EQ(steps, first_steps);
    EXPECT_EQ(instance->fuel(), 0u);
    EXPECT_EQ(instance->fuel_consumed(), 5'000u);
  }
  EXPECT_GT(first_steps, 0);
  // A separate engine with the same settings stops at the same point too.
  Engine other = fuel_engine(5'000);
  auto instance = load_wat(other, kCounter).instantiate();
  EXPECT_FALSE(instance->call<int32_t>("count", 1'000'000).ok());
  EXPECT_EQ(instance->global("steps")->get().i32(), first_steps);
}

TEST(FuelTest, FuelCanBeAddedBetweenCallsAndTheInstanceGoesOn) {
  Engine engine = fuel_engine(100);
  auto instance = load_wat(engine, kCounter).instantiate();
  ASSERT_FALSE(instance->call<int32_t>("count", 1000).ok());
  EXPECT_EQ(instance->call<int32_t>("three").error().trap(), TrapKind::OutOfFuel);
  ASSERT_TRUE(instance->add_fuel(1'000'000).ok());
  EXPECT_EQ(instance->fuel(), 1'000'000u);
  EXPECT_EQ(instance->call<int32_t>("three").value(), 3);
  EXPECT_EQ(instance->fuel_consumed(), 100u + 3u);
  ASSERT_TRUE(instance->set_fuel(7).ok());
  EXPECT_EQ(instance->fuel(), 7u);
  EXPECT_EQ(instance->fuel_consumed(), 103u);
}

TEST(FuelTest, StartFunctionIsMeteredToo) {
  Engine engine = fuel_engine(50);
  Module module = load_wat(engine, R"((module (func $s (loop $l (br $l))) (start $s)))");
  auto instance = module.instantiate();
  ASSERT_FALSE(instance.ok());
  EXPECT_EQ(instance.error().trap(), TrapKind::OutOfFuel);
  Limits more = engine.config().limits;
  more.fuel = 10;
  auto again = module.instantiate({}, more);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message().find("all 10 units are spent"), std::string::npos)
      << again.error().message();
}

TEST(FuelTest, WithoutMeteringFuelCallsAreRefused) {
  Engine engine;
  auto instance = load_wat(engine, kCounter).instantiate();
  EXPECT_EQ(instance->fuel(), 0u);
  EXPECT_EQ(instance->set_fuel(10).error().kind(), ErrorKind::InvalidArgument);
  EXPECT_EQ(instance->add_fuel(10).error().kind(), ErrorKind::InvalidArgument);
  EXPECT_EQ(instance->call<int32_t>("count", 1000).value(), 1500);
}

}  // namespace
}  // namespace wasm_sandbox
