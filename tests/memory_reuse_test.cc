// Freed linear memories' address space is reused (runtime/memory.cc, ReservationPool): a new
// memory must never see an old one's bytes or pages beyond its own size.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace wasm_sandbox
