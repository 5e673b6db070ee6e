// Hostile modules: each gets its specific error, and the host never crashes, hangs or leaks
// (this suite also runs under AddressSanitizer/LeakSanitizer: make test-asan).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>

#include "hostile/module_builder.h"
#include "test_util.h"
#include "wasm_sandbox/wasm_sandbox.h"

namespace wasm_sandbox {
namespace {

using namespace std::chrono_literals;
using testing::append;
using testing::Bytes;
using testing::ModuleBuilder;
namespace op = testing::op;

Bytes i32_const(int32_t value) {
  Bytes out = {op::kI32Const};
  testing::put_sleb(out, value);
  return out;
}

Result<Module> load(const Engine& engine, const Bytes& bytes, const char* name = "hostile.wasm") {
  return engine.load(bytes, name);
}

void expect_error(const Error& error, ErrorKind kind, std::string_view says) {
  EXPECT_EQ(error.kind(), kind) << error.message();
  EXPECT_NE(error.message().find(says), std::string::npos) << error.message();
  EXPECT_EQ(error.message().rfind("hostile.wasm: ", 0), 0u) << error.message();
  EXPECT_EQ(error.message().find('\n'), std::string::npos) << error.message();
}

Error load_error(const Engine& engine, const Bytes& bytes) {
  auto module = load(engine, bytes);
  EXPECT_FALSE(module.ok());
  if (module.ok()) return Error(ErrorKind::Internal, "loaded");
  return std::move(module).error();
}

Error call_error(const Instance& instance, std::string_view name) {
  auto result = instance.call(name, {});
  EXPECT_FALSE(result.ok());
  if (result.ok()) return Error(ErrorKind::Internal, "returned");
  return std::move(result).error();
}

TEST(HostileTest, InfiniteLoopTimesOutOrRunsOutOfFuel) {
  const Bytes spin = {op::kLoop, op::kVoid, op::kBr, 0, op::kEnd, op::kI32Const, 0};
  const Bytes wasm = ModuleBuilder().func(spin, 0, "spin").bytes();
  EngineConfig timed;
  timed.limits.call_timeout = 50ms;
  auto instance = load(Engine(timed), wasm)->instantiate();
  expect_error(call_error(*instance, "spin"), ErrorKind::Trap, "timed out");
  EngineConfig metered;
  metered.fuel = true;
  metered.limits.fuel = 100'000;
  instance = load(Engine(metered), wasm)->instantiate();
  expect_error(call_error(*instance, "spin"), ErrorKind::Trap, "out of fuel");
}

TEST(HostileTest, InfiniteRecursionExhaustsTheStack) {
  const Bytes recurse = {op::kCall, 0};
  auto instance =
      load(Engine(), ModuleBuilder().func(recurse, 0, "recurse").bytes())->instantiate();
  expect_error(call_error(*instance, "recurse"), ErrorKind::Trap, "call stack exhausted");
  // ... and again: the guard region is intact.
  expect_error(call_error(*instance, "recurse"), ErrorKind::Trap, "call stack exhausted");
}

TEST(HostileTest, MemoryGrowBombStopsAtTheLimit) {
  // Grows one page at a time until refused, writing to every new page; returns the pages.
  Bytes body = {op::kLoop, op::kVoid};
  append(body, i32_const(1));
  append(body, {op::kMemoryGrow, 0, 0x21, 0});  // local.set 0 (the old size)
  append(body, {op::kLocalGet, 0});
  append(body, i32_const(-1));
  append(body, {0x47});  // i32.ne
  append(body, {op::kIf, op::kVoid, op::kLocalGet, 0});
  append(body, i32_const(16));
  append(body, {0x74});  // i32.shl: page -> byte address
  append(body, i32_const(7));
  append(body, {op::kI32Store8, 0, 0, op::kBr, 1, op::kEnd, op::kEnd, 0x3f, 0});  // memory.size
  EngineConfig config;
  config.limits.memory_bytes = 16u << 20;
  config.limits.total_memory_bytes = 20u << 20;
  Engine engine(config);
  Module module = load(engine, ModuleBuilder().memory(1).func(body, 1, "bomb").bytes()).value();
  auto a = module.instantiate();
  EXPECT_EQ(a->call<int32_t>("bomb").value(), 256);  // 16 MiB
  auto b = module.instantiate();
  EXPECT_EQ(b->call<int32_t>("bomb").value(), 64);  // what is left of the engine's 20 MiB
  EXPECT_EQ(engine.memory_in_use(), 20u << 20);
}

TEST(HostileTest, HugeDataSegmentsAreRefusedOrTrap) {
  // Past the end of the memory: instantiation traps, as the spec says.
  auto module = load(Engine(), ModuleBuilder().memory(1).data(65530, Bytes(10, 1)).bytes());
  ASSERT_TRUE(module.ok()) << module.error().message();
  auto instance = module->instantiate();
  ASSERT_FALSE(instance.ok());
  EXPECT_EQ(instance.error().trap(), TrapKind::OutOfBounds);
  // Bigger than the module size limit.
  EngineConfig config;
  config.limits.module_bytes = 1u << 20;
  expect_error(
      load_error(Engine(config), ModuleBuilder().memory(64).data(0, Bytes(2u << 20, 7)).bytes()),
      ErrorKind::LimitExceeded, "Limits::module_bytes");
  // A large one within the limits loads and is in place.
  Bytes read = i32_const((1 << 20) - 1);
  append(read, {op::kI32Load8U, 0, 0});
  module =
      load(Engine(),
           ModuleBuilder().memory(16).data(0, Bytes(1u << 20, 7)).func(read, 0, "last").bytes());
  ASSERT_TRUE(module.ok()) << module.error().message();
  EXPECT_EQ(module->instantiate()->call<int32_t>("last").value(), 7);
}

TEST(HostileTest, HundredThousandFunctionsAreRefused) {
  ModuleBuilder builder;
  for (int i = 0; i < 100'000; ++i) builder.func(i32_const(i));
  expect_error(load_error(Engine(), builder.bytes()), ErrorKind::LimitExceeded,
               "the module has 100000 functions, more than the limit of 20000 (Limits::functions)");
}

TEST(HostileTest, DeeplyNestedBlocksAreRefusedBeforeAnythingRecurses) {
  for (size_t depth : {100'000u, 1'000'000u}) {
    Bytes blocks = testing::repeat({op::kBlock, op::kVoid}, depth);
    append(blocks, testing::repeat({op::kEnd}, depth));
    append(blocks, i32_const(0));
    expect_error(load_error(Engine(), ModuleBuilder().func(blocks).bytes()),
                 ErrorKind::LimitExceeded,
                 "function 0 nests blocks deeper than the limit of 1000 (Limits::nesting_depth)");
    Bytes ifs = testing::repeat({op::kI32Const, 1, op::kIf, op::kVoid}, depth);
    append(ifs, testing::repeat({op::kEnd}, depth));
    append(ifs, i32_const(0));
    expect_error(load_error(Engine(), ModuleBuilder().func(ifs).bytes()), ErrorKind::LimitExceeded,
                 "Limits::nesting_depth");
  }
}

TEST(HostileTest, GiantBrTableIsRefused) {
  Bytes body = {op::kBlock, op::kVoid};
  append(body, i32_const(0));
  body.push_back(op::kBrTable);
  testing::put_leb(body, 1'000'000);
  append(body, Bytes(1'000'001, 0));
  append(body, {op::kEnd});
  append(body, i32_const(0));
  expect_error(load_error(Engine(), ModuleBuilder().func(body).bytes()), ErrorKind::LimitExceeded,
               "has a br_table of 1000000 targets");
}

TEST(HostileTest, HugeLocalCountsAreRefused) {
  expect_error(load_error(Engine(), ModuleBuilder().func(i32_const(0), 1'000'000).bytes()),
               ErrorKind::LimitExceeded, "has 1000000 locals");
  // More than the format allows: the decoder's own error.
  expect_error(load_error(Engine(), ModuleBuilder().func(i32_const(0), 0xffffffffu).bytes()),
               ErrorKind::InvalidModule, "local");
}

TEST(HostileTest, MaximumSizeTablesAreRefusedOrCapped) {
  auto huge = load(Engine(), ModuleBuilder().table(10'000'000).bytes());
  ASSERT_TRUE(huge.ok());
  auto refused = huge->instantiate();
  ASSERT_FALSE(refused.ok());
  expect_error(refused.error(), ErrorKind::LimitExceeded,
               "a table of 10000000 elements exceeds the limit of 1000000");
  // Declared maximum 2^32-1: growth stops at the limit.
  Bytes grow = {0xd0, testing::kFuncRef, op::kLocalGet, 0, 0xfc, 0x0f, 0};  // table.grow 0
  auto instance =
      load(Engine(), ModuleBuilder(1).table(1, 0xffffffffu).func(grow, 0, "grow").bytes())
          ->instantiate();
  ASSERT_TRUE(instance.ok());
  EXPECT_EQ(instance->call<int32_t>("grow", 2'000'000).value(), -1);
  EXPECT_EQ(instance->call<int32_t>("grow", 999'999).value(), 1);
  EXPECT_EQ(instance->call<int32_t>("grow", 1).value(), -1);
}

TEST(HostileTest, MemoriesOverTheLimitAreRefusedAtInstantiation) {
  auto module = load(Engine(), ModuleBuilder().memory(65535).bytes());
  ASSERT_TRUE(module.ok());
  auto instance = module->instantiate();
  ASSERT_FALSE(instance.ok());
  expect_error(instance.error(), ErrorKind::LimitExceeded,
               "a memory of 65535 pages exceeds the limit of 4096 pages (Limits::memory_bytes)");
}

// Where the header and each section end: a module cut there may well be valid (sections are
// optional), and one cut after its last non-custom section is whole.
std::vector<size_t> section_ends(const Bytes& wasm) {
  std::vector<size_t> ends{8};
  size_t at = 8;
  while (at < wasm.size()) {
    const uint8_t id = wasm[at++];
    uint64_t size = 0;
    for (int shift = 0;; shift += 7) {
      const uint8_t byte = wasm[at++];
      size |= uint64_t{byte & 0x7fu} << shift;
      if (!(byte & 0x80)) break;
    }
    at += size;
    (void)id;
    ends.push_back(at);
  }
  return ends;
}

TEST(HostileTest, TruncatedBinariesAreInvalidAtEveryLength) {
  const std::string wasm = testing::read_file(testing::guest("math.wasm"));
  ASSERT_FALSE(wasm.empty());
  Engine engine;
  const Bytes whole(wasm.begin(), wasm.end());
  const std::vector<size_t> ends = section_ends(whole);
  ASSERT_GT(ends.size(), 5u);
  // Every length up to 4 KiB, then every 97th: none that cuts into a section loads, and each
  // says why in one line.
  for (size_t length = 0; length < whole.size(); length += length < 4096 ? 1 : 97) {
    if (std::find(ends.begin(), ends.end(), length) != ends.end()) continue;
    const Bytes cut(whole.begin(), whole.begin() + length);
    auto module = load(engine, cut);
    ASSERT_FALSE(module.ok()) << "length " << length;
    EXPECT_EQ(module.error().kind(), ErrorKind::InvalidModule) << module.error().message();
    EXPECT_EQ(module.error().message().find('\n'), std::string::npos);
  }
}

TEST(HostileTest, CorruptedBinariesNeverCrashTheHost) {
  const std::string wasm = testing::read_file(testing::guest("math.wasm"));
  EngineConfig config;
  config.fuel = true;
  config.limits.fuel = 1'000'000;
  Engine engine(config);
  std::mt19937 random(20261123);  // fixed: the same corruptions every run
  int loaded = 0;
  for (int round = 0; round < 300; ++round) {
    Bytes bytes(wasm.begin(), wasm.end());
    for (int flips = 1 + round % 4; flips > 0; --flips) {
      bytes[8 + random() % (bytes.size() - 8)] ^= static_cast<uint8_t>(1u << (random() % 8));
    }
    auto module = load(engine, bytes);
    if (!module) {
      const ErrorKind kind = module.error().kind();
      EXPECT_TRUE(kind == ErrorKind::InvalidModule || kind == ErrorKind::Unsupported ||
                  kind == ErrorKind::LimitExceeded)
          << module.error().message();
      continue;
    }
    ++loaded;
    auto instance = module->instantiate();
    if (!instance) continue;
    for (const ExportDesc& e : instance->exports()) {
      if (e.type.kind != ExternKind::Func) continue;
      std::vector<Value> args;
      for (ValType t : e.type.func.params) args.push_back(Value::zero(t));
      (void)instance->set_fuel(1'000'000);
      (void)instance->call(e.name, args);  // a value or an error, never a crash
    }
  }
  EXPECT_GT(loaded, 0);  // some corruptions (in code or data) still validate
}

TEST(HostileTest, CodeThatMakesTheCCompilerWorkIsBounded) {
  // An operand stack 200,000 deep: wasm2c gives each slot a C variable.
  constexpr int kDepth = 200'000;
  Bytes deep = testing::repeat(i32_const(1), kDepth);
  append(deep, testing::repeat({op::kI32Add}, kDepth - 1));
  auto module = load(Engine(), ModuleBuilder().func(deep, 0, "sum").bytes());
  ASSERT_TRUE(module.ok()) << module.error().message();
  EXPECT_EQ(module->instantiate()->call<int32_t>("sum").value(), kDepth);
  // Ten times that is over the instruction limit.
  Bytes deeper = testing::repeat(i32_const(1), 10 * kDepth);
  append(deeper, testing::repeat({op::kDrop}, 10 * kDepth - 1));
  expect_error(load_error(Engine(), ModuleBuilder().func(deeper).bytes()), ErrorKind::LimitExceeded,
               "Limits::function_instructions");
  // Nesting that would make wasm2c's output quadratic stays within its limit.
  EngineConfig config;
  config.limits.generated_c_bytes = 1u << 20;
  Bytes ifs = testing::repeat({op::kI32Const, 1, op::kIf, op::kVoid}, 1000);
  append(ifs, testing::repeat({op::kEnd}, 1000));
  append(ifs, i32_const(0));
  expect_error(load_error(Engine(config), ModuleBuilder().func(ifs).bytes()),
               ErrorKind::LimitExceeded, "Limits::generated_c_bytes");
}

TEST(HostileTest, ControlFlowInAConstantExpressionIsRefusedBeforeWabtAssertsOnIt) {
  // (global i32 (nop) (block) ...): WABT 1.0.32's IR builder aborts the process on modules
  // like it (the one the fuzzer found is replayed from fuzz/corpus by the fuzz_corpus test).
  const Bytes wasm = {0x00,          0x61,       0x73,      0x6d,     0x01,
                      0x00,          0x00,       0x00,                       // header
                      0x06,          0x0a,       0x01,      0x7f,     0x00,  // global section: i32
                      0x01,          op::kBlock, op::kVoid, op::kEnd,        // nop, block, end
                      op::kI32Const, 0x00,       op::kEnd};                  // i32.const 0, end
  expect_error(load_error(Engine(), wasm), ErrorKind::InvalidModule,
               "a constant expression contains a block");
}

TEST(HostileTest, SpecInvalidModulesWabtAcceptsAreRefused) {
  auto module = Engine().load_wat(R"((module (type $v (func)) (table 1 externref)
      (func (export "f") (call_indirect (type $v) (i32.const 0)))))",
                                  "hostile.wasm");
  ASSERT_FALSE(module.ok());
  expect_error(module.error(), ErrorKind::InvalidModule, "call_indirect through a table");
}

}  // namespace
}  // namespace wasm_sandbox
