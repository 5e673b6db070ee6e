// Freed linear memories' address space is reused (runtime/memory.cc: each module's
// MemoryPool, then the process-wide ReservationPool): a new memory must never see an old
// one's bytes or pages beyond its own size, and gets its data segments afresh.
#include <gtest/gtest.h>

#include <vector>

#include "runtime/memory.h"
#include "runtime/runtime.h"
#include "test_util.h"
#include "wasm_sandbox/wasm_sandbox.h"

namespace wasm_sandbox {
namespace {

constexpr std::string_view kScribbler = R"((module
  (memory (export "memory") 1)
  (func (export "scribble") (param $pages i32) (local $a i32)
    (drop (memory.grow (local.get $pages)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $a) (i32.mul (memory.size) (i32.const 65536))))
      (i32.store (local.get $a) (i32.const 0xdeadbeef))
      (local.set $a (i32.add (local.get $a) (i32.const 4096)))
      (br $next))))
  (func (export "peek") (param i32) (result i32) (i32.load (local.get 0))))
)";

TEST(MemoryReuseTest, ANewMemoryIsZeroedAndNoLargerThanDeclared) {
  Engine engine;
  Module module = testing::load_wat(engine, kScribbler);
  for (int round = 0; round < 50; ++round) {
    auto instance = module.instantiate();
    ASSERT_TRUE(instance.ok()) << instance.error().message();
    auto memory = instance->memory();
    ASSERT_TRUE(memory.ok());
    ASSERT_EQ(memory->pages(), 1u);
    for (size_t i = 0; i < 65536; i += 4096) {
      ASSERT_EQ(memory->data()[i], 0) << "round " << round << ", byte " << i;
    }
    // What an earlier instance grew to and wrote is gone, and beyond the size is out of bounds.
    auto beyond = instance->call<int32_t>("peek", 65536 * 3);
    ASSERT_FALSE(beyond.ok()) << "round " << round;
    EXPECT_EQ(beyond.error().trap(), TrapKind::OutOfBounds);
    ASSERT_TRUE(instance->call("scribble", 1 + round % 7).ok());
    EXPECT_EQ(static_cast<uint32_t>(*instance->call<int32_t>("peek", 4096)), 0xdeadbeefu);
  }
}

TEST(MemoryReuseTest, EveryInstanceGetsItsDataSegmentsAfresh) {
  Engine engine;
  Module module = testing::load_wat(engine, testing::kWithData);
  for (int round = 0; round < 20; ++round) {
    auto instance = module.instantiate();
    ASSERT_TRUE(instance.ok());
    EXPECT_EQ(*instance->call<int32_t>("peek", 70000), 0x04030201) << "round " << round;
    EXPECT_EQ(*instance->call<int32_t>("peek", 0), 0);
    ASSERT_TRUE(instance->call("overwrite", {}).ok());
    EXPECT_EQ(*instance->call<int32_t>("peek", 70000), -1);
  }
}

// Many instances alive at once, then dropped, more than the pool keeps: the memories past
// its capacity go back to the system, and every later instance is still correct; the
// engine's count of memory in use follows.
TEST(MemoryReuseTest, PoolCapacityAndTheEnginesMemoryCount) {
  EngineConfig config;
  config.pool.idle_memories = 4;
  Engine engine(config);
  Module module = testing::load_wat(engine, testing::kWithData);
  for (int round = 0; round < 3; ++round) {
    std::vector<Instance> live;
    for (int i = 0; i < 16; ++i) {
      auto instance = module.instantiate();
      ASSERT_TRUE(instance.ok());
      ASSERT_TRUE(instance->call("overwrite", {}).ok());
      live.push_back(std::move(instance).value());
    }
    EXPECT_EQ(engine.memory_in_use(), 16u * 2 * 65536);
    live.clear();
    EXPECT_EQ(engine.memory_in_use(), 0u);
    auto fresh = module.instantiate();
    ASSERT_TRUE(fresh.ok());
    EXPECT_EQ(*fresh->call<int32_t>("peek", 70000), 0x04030201);
  }
}

// A memory exported and still held by the host outlives its instance handle: it is not
// handed to the next instance while it is in use.
TEST(MemoryReuseTest, AMemoryStillHeldIsNotReused) {
  Engine engine;
  Module module = testing::load_wat(engine, testing::kWithData);
  Memory kept;
  {
    auto first = module.instantiate();
    ASSERT_TRUE(first.ok());
    kept = std::move(*first->memory());
    ASSERT_TRUE(first->call("overwrite", {}).ok());
  }
  auto second = module.instantiate();
  ASSERT_TRUE(second.ok());
  auto memory = second->memory();
  ASSERT_TRUE(memory.ok());
  EXPECT_NE(memory->data(), kept.data());
  EXPECT_EQ(*second->call<int32_t>("peek", 70000), 0x04030201);
  int32_t old;
  std::memcpy(&old, kept.data() + 70000, 4);
  EXPECT_EQ(old, -1);
}

TEST(MemoryPoolTest, KeepsFreedMemoriesOfOneSizeUpToItsCapacity) {
  runtime::MemoryPool pool(2);
  wasm_rt_memory_t memories[3];
  for (auto& memory : memories)
    ASSERT_TRUE(runtime::allocate_memory(&memory, 1, 10, nullptr, &pool));
  // Grown and written: the pool must undo both.
  ASSERT_EQ(runtime::grow_memory(&memories[0], 2), 1u);
  memories[0].data[0] = 7;
  memories[0].data[2 * 65536] = 9;
  uint8_t* const first = memories[0].data;
  // Kept: [1], then [0] (taken first); [2] finds the pool full.
  runtime::free_memory(&memories[1]);
  runtime::free_memory(&memories[0]);
  runtime::free_memory(&memories[2]);
  EXPECT_EQ(pool.idle(), 2u);
  wasm_rt_memory_t again;
  ASSERT_TRUE(runtime::allocate_memory(&again, 1, 10, nullptr, &pool));
  EXPECT_EQ(pool.idle(), 1u);
  EXPECT_EQ(again.data, first);  // the grown one, reset
  EXPECT_EQ(again.pages, 1u);
  EXPECT_EQ(again.size, 65536u);
  for (size_t i = 0; i < 65536; i += 512) ASSERT_EQ(again.data[i], 0) << i;
  // The next allocation of another size does not take a pooled memory.
  wasm_rt_memory_t bigger;
  ASSERT_TRUE(runtime::allocate_memory(&bigger, 2, 10, nullptr, &pool));
  EXPECT_EQ(pool.idle(), 1u);
  runtime::free_memory(&bigger);  // a second size: not kept
  EXPECT_EQ(pool.idle(), 1u);
  runtime::free_memory(&again);
  EXPECT_EQ(pool.idle(), 2u);
}

}  // namespace
}  // namespace wasm_sandbox
