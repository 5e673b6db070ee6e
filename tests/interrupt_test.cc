// Timeouts and interrupts: calls that would never end are stopped, on time, from any thread,
// and the instance stays usable.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "test_util.h"
#include "wasm_sandbox/wasm_sandbox.h"

namespace wasm_sandbox {
namespace {

using namespace std::chrono_literals;
using testing::load_wat;
using Clock = std::chrono::steady_clock;

// spin: an endless loop. explode: 2^n calls without any loop (when interrupts were polled,
// only the checks at function entries could stop it; the signal does now, see
// interrupt_signal_test.cc). answer: a quick function to show the instance still works.
constexpr std::string_view kRunaway = R"(
  (module
    (import "host" "call_other" (func $call_other))
    (global $g (export "g") (mut i32) (i32.const 0))
    (func (export "spin") (loop $l (global.set $g (i32.add (global.get $g) (i32.const 1))) (br $l)))
    (func $explode (export "explode") (param i32)
      (if (local.get 0) (then
        (call $explode (i32.sub (local.get 0) (i32.const 1)))
        (call $explode (i32.sub (local.get 0) (i32.const 1))))))
    (func (export "nested") (call $call_other))
    (func (export "answer") (result i32) (i32.const 42)))
)";

Imports runaway_imports(std::function<void()> call_other = [] {}) {
  Imports imports;
  imports.add("host", "call_other",
              Func::wrap([call_other = std::move(call_other)]() { call_other(); }));
  return imports;
}

// These tests time how fast a stop takes effect: on baseline code only, so that no
// background compile of Tier::Auto competes for the CPU while they measure.
EngineConfig baseline_config() {
  EngineConfig config;
  config.tier = Tier::Baseline;
  return config;
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

TEST(InterruptTest, TimeoutStopsAnEndlessLoopWithinTwiceTheDeadline) {
  EngineConfig config = baseline_config();
  config.limits.call_timeout = 100ms;
  Engine engine(config);
  auto instance = load_wat(engine, kRunaway).instantiate(runaway_imports());
  ASSERT_TRUE(instance.ok()) << instance.error().message();
  const auto start = Clock::now();
  auto result = instance->call("spin", {});
  const double elapsed = ms_since(start);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind(), ErrorKind::Trap);
  EXPECT_EQ(result.error().trap(), TrapKind::Timeout);
  EXPECT_GE(elapsed, 100);
  EXPECT_LE(elapsed, 2 * 100 + 10);
  EXPECT_NE(result.error().message().find("Limits::call_timeout"), std::string::npos)
      << result.error().message();
  // The instance stays usable, and the next call gets a fresh deadline.
  EXPECT_EQ(instance->call<int32_t>("answer").value(), 42);
  auto again = instance->call("spin", {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().trap(), TrapKind::Timeout);
}

TEST(InterruptTest, ManyShortCallsWithDeadlinesComeAndGo) {
  // Each call registers a deadline and drops it while the watchdog waits for the earliest
  // (found by the fuzzer: the wait must not refer to an entry a call has dropped).
  Engine engine(baseline_config());
  auto a = load_wat(engine, kRunaway).instantiate(runaway_imports());
  auto b = load_wat(engine, kRunaway).instantiate(runaway_imports());
  ASSERT_TRUE(a->set_timeout(1000ms).ok());
  ASSERT_TRUE(b->set_timeout(500ms).ok());
  std::thread other([&] {
    for (int i = 0; i < 2000; ++i) ASSERT_EQ(b->call<int32_t>("answer").value(), 42);
  });
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(a->call<int32_t>("answer").value(), 42);
  other.join();
}

TEST(InterruptTest, FunctionEntryChecksStopRecursionWithoutLoops) {
  Engine engine(baseline_config());
  auto instance = load_wat(engine, kRunaway).instantiate(runaway_imports());
  ASSERT_TRUE(instance.ok());
  ASSERT_TRUE(instance->set_timeout(50ms).ok());
  const auto start = Clock::now();
  auto result = instance->call("explode", {Value::i32(62)});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().trap(), TrapKind::Timeout);
  EXPECT_LE(ms_since(start), 2 * 50 + 10);
}

TEST(InterruptTest, InterruptFromAnotherThreadStopsTheRunningCall) {
  Engine engine(baseline_config());
  auto instance = load_wat(engine, kRunaway).instantiate(runaway_imports());
  ASSERT_TRUE(instance.ok());
  std::thread stopper([&] {
    std::this_thread::sleep_for(50ms);
    instance->interrupt();
  });
  auto result = instance->call("spin", {});
  stopper.join();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().trap(), TrapKind::Interrupted);
  // Consumed by that trap: the next call runs normally.
  EXPECT_EQ(instance->call<int32_t>("answer").value(), 42);
}

TEST(InterruptTest, InterruptWithNoCallRunningStopsTheNextCallOnce) {
  Engine engine(baseline_config());
  auto instance = load_wat(engine, kRunaway).instantiate(runaway_imports());
  ASSERT_TRUE(instance.ok());
  instance->interrupt();
  auto first = instance->call<int32_t>("answer");
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().trap(), TrapKind::Interrupted);
  EXPECT_EQ(instance->call<int32_t>("answer").value(), 42);
}

TEST(InterruptTest, InterruptAllStopsEveryRunningCallButNotLaterOnes) {
  Engine engine(baseline_config());
  Module module = load_wat(engine, kRunaway);
  auto a = module.instantiate(runaway_imports());
  auto b = module.instantiate(runaway_imports());
  auto idle = module.instantiate(runaway_imports());
  ASSERT_TRUE(a.ok() && b.ok() && idle.ok());
  Result<std::vector<Value>> result_a = Error(ErrorKind::Internal, "not run");
  Result<std::vector<Value>> result_b = Error(ErrorKind::Internal, "not run");
  std::thread ta([&] { result_a = a->call("spin", {}); });
  std::thread tb([&] { result_b = b->call("spin", {}); });
  // Both are running once their loop counters move.
  auto running = [](const Instance& i) { return i.global("g")->get().i32() != 0; };
  while (!running(*a) || !running(*b)) std::this_thread::sleep_for(1ms);
  engine.interrupt_all();
  ta.join();
  tb.join();
  ASSERT_FALSE(result_a.ok());
  ASSERT_FALSE(result_b.ok());
  EXPECT_EQ(result_a.error().trap(), TrapKind::Interrupted);
  EXPECT_EQ(result_b.error().trap(), TrapKind::Interrupted);
  EXPECT_EQ(idle->call<int32_t>("answer").value(), 42);
  EXPECT_EQ(a->call<int32_t>("answer").value(), 42);
}

TEST(InterruptTest, NestedCallsStopByTheOuterCallsDeadline) {
  Engine engine(baseline_config());
  Module module = load_wat(engine, kRunaway);
  auto inner = module.instantiate(runaway_imports());
  ASSERT_TRUE(inner.ok());
  Result<std::vector<Value>> inner_result = Error(ErrorKind::Internal, "not run");
  // The host function calls into another instance, which has no timeout of its own.
  auto outer = module.instantiate(runaway_imports([&] { inner_result = inner->call("spin", {}); }));
  ASSERT_TRUE(outer.ok());
  ASSERT_TRUE(outer->set_timeout(80ms).ok());
  const auto start = Clock::now();
  auto result = outer->call("nested", {});
  EXPECT_LE(ms_since(start), 2 * 80 + 10);
  ASSERT_FALSE(inner_result.ok());
  EXPECT_EQ(inner_result.error().trap(), TrapKind::Timeout);
  // The host function swallowed the inner error; the outer call then meets its own deadline
  // at its next check... or returns, having nothing left to run.
  if (!result.ok()) {
    EXPECT_EQ(result.error().trap(), TrapKind::Timeout);
  }
}

TEST(InterruptTest, BlockingHostFunctionsStopWhenTheyCheck) {
  Engine engine(baseline_config());
  // A host function that waits for something that never comes, checking as it should.
  Imports imports;
  imports.add("host", "call_other", Func::wrap([](Caller& caller) -> Status {
                for (;;) {
                  if (Status s = caller.check_interrupt(); !s) return s;
                  std::this_thread::sleep_for(1ms);
                }
              }));
  Module module = load_wat(engine, kRunaway);
  auto instance = module.instantiate(imports);
  ASSERT_TRUE(instance->set_timeout(50ms).ok());
  auto start = Clock::now();
  auto timed_out = instance->call("nested", {});
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.error().trap(), TrapKind::Timeout);
  EXPECT_LE(ms_since(start), 2 * 50 + 10);
  ASSERT_TRUE(instance->set_timeout(0ms).ok());
  std::thread stopper([&] {
    std::this_thread::sleep_for(30ms);
    instance->interrupt();
  });
  auto interrupted = instance->call("nested", {});
  stopper.join();
  ASSERT_FALSE(interrupted.ok());
  EXPECT_EQ(interrupted.error().trap(), TrapKind::Interrupted);
  EXPECT_EQ(instance->call<int32_t>("answer").value(), 42);
}

TEST(InterruptTest, TimeoutStopsAStartFunction) {
  EngineConfig config = baseline_config();
  config.limits.call_timeout = 50ms;
  Engine engine(config);
  Module module = load_wat(engine, R"((module (func $s (loop $l (br $l))) (start $s)))");
  const auto start = Clock::now();
  auto instance = module.instantiate();
  ASSERT_FALSE(instance.ok());
  EXPECT_EQ(instance.error().trap(), TrapKind::Timeout);
  EXPECT_LE(ms_since(start), 2 * 50 + 10);
}

TEST(InterruptTest, WithoutInterruptibleEngineTimeoutsAreRefused) {
  EngineConfig config = baseline_config();
  config.interruptible = false;
  Engine engine(config);
  Module module = load_wat(engine, kRunaway);
  auto instance = module.instantiate(runaway_imports());
  ASSERT_TRUE(instance.ok());
  EXPECT_EQ(instance->set_timeout(10ms).error().kind(), ErrorKind::InvalidArgument);
  Limits limits;
  limits.call_timeout = 10ms;
  auto refused = module.instantiate(runaway_imports(), limits);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_NE(refused.error().message().find("EngineConfig::interruptible"), std::string::npos);
  EXPECT_EQ(instance->call<int32_t>("answer").value(), 42);
}

}  // namespace
}  // namespace wasm_sandbox
