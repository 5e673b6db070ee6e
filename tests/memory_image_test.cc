// Memory images (runtime/memory.h, MemoryImage): a module whose data segments give every
// instance the same starting bytes maps them copy-on-write from one sealed memfd instead of
// copying them. Each instance must still see exactly its own memory: the data as declared,
// none of another instance's writes or growth, and no image where the data depends on imports.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace wasm_sandbox {
namespace {

// 8 KiB of "abcdefgh" from byte 65636, and a 4-byte word at 16.
std::string image_module() {
  std::string data;
  for (int i = 0; i < 1024; ++i) data += "abcdefgh";
  return R"((module
    (memory (export "memory") 2 10)
    (data (i32.const 16) "\01\02\03\04")
    (data (i32.const 65636) ")" +
         data + R"(")
    (func (export "scribble") (param $pages i32)
      (i32.store (i32.const 16) (i32.const -1))
      (i32.store (i32.const 65640) (i32.const -1))
      (drop (memory.grow (local.get $pages)))
      (i32.store (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4))
                 (i32.const -1)))
    (func (export "peek") (param i32) (result i32) (i32.load (local.get 0)))))";
}

// Whether the page holding `address` is mapped from a memory image (per /proc/self/maps).
bool mapped_from_image(const void* address) {
  std::ifstream maps("/proc/self/maps");
  const auto at = reinterpret_cast<uintptr_t>(address);
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long begin = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &begin, &end) != 2) continue;
    if (at >= begin && at < end) return line.find("wasm-sandbox-image") != std::string::npos;
  }
  return false;
}

void expect_fresh(Instance& instance, const std::string& when) {
  EXPECT_EQ(*instance.call<int32_t>("peek", 16), 0x04030201) << when;
  int32_t word;
  std::memcpy(&word, "efgh", 4);
  EXPECT_EQ(*instance.call<int32_t>("peek", 65640), word) << when;
  EXPECT_EQ(*instance.call<int32_t>("peek", 65636 + 8192), 0) << when;
  auto memory = instance.memory();
  ASSERT_TRUE(memory.ok());
  EXPECT_EQ(memory->pages(), 2u) << when;
  auto beyond = instance.call<int32_t>("peek", 2 * 65536);
  ASSERT_FALSE(beyond.ok()) << when;
  EXPECT_EQ(beyond.error().trap(), TrapKind::OutOfBounds);
}

class MemoryImageTest : public ::testing::TestWithParam<Tier> {
 protected:
  static EngineConfig config() { return testing::tier_config(GetParam()); }
};

TEST_P(MemoryImageTest, InstancesStartFromTheImageAndNeverSeeEachOther) {
  Engine engine(config());
  Module module = testing::load_wat(engine, image_module());
  std::vector<Instance> live;
  for (int round = 0; round < 6; ++round) {
    auto instance = module.instantiate();
    ASSERT_TRUE(instance.ok()) << instance.error().message();
    expect_fresh(*instance, "round " + std::to_string(round));
    // The first instance's memory becomes the image; every later one maps it.
    auto memory = instance->memory();
    EXPECT_EQ(mapped_from_image(memory->data() + 65636), round > 0) << "round " << round;
    ASSERT_TRUE(instance->call("scribble", 1 + round % 3).ok());
    EXPECT_EQ(*instance->call<int32_t>("peek", 16), -1);
    if (round % 2) live.push_back(std::move(*instance));  // some stay, some go to the pool
  }
  for (auto& instance : live) EXPECT_EQ(*instance.call<int32_t>("peek", 65640), -1);
}

TEST_P(MemoryImageTest, AMemoryHeldByTheHostKeepsItsBytes) {
  Engine engine(config());
  Module module = testing::load_wat(engine, image_module());
  ASSERT_TRUE(module.instantiate().ok());  // makes the image
  Memory kept;
  {
    auto instance = module.instantiate();
    ASSERT_TRUE(instance.ok());
    ASSERT_TRUE(instance->call("scribble", 0).ok());
    kept = *instance->memory();
  }
  auto next = module.instantiate();
  ASSERT_TRUE(next.ok());
  expect_fresh(*next, "after a held memory");
  int32_t word;
  std::memcpy(&word, kept.data() + 16, 4);
  EXPECT_EQ(word, -1);
}

INSTANTIATE_TEST_SUITE_P(Tiers, MemoryImageTest, testing::both_tiers(), testing::tier_name);

// Data placed by an imported global differs between instances: no image, each instance gets
// its own layout.
TEST(MemoryImageImportTest, DataAtImportedOffsetsIsCopiedPerInstance) {
  std::string data(5000, 'x');
  Engine engine;
  Module module = testing::load_wat(engine, R"((module
    (import "env" "at" (global $at i32))
    (memory 1)
    (data (global.get $at) ")" + data + R"(")
    (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))))");
  for (int32_t at : {0, 100, 30000}) {
    Imports imports;
    imports.add("env", "at", *Global::create(GlobalType{ValType::I32, false}, Value::i32(at)));
    auto instance = module.instantiate(imports);
    ASSERT_TRUE(instance.ok()) << instance.error().message();
    EXPECT_EQ(*instance->call<int32_t>("peek", at), 'x');
    EXPECT_EQ(*instance->call<int32_t>("peek", at + 5000), 0);
    if (at > 0) {
      EXPECT_EQ(*instance->call<int32_t>("peek", at - 1), 0);
    }
  }
}

}  // namespace
}  // namespace wasm_sandbox
