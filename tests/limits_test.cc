// Limits (limits.h): every one refuses what exceeds it with ErrorKind::LimitExceeded and a
// message naming it, or, while running, makes growth fail the way the spec allows.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "test_util.h"
#include "wasm_sandbox/wasm_sandbox.h"

namespace wasm_sandbox {
namespace {

using testing::load_wat;

// An engine that compiles what it loads: an artifact another test left in the disk cache
// would be loaded with no C generated, so no compile limit could apply.
Engine engine_with(void (*edit)(Limits&)) {
  EngineConfig config;
  config.cache.disk = false;
  edit(config.limits);
  return Engine(config);
}

void expect_limit(const Error& error, std::string_view field) {
  EXPECT_EQ(error.kind(), ErrorKind::LimitExceeded) << error.message();
  EXPECT_NE(error.message().find("Limits::" + std::string(field)), std::string::npos)
      << error.message();
}

constexpr std::string_view kGrower = R"(
  (module
    (memory (export "memory") 1)
    (table $t (export "table") 1 funcref)
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "grow_table") (param i32) (result i32)
      (table.grow $t (ref.null func) (local.get 0))))
)";

TEST(LimitsTest, MemoryGrowPastTheLimitReturnsMinusOne) {
  Engine engine = engine_with([](Limits& l) { l.memory_bytes = 4 * 65536; });
  auto instance = load_wat(engine, kGrower).instantiate();
  ASSERT_TRUE(instance.ok());
  EXPECT_EQ(instance->call<int32_t>("grow", 3).value(), 1);
  EXPECT_EQ(instance->call<int32_t>("grow", 1).value(), -1);
  EXPECT_EQ(instance->memory()->pages(), 4u);
}

TEST(LimitsTest, ModuleNeedingMoreMemoryThanTheLimitIsRefused) {
  Engine engine = engine_with([](Limits& l) { l.memory_bytes = 1 << 20; });
  Module module = load_wat(engine, "(module (memory 17))");
  auto instance = module.instantiate();
  ASSERT_FALSE(instance.ok());
  expect_limit(instance.error(), "memory_bytes");
  // A per-instance limit can raise it for one tenant.
  Limits more = engine.config().limits;
  more.memory_bytes = 2 << 20;
  EXPECT_TRUE(module.instantiate({}, more).ok());
}

TEST(LimitsTest, TablesAreLimited) {
  Engine engine = engine_with([](Limits& l) { l.table_elements = 10; });
  auto big = load_wat(engine, "(module (table 11 funcref))").instantiate();
  ASSERT_FALSE(big.ok());
  expect_limit(big.error(), "table_elements");
  auto instance = load_wat(engine, kGrower).instantiate();
  ASSERT_TRUE(instance.ok());
  EXPECT_EQ(instance->call<int32_t>("grow_table", 9).value(), 1);
  EXPECT_EQ(instance->call<int32_t>("grow_table", 1).value(), -1);
}

TEST(LimitsTest, InstancesPerEngineAreLimited) {
  Engine engine = engine_with([](Limits& l) { l.instances = 3; });
  Module module = load_wat(engine, "(module)");
  std::vector<Instance> alive;
  for (int i = 0; i < 3; ++i) alive.push_back(module.instantiate().value());
  EXPECT_EQ(engine.live_instances(), 3u);
  auto fourth = module.instantiate();
  ASSERT_FALSE(fourth.ok());
  expect_limit(fourth.error(), "instances");
  alive.pop_back();
  EXPECT_EQ(engine.live_instances(), 2u);
  EXPECT_TRUE(module.instantiate().ok());
}

TEST(LimitsTest, TotalMemoryPerEngineIsLimited) {
  Engine engine = engine_with([](Limits& l) { l.total_memory_bytes = 3 * 65536; });
  Module module = load_wat(engine, kGrower);
  auto a = module.instantiate();
  auto b = module.instantiate();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(engine.memory_in_use(), 2u * 65536);
  EXPECT_EQ(a->call<int32_t>("grow", 1).value(), 1);
  EXPECT_EQ(b->call<int32_t>("grow", 1).value(), -1);  // the engine is full
  auto c = module.instantiate();
  ASSERT_FALSE(c.ok());
  expect_limit(c.error(), "total_memory_bytes");
  { Instance gone = std::move(*a); }
  a = Error(ErrorKind::Internal, "dropped");
  EXPECT_EQ(engine.memory_in_use(), 65536u);
  EXPECT_EQ(b->call<int32_t>("grow", 2).value(), 1);
}

TEST(LimitsTest, ModuleShapeLimitsNameTheLimit) {
  struct Case {
    void (*edit)(Limits&);
    std::string_view wat;
    const char* field;
  };
  const Case cases[] = {
      {[](Limits& l) { l.functions = 2; }, "(module (func) (func) (func))", "functions"},
      {[](Limits& l) { l.locals = 3; }, "(module (func (param i32) (local i32 i32 i32)))",
       "locals"},
      {[](Limits& l) { l.nesting_depth = 2; }, "(module (func (block (block (block)))))",
       "nesting_depth"},
      {[](Limits& l) { l.br_table_targets = 2; },
       "(module (func (block (block (block (br_table 0 1 2 2 (i32.const 0)))))))",
       "br_table_targets"},
      {[](Limits& l) { l.function_instructions = 3; },
       "(module (func (drop (i32.add (i32.const 1) (i32.const 2)))))", "function_instructions"},
      {[](Limits& l) { l.module_bytes = 10; }, "(module (func))", "module_bytes"},
      {[](Limits& l) { l.generated_c_bytes = 1000; }, "(module (func))", "generated_c_bytes"},
      {[](Limits& l) { l.compile_time = std::chrono::milliseconds(0); }, "(module (func))",
       "compile_time"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field);
    Engine engine = engine_with(c.edit);
    auto module = engine.load_wat(c.wat, "shape.wat");
    ASSERT_FALSE(module.ok());
    expect_limit(module.error(), c.field);
    EXPECT_EQ(module.error().message().rfind("shape.wat: ", 0), 0u) << module.error().message();
    // The same module passes with the default limits.
    EXPECT_TRUE(Engine().load_wat(c.wat).ok());
  }
}

TEST(LimitsTest, StackLimitBoundsRecursionDepth) {
  constexpr std::string_view kDeep = R"(
    (module (func $down (export "down") (param i32) (result i32)
      (if (result i32) (local.get 0)
        (then (i32.add (i32.const 1) (call $down (i32.sub (local.get 0) (i32.const 1)))))
        (else (i32.const 0)))))
  )";
  Engine small = engine_with([](Limits& l) { l.stack_bytes = 64 << 10; });
  auto shallow = load_wat(small, kDeep).instantiate();
  auto result = shallow->call<int32_t>("down", 100'000);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().trap(), TrapKind::StackExhausted);
  EXPECT_NE(result.error().message().find("64 KiB, Limits::stack_bytes"), std::string::npos)
      << result.error().message();
  EXPECT_EQ(shallow->call<int32_t>("down", 100).value(), 100);
  Engine big = engine_with([](Limits& l) { l.stack_bytes = 64 << 20; });
  EXPECT_EQ(load_wat(big, kDeep).instantiate()->call<int32_t>("down", 100'000).value(), 100'000);
}

}  // namespace
}  // namespace wasm_sandbox
