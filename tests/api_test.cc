// The public API end to end: the one-liner, dynamic calls, listings, and bad input.
#include <cmath>
#include <fstream>

#include "test_util.h"

namespace wasm_sandbox {
namespace {

using testing::guest;
using testing::load_wat;

TEST(SandboxTest, OneLinerCallsGuestCompiledFromC) {
  auto sb = Sandbox::from_file(guest("add.wasm"));
  ASSERT_TRUE(sb.ok()) << sb.error().message();
  EXPECT_EQ(*sb.call<int32_t>("add", 5, 3), 8);
  EXPECT_EQ(*sb.call<int32_t>("add", -7, 2), -5);
  EXPECT_EQ(*sb.call<int64_t>("mul64", int64_t{1} << 40, int64_t{3}), int64_t{3} << 40);
  EXPECT_DOUBLE_EQ(*sb.call<double>("average", 1.0, 2.0), 1.5);
}

TEST(SandboxTest, LoadFailureIsCarriedToEveryCall) {
  auto sb = Sandbox::from_file("/nonexistent/plugin.wasm");
  ASSERT_FALSE(sb.ok());
  EXPECT_EQ(sb.error().kind(), ErrorKind::NotFound);
  auto r = sb.call<int32_t>("add", 1, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("/nonexistent/plugin.wasm"), std::string::npos);
}

TEST(SandboxTest, TypedCallChecksSignature) {
  auto sb = Sandbox::from_file(guest("add.wasm"));
  auto wrong_args = sb.call<int32_t>("add", 1.5, 2.5);
  ASSERT_FALSE(wrong_args.ok());
  EXPECT_EQ(wrong_args.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_NE(wrong_args.error().message().find("expects 2 arguments (i32, i32)"), std::string::npos)
      << wrong_args.error().message();
  auto wrong_result = sb.call<double>("add", 1, 2);
  ASSERT_FALSE(wrong_result.ok());
  EXPECT_NE(wrong_result.error().message().find("returns (i32)"), std::string::npos);
  auto missing = sb.call<int32_t>("sub", 1, 2);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::NotFound);
  EXPECT_NE(missing.error().message().find("no export named `sub`"), std::string::npos);
}

TEST(EngineTest, DynamicCallWithMultipleResults) {
  Engine engine;
  Module module = load_wat(engine, R"((module
    (func (export "swap") (param i64 f32) (result f32 i64) local.get 1 local.get 0)))");
  auto instance = module.instantiate();
  ASSERT_TRUE(instance.ok());
  auto results = instance->call("swap", {Value::i64(-9), Value::f32(0.25f)});
  ASSERT_TRUE(results.ok()) << results.error().message();
  ASSERT_EQ(results->size(), 2u);
  EXPECT_EQ((*results)[0].type(), ValType::F32);
  EXPECT_EQ((*results)[0].f32(), 0.25f);
  EXPECT_EQ((*results)[1].i64(), -9);
  auto typed = instance->call<std::tuple<float, int64_t>>("swap", int64_t{4}, 1.0f);
  ASSERT_TRUE(typed.ok());
  EXPECT_EQ(*typed, std::make_tuple(1.0f, int64_t{4}));
}

TEST(EngineTest, NaNPayloadsSurviveTheBoundary) {
  Engine engine;
  Module module = load_wat(engine, R"((module
    (func (export "id") (param f32) (result f32) local.get 0)
    (func (export "neg") (param f64) (result f64) local.get 0 f64.neg)))");
  auto instance = module.instantiate();
  auto id = instance->call("id", {Value::bits(ValType::F32, 0x7fa00001)});
  ASSERT_TRUE(id.ok());
  EXPECT_EQ((*id)[0].raw_bits(), 0x7fa00001u);
  auto neg = instance->call("neg", {Value::bits(ValType::F64, 0x7ff8000000000123ull)});
  ASSERT_TRUE(neg.ok());
  EXPECT_EQ((*neg)[0].raw_bits(), 0xfff8000000000123ull);
}

TEST(EngineTest, ListsImportsExportsAndSizes) {
  Engine engine;
  Module module = load_wat(engine, R"((module
    (import "env" "log" (func (param i32)))
    (import "env" "mem" (memory 1 4))
    (global (export "counter") (mut i64) (i64.const 7))
    (table (export "tab") 3 funcref)
    (func (export "run") (param f64) (result i32) i32.const 0)))");
  ASSERT_EQ(module.imports().size(), 2u);
  EXPECT_EQ(module.imports()[0].module, "env");
  EXPECT_EQ(module.imports()[0].type.to_string(), "func (i32) -> ()");
  EXPECT_EQ(module.imports()[1].type.to_string(), "memory pages 1..4");
  ASSERT_EQ(module.exports().size(), 3u);
  EXPECT_EQ(module.exports()[0].type.to_string(), "global mut i64");
  EXPECT_EQ(module.exports()[1].type.to_string(), "table funcref 3..");
  EXPECT_EQ(module.exports()[2].type.to_string(), "func (f64) -> (i32)");
  EXPECT_EQ(module.function_count(), 1u);
  EXPECT_GT(module.stats().code_bytes, 0u);
}

TEST(EngineTest, GlobalsAndMemoryOfAnInstance) {
  Engine engine;
  Module module = load_wat(engine, R"((module
    (memory (export "memory") 1 3)
    (global $g (export "g") (mut i32) (i32.const 41))
    (func (export "bump") (result i32) global.get $g i32.const 1 i32.add global.set $g global.get $g)
    (func (export "load") (param i32) (result i32) local.get 0 i32.load)
    (data (i32.const 16) "\2a\00\00\00")))");
  auto instance = module.instantiate();
  ASSERT_TRUE(instance.ok());
  auto g = instance->global("g");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(*instance->call<int32_t>("bump"), 42);
  EXPECT_EQ(g->get().i32(), 42);
  ASSERT_TRUE(g->set(Value::i32(100)).ok());
  EXPECT_EQ(*instance->call<int32_t>("bump"), 101);
  EXPECT_FALSE(g->set(Value::f32(1)).ok());

  auto memory = instance->memory();
  ASSERT_TRUE(memory.ok());
  EXPECT_EQ(memory->size(), 65536u);
  EXPECT_EQ(memory->data()[16], 42);
  auto view = memory->view(100, 4);
  ASSERT_TRUE(view.ok());
  (*view)[0] = 7;
  EXPECT_EQ(*instance->call<int32_t>("load", 100), 7);
  EXPECT_FALSE(memory->view(65535, 2).ok());
  EXPECT_EQ(*memory->grow(2), 1u);
  EXPECT_FALSE(memory->grow(1).ok());  // max 3 pages
  EXPECT_EQ(memory->size(), 3u * 65536);
}

TEST(EngineTest, BadModulesGetOneLineErrorsNamingTheInput) {
  Engine engine;
  const uint8_t truncated[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05};
  auto r1 = engine.load(truncated, "truncated.wasm");
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().kind(), ErrorKind::InvalidModule);
  EXPECT_EQ(r1.error().message().rfind("truncated.wasm: byte 0x", 0), 0u) << r1.error().message();
  EXPECT_EQ(r1.error().message().find('\n'), std::string::npos);

  const uint8_t not_wasm[] = {'h', 'e', 'l', 'l', 'o'};
  auto r2 = engine.load(not_wasm, "hello.wasm");
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message().find("magic"), std::string::npos) << r2.error().message();

  auto r3 = engine.load_wat("(module (func (result i32) i64.const 1))", "bad.wat");
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().kind(), ErrorKind::InvalidModule);
  EXPECT_NE(r3.error().message().find("type mismatch"), std::string::npos);

  auto r4 = engine.load_wat("(module (func (export \"f\") (param v128) (result v128) local.get 0))",
                            "simd.wat");
  ASSERT_FALSE(r4.ok());
  EXPECT_EQ(r4.error().kind(), ErrorKind::Unsupported);
  EXPECT_NE(r4.error().message().find("SIMD is not supported"), std::string::npos);

  auto r5 = engine.load({}, "empty.wasm");
  ASSERT_FALSE(r5.ok());
  EXPECT_EQ(r5.error().kind(), ErrorKind::InvalidModule);
}

TEST(EngineTest, LoadFileAcceptsTextAndReportsMissingFiles) {
  const std::string path = testing::temp_path("api_test_module.wat");
  std::ofstream(path) << "(module (func (export \"seven\") (result i32) i32.const 7))";
  Engine engine;
  auto module = engine.load_file(path);
  ASSERT_TRUE(module.ok()) << module.error().message();
  EXPECT_EQ(*module->instantiate()->call<int32_t>("seven"), 7);
  auto missing = engine.load_file(::testing::TempDir() + "/missing.wasm");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::NotFound);
  EXPECT_NE(missing.error().message().find("missing.wasm: no such file"), std::string::npos);
}

TEST(ValueTest, ParsesCommandLineNumbers) {
  EXPECT_EQ(Value::parse(ValType::I32, "-5")->i32(), -5);
  EXPECT_EQ(Value::parse(ValType::I32, "4294967295")->i32(), -1);
  EXPECT_EQ(Value::parse(ValType::I32, "0x10")->i32(), 16);
  EXPECT_FALSE(Value::parse(ValType::I32, "4294967296").has_value());
  EXPECT_FALSE(Value::parse(ValType::I32, "12abc").has_value());
  EXPECT_FALSE(Value::parse(ValType::I32, "").has_value());
  EXPECT_EQ(Value::parse(ValType::I64, "-9223372036854775808")->i64(), INT64_MIN);
  EXPECT_EQ(Value::parse(ValType::F64, "2.5")->f64(), 2.5);
  EXPECT_TRUE(std::isnan(Value::parse(ValType::F32, "nan")->f32()));
  EXPECT_FALSE(Value::parse(ValType::F64, "x").has_value());
}

}  // namespace
}  // namespace wasm_sandbox
