// Host functions: typed and dynamic, errors becoming traps, access to the caller's memory,
// and guest -> host -> guest reentry.
#include "test_util.h"

namespace wasm_sandbox {
namespace {

using testing::load_wat;

constexpr std::string_view kCallsHost = R"((module
  (import "env" "twice" (func $twice (param i32) (result i32)))
  (import "env" "pair" (func $pair (param f64) (result f64 i64)))
  (memory (export "memory") 1)
  (func (export "run") (param i32) (result i32) local.get 0 call $twice i32.const 1 i32.add)
  (func (export "run_pair") (param f64) (result f64 i64) local.get 0 call $pair))
)";

TEST(HostTest, TypedHostFunctionsAreCalledWithConvertedArguments) {
  Engine engine;
  Module module = load_wat(engine, kCallsHost);
  int calls = 0;
  Imports imports;
  imports.add("env", "twice", Func::wrap([&calls](int32_t x) {
                ++calls;
                return x * 2;
              }));
  imports.add("env", "pair", Func::wrap([](double x) { return std::tuple{x + 1, int64_t{-3}}; }));
  auto instance = module.instantiate(imports);
  ASSERT_TRUE(instance.ok()) << instance.error().message();
  EXPECT_EQ(*instance->call<int32_t>("run", 20), 41);
  EXPECT_EQ(calls, 1);
  auto pair = instance->call<std::tuple<double, int64_t>>("run_pair", 1.5);
  ASSERT_TRUE(pair.ok()) << pair.error().message();
  EXPECT_EQ(*pair, std::make_tuple(2.5, int64_t{-3}));
}

TEST(HostTest, HostErrorBecomesTrapWithItsMessage) {
  Engine engine;
  Module module = load_wat(engine, kCallsHost);
  Imports imports;
  imports.add("env", "twice", Func::wrap([](int32_t x) -> Result<int32_t> {
                if (x < 0)
                  return Error(ErrorKind::InvalidArgument, "negative input " + std::to_string(x));
                return x * 2;
              }));
  imports.add("env", "pair", Func::wrap([](double x) { return std::tuple{x, int64_t{0}}; }));
  auto instance = module.instantiate(imports);
  ASSERT_TRUE(instance.ok());
  EXPECT_EQ(*instance->call<int32_t>("run", 3), 7);
  auto r = instance->call<int32_t>("run", -4);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::Trap);
  EXPECT_EQ(r.error().trap(), TrapKind::HostError);
  EXPECT_NE(r.error().message().find("negative input -4"), std::string::npos)
      << r.error().message();
  EXPECT_EQ(*instance->call<int32_t>("run", 5), 11);  // still usable after a trap
}

TEST(HostTest, DynamicHostFunctionReadsCallerMemory) {
  Engine engine;
  Module module = load_wat(engine, R"((module
    (import "env" "sum_bytes" (func $sum (param i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 8) "\01\02\03\04")
    (func (export "run") (result i32) i32.const 8 i32.const 4 call $sum)))");
  Imports imports;
  imports.add("env", "sum_bytes",
              Func::host(FuncType{{ValType::I32, ValType::I32}, {ValType::I32}},
                         [](Caller& caller, std::span<const Value> args,
                            std::span<Value> results) -> Status {
                           auto memory = caller.memory();
                           if (!memory) return memory.error();
                           auto bytes = memory->view(args[0].i32(), args[1].i32());
                           if (!bytes) return bytes.error();
                           int32_t sum = 0;
                           for (uint8_t b : *bytes) sum += b;
                           results[0] = Value::i32(sum);
                           return {};
                         }));
  auto instance = module.instantiate(imports);
  ASSERT_TRUE(instance.ok());
  EXPECT_EQ(*instance->call<int32_t>("run"), 10);
}

TEST(HostTest, HostFunctionWrongResultTypeTraps) {
  Engine engine;
  Module module = load_wat(engine, R"((module
    (import "env" "f" (func $f (result i32)))
    (func (export "run") (result i32) call $f)))");
  Imports imports;
  imports.add("env", "f",
              Func::host(FuncType{{}, {ValType::I32}},
                         [](Caller&, std::span<const Value>, std::span<Value> out) {
                           out[0] = Value::f64(1);
                           return Status();
                         }));
  auto r = module.instantiate(imports)->call<int32_t>("run");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().trap(), TrapKind::HostError);
  EXPECT_NE(r.error().message().find("returned f64 for result 0, expected i32"), std::string::npos);
}

TEST(HostTest, GuestCallsHostWhichCallsGuestAgain) {
  Engine engine;
  Module module = load_wat(engine, R"((module
    (import "env" "reenter" (func $reenter (param i32) (result i32)))
    (func $fact (export "fact") (param i32) (result i32)
      local.get 0 i32.eqz
      if (result i32) i32.const 1
      else local.get 0 local.get 0 i32.const 1 i32.sub call $reenter i32.mul end)
    (func (export "boom") (param i32) (result i32) unreachable)))");
  std::optional<Instance> self;
  Imports imports;
  imports.add("env", "reenter", Func::wrap([&self](int32_t n) -> Result<int32_t> {
                if (n == 2) {  // a nested trap is an error value here, not an unwind through us
                  auto nested = self->call<int32_t>("boom", n);
                  if (nested.ok() || nested.error().trap() != TrapKind::Unreachable) {
                    return Error(ErrorKind::Internal, "nested trap not reported");
                  }
                }
                return self->call<int32_t>("fact", n);
              }));
  auto instance = module.instantiate(imports);
  ASSERT_TRUE(instance.ok());
  self = *instance;
  EXPECT_EQ(*instance->call<int32_t>("fact", 6), 720);
  self.reset();
}

}  // namespace
}  // namespace wasm_sandbox
