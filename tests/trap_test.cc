// Traps of every kind are error values; the instance stays usable; faults that are not the
// guest's reach the host's own handler.
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>

#include "test_util.h"

namespace wasm_sandbox {
namespace {

using testing::load_wat;

constexpr std::string_view kTraps = R"((module
  (memory (export "memory") 1 1)
  (table 2 funcref)
  (type $v (func))
  (func $ok (export "ok") (result i32) i32.const 5)
  (func (export "unreachable") unreachable)
  (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func (export "trunc") (param f64) (result i32) local.get 0 i32.trunc_f64_s)
  (func (export "load") (param i32) (result i64) local.get 0 i64.load offset=4)
  (func (export "store") (param i32) local.get 0 i32.const 1 i32.store)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "call_null") i32.const 1 call_indirect (type $v))
  (func (export "call_wrong") i32.const 0 call_indirect (type $v))
  (func $rec (export "recurse") (param i64) (result i64)
    local.get 0 i64.const 1 i64.add call $rec)
  (elem (i32.const 0) $ok))
)";

TrapKind trap_of(const Result<std::vector<Value>>& r) {
  EXPECT_FALSE(r.ok());
  if (r.ok()) return TrapKind::None;
  EXPECT_EQ(r.error().kind(), ErrorKind::Trap) << r.error().message();
  return r.error().trap();
}

TEST(TrapTest, EveryTrapKindIsReportedAndTheInstanceStaysUsable) {
  Engine engine;
  Module module = load_wat(engine, kTraps);
  auto instance = module.instantiate();
  ASSERT_TRUE(instance.ok());
  const Instance& in = *instance;
  EXPECT_EQ(trap_of(in.call("unreachable", {})), TrapKind::Unreachable);
  EXPECT_EQ(trap_of(in.call("div", {Value::i32(1), Value::i32(0)})), TrapKind::DivideByZero);
  EXPECT_EQ(trap_of(in.call("div", {Value::i32(INT32_MIN), Value::i32(-1)})),
            TrapKind::IntegerOverflow);
  EXPECT_EQ(trap_of(in.call("trunc", {Value::f64(NAN)})), TrapKind::InvalidConversion);
  EXPECT_EQ(trap_of(in.call("trunc", {Value::f64(1e20)})), TrapKind::IntegerOverflow);
  EXPECT_EQ(trap_of(in.call("load", {Value::i32(65536 - 8)})), TrapKind::OutOfBounds);
  EXPECT_EQ(trap_of(in.call("load", {Value::i32(-1)})), TrapKind::OutOfBounds);
  EXPECT_EQ(trap_of(in.call("store", {Value::i32(65534)})), TrapKind::OutOfBounds);
  EXPECT_EQ(trap_of(in.call("call_null", {})), TrapKind::IndirectCall);
  EXPECT_EQ(trap_of(in.call("call_wrong", {})), TrapKind::IndirectCall);
  EXPECT_EQ(trap_of(in.call("recurse", {Value::i64(0)})), TrapKind::StackExhausted);
  // Still usable, memory.grow past the maximum is -1, not a trap.
  EXPECT_EQ(*in.call<int32_t>("ok"), 5);
  EXPECT_EQ(*in.call<int32_t>("grow", 1), -1);
  EXPECT_EQ(*in.call<int64_t>("load", 0), 0);
}

TEST(TrapTest, TrapMessageNamesModuleAndFunction) {
  Engine engine;
  auto module = engine.load_wat(kTraps, "traps.wat");
  auto r = module->instantiate()->call("unreachable", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "traps.wat: `unreachable` trapped: unreachable executed");
}

TEST(TrapTest, TrapInStartFunctionFailsInstantiation) {
  Engine engine;
  Module module = load_wat(engine, "(module (func $s unreachable) (start $s))");
  auto instance = module.instantiate();
  ASSERT_FALSE(instance.ok());
  EXPECT_EQ(instance.error().kind(), ErrorKind::Trap);
  EXPECT_EQ(instance.error().trap(), TrapKind::Unreachable);
  Module oob = load_wat(engine, "(module (memory 1) (data (i32.const 65535) \"ab\"))");
  auto r = oob.instantiate();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().trap(), TrapKind::OutOfBounds);
}

// A SIGSEGV the guest did not cause reaches the handler the host installed before the engine.
void host_handler(int) { _exit(42); }

// A real fault in host code (a write to an inaccessible page; a null store would be caught
// earlier by UBSan in the sanitizer builds).
void host_fault() {
  void* page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  *static_cast<volatile int*>(page) = 1;
}

TEST(TrapDeathTest, HostFaultsChainToThePreviousHandler) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        signal(SIGSEGV, host_handler);
        Engine engine;
        auto module = engine.load_wat(kTraps);
        auto instance = module->instantiate();
        (void)instance->call("load", {Value::i32(-1)});  // a guest fault: trapped
        host_fault();                                    // the host's handler exits with 42
      },
      ::testing::ExitedWithCode(42), "");
}

TEST(TrapDeathTest, FaultInHostFunctionIsTheHostsNotAGuestTrap) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        signal(SIGSEGV, host_handler);
        Engine engine;
        auto module = engine.load_wat(R"((module (import "env" "f" (func $f))
            (func (export "run") call $f)))");
        Imports imports;
        imports.add("env", "f", Func::wrap([] { host_fault(); }));
        (void)module->instantiate(imports)->call("run", {});
      },
      ::testing::ExitedWithCode(42), "");
}

}  // namespace
}  // namespace wasm_sandbox
