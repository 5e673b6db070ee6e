// Dense mode (EngineConfig::memory_mode = MemoryMode::Dense): memories without guard regions,
// in shared slabs (runtime/dense_memory.h), kept in bounds by checks in the generated code.
// Every out-of-bounds access must trap by the check alone (the slab behind a memory's end is
// read-write: nothing would fault), a reused slot must be zero, and the memories' layout must
// never meet code that relies on guard pages.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "runtime/dense_memory.h"
#include "runtime/sanitizers.h"
#include "test_util.h"

namespace wasm_sandbox {
namespace {

EngineConfig dense_config(Tier tier) {
  EngineConfig config = testing::tier_config(tier);
  config.memory_mode = MemoryMode::Dense;
  return config;
}

// Every width of load and store at an address the caller picks, and growth.
constexpr std::string_view kAccessor = R"((module
  (memory (export "memory") 1 4)
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load64") (param i32) (result i64) (i64.load (local.get 0)))
  (func (export "load32_offset") (param i32) (result i32) (i32.load offset=65535 (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "store64") (param i32 i64) (i64.store (local.get 0) (local.get 1)))
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size)))
)";

class DenseTest : public ::testing::TestWithParam<Tier> {};

TEST_P(DenseTest, EveryAccessPastTheEndTrapsAndEveryAccessInsideWorks) {
  Engine engine(dense_config(GetParam()));
  Module module = testing::load_wat(engine, kAccessor);
  auto instance = module.instantiate();
  ASSERT_TRUE(instance.ok()) << instance.error().message();
  auto memory = instance->memory();
  ASSERT_TRUE(memory.ok());
  EXPECT_TRUE(runtime::is_dense_memory(memory->data()));

  auto expect_oob = [&](const auto& result, const std::string& what) {
    ASSERT_FALSE(result.ok()) << what << " did not trap";
    EXPECT_EQ(result.error().trap(), TrapKind::OutOfBounds)
        << what << ": " << result.error().message();
  };
  // The last byte, word and double word are inside; one byte further is not.
  ASSERT_TRUE(instance->call("store8", 65535, 7).ok());
  EXPECT_EQ(*instance->call<int32_t>("load8", 65535), 7);
  EXPECT_TRUE(instance->call<int32_t>("load32", 65532).ok());
  EXPECT_TRUE(instance->call<int64_t>("load64", 65528).ok());
  expect_oob(instance->call("load8", 65536), "load8 at 65536");
  expect_oob(instance->call("load32", 65533), "load32 straddling the end");
  expect_oob(instance->call("load64", 65529), "load64 straddling the end");
  expect_oob(instance->call("store64", 65530, int64_t{-1}), "store64 straddling the end");
  expect_oob(instance->call("load32", -1), "load32 at 0xffffffff");
  expect_oob(instance->call("load32_offset", -1), "address + offset past 4 GiB");
  expect_oob(instance->call("load32_offset", 2), "offset past the end");
  expect_oob(instance->call("fill", 65000, 1, 537), "memory.fill");
  // A store that trapped wrote nothing: the byte before the end is as it was.
  EXPECT_EQ(*instance->call<int32_t>("load8", 65535), 7);

  // Growth moves the end, within the declared maximum; the memory never moves.
  uint8_t* const base = memory->data();
  EXPECT_EQ(*instance->call<int32_t>("grow", 2), 1);
  EXPECT_EQ(memory->data(), base);
  EXPECT_EQ(*instance->call<int32_t>("load32", 3 * 65536 - 4), 0);
  expect_oob(instance->call("load32", 3 * 65536 - 3), "load32 past the grown end");
  EXPECT_EQ(*instance->call<int32_t>("grow", 2), -1);  // past the maximum of 4
  EXPECT_EQ(*instance->call<int32_t>("size"), 3);
}

TEST_P(DenseTest, AReusedSlotIsZeroAndNoLargerThanDeclared) {
  Engine engine(dense_config(GetParam()));
  Module module = testing::load_wat(engine, kAccessor);
  uint8_t* first_base = nullptr;
  bool reused = false;
  for (int round = 0; round < 20; ++round) {
    auto instance = module.instantiate();
    ASSERT_TRUE(instance.ok()) << instance.error().message();
    auto memory = instance->memory();
    ASSERT_TRUE(memory.ok());
    if (!first_base) first_base = memory->data();
    reused |= memory->data() == first_base && round > 0;
    ASSERT_EQ(memory->pages(), 1u) << "round " << round;
    // What an earlier instance grew to and wrote is gone.
    for (uint32_t at = 0; at < 65536; at += 4096) {
      ASSERT_EQ(*instance->call<int32_t>("load32", at), 0) << "round " << round << ", " << at;
    }
    auto beyond = instance->call<int32_t>("load32", 65536 + 100);
    ASSERT_FALSE(beyond.ok()) << "round " << round;
    EXPECT_EQ(beyond.error().trap(), TrapKind::OutOfBounds);
    ASSERT_EQ(*instance->call<int32_t>("grow", 3), 1);
    ASSERT_TRUE(instance->call("fill", 0, 0xab, 4 * 65536).ok());
  }
  EXPECT_TRUE(reused) << "a freed slot should be taken again";
}

TEST_P(DenseTest, DataSegmentsAreWrittenIntoEveryInstance) {
  Engine engine(dense_config(GetParam()));
  Module module = testing::load_wat(engine, testing::kWithData);
  for (int round = 0; round < 5; ++round) {
    auto instance = module.instantiate();
    ASSERT_TRUE(instance.ok()) << instance.error().message();
    EXPECT_EQ(*instance->call<int32_t>("peek", 70000), 0x04030201) << "round " << round;
    ASSERT_TRUE(instance->call("overwrite").ok());
  }
}

TEST_P(DenseTest, MemoriesAreCappedByTheLimitAndCountedInTheBudget) {
  EngineConfig config = dense_config(GetParam());
  config.limits.memory_bytes = 8 * 65536;
  config.limits.total_memory_bytes = 12 * 65536;
  Engine engine(config);
  // No declared maximum: the limit is the maximum, and the slot's size.
  Module module = testing::load_wat(engine, R"((module (memory (export "memory") 2)
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))))");
  auto a = module.instantiate();
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(*a->call<int32_t>("grow", 7), -1);  // 9 pages > 8
  EXPECT_EQ(*a->call<int32_t>("grow", 6), 2);
  EXPECT_EQ(engine.memory_in_use(), 8u * 65536);
  auto b = module.instantiate();
  ASSERT_TRUE(b.ok()) << b.error().message();
  EXPECT_EQ(*b->call<int32_t>("grow", 3), -1);  // the engine's budget: 8 + 2 + 3 > 12
  auto c = module.instantiate();
  ASSERT_TRUE(c.ok()) << c.error().message();
  auto d = module.instantiate();  // 8 + 2 + 2 + 2 > 12
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().kind(), ErrorKind::LimitExceeded);
  EXPECT_NE(d.error().message().find("Limits::total_memory_bytes"), std::string::npos)
      << d.error().message();
  *a = Instance(std::move(*c));  // frees a's memory
  EXPECT_EQ(engine.memory_in_use(), 4u * 65536);
}

TEST_P(DenseTest, HostMemoriesWorkWithBoundsCheckedCode) {
  Engine engine(dense_config(GetParam()));
  auto host = Memory::create({1, 2});
  ASSERT_TRUE(host.ok());
  EXPECT_FALSE(runtime::is_dense_memory(host->data()));
  Module module = testing::load_wat(engine, R"((module
    (import "host" "memory" (memory 1))
    (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))))");
  Imports imports;
  imports.add("host", "memory", *host);
  auto instance = module.instantiate(imports);
  ASSERT_TRUE(instance.ok()) << instance.error().message();
  const uint32_t word = 0x11223344;
  std::memcpy(host->data() + 100, &word, 4);
  EXPECT_EQ(static_cast<uint32_t>(*instance->call<int32_t>("load32", 100)), word);
  auto beyond = instance->call<int32_t>("load32", 65534);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.error().trap(), TrapKind::OutOfBounds);
}

INSTANTIATE_TEST_SUITE_P(Tiers, DenseTest, testing::both_tiers(), testing::tier_name);

TEST(DenseModeTest, CodeForGuardPagesCannotImportADenseMemory) {
  Engine dense(dense_config(Tier::Baseline));
  Module exporter = testing::load_wat(dense, R"((module (memory (export "memory") 1)))");
  auto owner = exporter.instantiate();
  ASSERT_TRUE(owner.ok()) << owner.error().message();
  Imports imports;
  imports.add("other", "memory", *owner->memory());

  Engine guarded(testing::tier_config(Tier::Baseline));
  Module importer = testing::load_wat(guarded, R"((module
    (import "other" "memory" (memory 1))
    (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))))");
  auto refused = importer.instantiate(imports);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind(), ErrorKind::Link);
  EXPECT_NE(refused.error().message().find("other.memory"), std::string::npos)
      << refused.error().message();
  EXPECT_NE(refused.error().message().find("dense"), std::string::npos)
      << refused.error().message();
  // The same module in the dense engine shares it.
  Module dense_importer = testing::load_wat(dense, R"((module
    (import "other" "memory" (memory 1))
    (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))))");
  EXPECT_TRUE(dense_importer.instantiate(imports).ok());
}

TEST(DenseModeTest, ArtifactsRecordTheirBoundsChecks) {
  Engine dense(dense_config(Tier::Optimized));
  const std::string wasm = testing::read_file(testing::guest("add.wasm"));
  ASSERT_FALSE(wasm.empty());
  auto artifact = dense.compile_artifact(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(wasm.data()), wasm.size()),
      "add.wasm");
  ASSERT_TRUE(artifact.ok()) << artifact.error().message();
  Engine guarded(testing::tier_config(Tier::Optimized));
  auto refused = guarded.load_artifact(*artifact, "add.wsa");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_NE(refused.error().message().find("bounds checks"), std::string::npos)
      << refused.error().message();
  auto loaded = dense.load_artifact(*artifact, "add.wsa");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  auto instance = loaded->instantiate();
  ASSERT_TRUE(instance.ok()) << instance.error().message();
  EXPECT_EQ(*instance->call<int32_t>("add", 2, 3), 5);
}

TEST(DenseModeTest, BenchInstancesDense) {
  const auto run =
      testing::cli("bench instances --dense --count 1000 " + testing::guest("add.wasm"));
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("instances: 1000\n"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace wasm_sandbox
