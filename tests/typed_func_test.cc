// TypedFunc: the signature checked once, calls straight into the generated function, on both
// tiers and across a tier switch; traps, exits and stops as Func::call reports them.
#include <chrono>
#include <cmath>
#include <thread>

#include "test_util.h"

namespace wasm_sandbox {
namespace {

using testing::load_wat;

constexpr std::string_view kGuest = R"((module
  (import "host" "twice" (func $twice (param i32) (result i32)))
  (global $count (mut i32) (i32.const 0))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "mix") (param i64 f32 f64 i32) (result f64)
    (f64.add (f64.add (f64.convert_i64_s (local.get 0)) (f64.promote_f32 (local.get 1)))
             (f64.add (local.get 2) (f64.convert_i32_u (local.get 3)))))
  (func (export "bump") (global.set $count (i32.add (global.get $count) (i32.const 1))))
  (func (export "count") (result i32) (global.get $count))
  (func (export "neg64") (param i64) (result i64) (i64.sub (i64.const 0) (local.get 0)))
  (func (export "f32id") (param f32) (result f32) (local.get 0))
  (func (export "pair") (param i32) (result i32 i64)
    (local.get 0) (i64.extend_i32_s (local.get 0)))
  (func (export "via_host") (param i32) (result i32) (call $twice (local.get 0)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "spin") (loop (br 0))))
)";

Imports host_imports() {
  Imports imports;
  imports.add("host", "twice", Func::wrap([](int32_t x) { return 2 * x; }));
  return imports;
}

class TypedFuncTest : public ::testing::TestWithParam<Tier> {
 protected:
  TypedFuncTest()
      : engine_(config()),
        module_(load_wat(engine_, kGuest)),
        instance_(std::move(module_.instantiate(host_imports())).value()) {}
  static EngineConfig config() { return testing::tier_config(GetParam()); }
  Engine engine_;
  Module module_;
  Instance instance_;
};

TEST_P(TypedFuncTest, CallsWithEveryValueType) {
  auto add = instance_.typed<int32_t(int32_t, int32_t)>("add");
  ASSERT_TRUE(add.ok()) << add.error().message();
  EXPECT_EQ(*add->call(5, 3), 8);
  EXPECT_EQ(*(*add)(-7, 2), -5);
  EXPECT_EQ(*add->call(INT32_MAX, 1), INT32_MIN);  // wraps, as i32.add does

  auto mix = instance_.typed<double(int64_t, float, double, uint32_t)>("mix");
  ASSERT_TRUE(mix.ok()) << mix.error().message();
  EXPECT_DOUBLE_EQ(*mix->call(int64_t{1} << 40, 0.5f, 0.25, 4000000000u),
                   static_cast<double>(int64_t{1} << 40) + 0.75 + 4000000000.0);

  auto neg = instance_.typed<uint64_t(uint64_t)>("neg64");
  ASSERT_TRUE(neg.ok());
  EXPECT_EQ(*neg->call(1), UINT64_MAX);

  auto f32 = instance_.typed<float(float)>("f32id");
  ASSERT_TRUE(f32.ok());
  EXPECT_EQ(*f32->call(-0.0f), -0.0f);
  EXPECT_TRUE(std::signbit(*f32->call(-0.0f)));
}

TEST_P(TypedFuncTest, VoidAndSeveralResults) {
  auto bump = instance_.typed<void()>("bump");
  auto count = instance_.typed<int32_t()>("count");
  ASSERT_TRUE(bump.ok() && count.ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(bump->call().ok());
  EXPECT_EQ(*count->call(), 5);

  auto pair = instance_.typed<std::tuple<int32_t, int64_t>(int32_t)>("pair");
  ASSERT_TRUE(pair.ok()) << pair.error().message();
  EXPECT_EQ(*pair->call(-3), std::make_tuple(-3, int64_t{-3}));
}

TEST_P(TypedFuncTest, SignatureIsCheckedOnceWithAClearError) {
  auto wrong = instance_.typed<int64_t(int32_t, int32_t)>("add");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_EQ(wrong.error().message(),
            "test.wat: `add` has type (i32, i32) -> (i32), not (i32, i32) -> (i64)");
  auto missing = instance_.typed<void()>("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::NotFound);
  TypedFunc<void()> null;
  EXPECT_TRUE(null.is_null());
  EXPECT_FALSE(null.call().ok());
}

TEST_P(TypedFuncTest, TrapsAreErrorsAndTheInstanceStaysUsable) {
  auto div = instance_.typed<int32_t(int32_t, int32_t)>("div");
  ASSERT_TRUE(div.ok());
  auto r = div->call(7, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().trap(), TrapKind::DivideByZero);
  EXPECT_EQ(r.error().message(), "test.wat: `div` trapped: integer divide by zero");
  EXPECT_EQ(*div->call(7, 2), 3);
  auto overflow = div->call(INT32_MIN, -1);
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.error().trap(), TrapKind::IntegerOverflow);
}

TEST_P(TypedFuncTest, GuestsCallingTheHostAndTimeouts) {
  auto via_host = instance_.typed<int32_t(int32_t)>("via_host");
  ASSERT_TRUE(via_host.ok());
  EXPECT_EQ(*via_host->call(21), 42);

  ASSERT_TRUE(instance_.set_timeout(std::chrono::milliseconds(30)).ok());
  auto spin = instance_.typed<void()>("spin");
  ASSERT_TRUE(spin.ok());
  auto r = spin->call();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().trap(), TrapKind::Timeout);
  EXPECT_EQ(*via_host->call(1), 2);
}

TEST_P(TypedFuncTest, InterruptFromAnotherThread) {
  auto spin = instance_.typed<void()>("spin");
  ASSERT_TRUE(spin.ok());
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    instance_.interrupt();
  });
  auto r = spin->call();
  stopper.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().trap(), TrapKind::Interrupted);
}

// Integer signatures go straight into registers (run_direct_registers(); a nested call, or
// the first on a thread, through runtime::call_in_registers()): every argument register,
// both widths, and the upper half of an i32 result never leaking into the value.
TEST(TypedFuncRegistersTest, FiveIntegersNestedCallsAndNarrowResults) {
  for (Tier tier : {Tier::Baseline, Tier::Optimized}) {
    SCOPED_TRACE(to_string(tier));
    Engine engine(testing::tier_config(tier));
    Module module = load_wat(engine, R"((module
      (import "host" "reenter" (func $reenter (param i64) (result i64)))
      (func (export "five") (param i32 i64 i32 i64 i32) (result i64)
        (i64.add (i64.add (i64.extend_i32_u (local.get 0)) (local.get 1))
                 (i64.add (i64.add (i64.extend_i32_s (local.get 2)) (local.get 3))
                          (i64.mul (i64.extend_i32_u (local.get 4)) (i64.const 1000)))))
      (func (export "low") (param i64) (result i32) (i32.wrap_i64 (local.get 0)))
      (func (export "outer") (param i64) (result i64)
        (i64.add (call $reenter (local.get 0)) (i64.const 1)))
      (func (export "inner") (param i64) (result i64) (i64.mul (local.get 0) (i64.const 3)))))");
    // The host function calls back into the instance with a typed handle: a nested call.
    TypedFunc<int64_t(int64_t)> inner;
    Imports imports;
    imports.add("host", "reenter", Func::wrap([&inner](int64_t x) -> int64_t {
                  auto r = inner.call(x);
                  return r.ok() ? *r : -1;
                }));
    auto instance = module.instantiate(imports);
    ASSERT_TRUE(instance.ok()) << instance.error().message();
    inner = std::move(instance->typed<int64_t(int64_t)>("inner")).value();

    auto five = instance->typed<int64_t(uint32_t, int64_t, int32_t, int64_t, uint32_t)>("five");
    ASSERT_TRUE(five.ok()) << five.error().message();
    EXPECT_EQ(*five->call(4000000000u, int64_t{1} << 40, -5, -(int64_t{1} << 35), 7),
              4000000000ll + (int64_t{1} << 40) - 5 - (int64_t{1} << 35) + 7000);
    auto low = instance->typed<int32_t(int64_t)>("low");
    ASSERT_TRUE(low.ok());
    EXPECT_EQ(*low->call(int64_t{0x7fffffff00000005}), 5);
    EXPECT_EQ(*low->call(int64_t{-1}), -1);
    auto outer = instance->typed<int64_t(int64_t)>("outer");
    ASSERT_TRUE(outer.ok());
    EXPECT_EQ(*outer->call(14), 43);
    // Called from another thread: its first guarded call takes the fallback path.
    int64_t from_thread = 0;
    std::thread([&] { from_thread = *five->call(1, 2, 3, 4, 5); }).join();
    EXPECT_EQ(from_thread, 1 + 2 + 3 + 4 + 5000);
  }
}

INSTANTIATE_TEST_SUITE_P(Tiers, TypedFuncTest, testing::both_tiers(), testing::tier_name);

// Host functions have no generated code: a typed handle calls them through Func::call.
TEST(TypedFuncHostTest, HostFunctionsAreCalledToo) {
  Func twice = Func::wrap([](int32_t x) { return 2 * x; });
  auto typed = twice.typed<int32_t(int32_t)>();
  ASSERT_TRUE(typed.ok()) << typed.error().message();
  EXPECT_EQ(*typed->call(4), 8);
  auto wrong = twice.typed<int32_t(int64_t)>();
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().message(),
            "host function (i32) -> (i32) has type (i32) -> (i32), not (i64) -> (i32)");
}

TEST(TypedFuncFuelTest, MeteredCallsRunOutOfFuel) {
  EngineConfig config;
  config.tier = Tier::Baseline;
  config.fuel = true;
  config.limits.fuel = 1000;
  Engine engine(config);
  Module module = load_wat(engine, kGuest);
  auto instance = module.instantiate(host_imports());
  ASSERT_TRUE(instance.ok());
  auto spin = instance->typed<void()>("spin");
  ASSERT_TRUE(spin.ok());
  auto r = spin->call();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().trap(), TrapKind::OutOfFuel);
  EXPECT_EQ(instance->fuel(), 0u);
}

// A typed handle made on baseline code keeps working when its instance moves to optimized
// code, with the state the guest kept.
TEST(TypedFuncTierTest, KeepsCallingAcrossATierSwitch) {
  EngineConfig config;
  config.tier = Tier::Auto;
  config.cache.disk = false;
  config.optimizer.hot_calls = 50;
  Engine engine(config);
  Module module = load_wat(engine, kGuest);
  auto instance = module.instantiate(host_imports());
  ASSERT_TRUE(instance.ok());
  auto bump = instance->typed<void()>("bump");
  auto count = instance->typed<int32_t()>("count");
  ASSERT_TRUE(bump.ok() && count.ok());
  EXPECT_EQ(instance->tier(), Tier::Baseline);
  int calls = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (instance->tier() != Tier::Optimized && std::chrono::steady_clock::now() < give_up) {
    ASSERT_TRUE(bump->call().ok());
    ++calls;
    if (calls > 100) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(instance->tier(), Tier::Optimized);
  EXPECT_EQ(*count->call(), calls);
}

}  // namespace
}  // namespace wasm_sandbox
