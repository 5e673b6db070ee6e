// The registry of generated code (runtime/code_ranges.h): lookups at the edges of ranges, and
// lookups racing with registrations, as signal handlers on other threads make them.
#include "runtime/code_ranges.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace wasm_sandbox::runtime {
namespace {

// Addresses far from anything mapped: the registry never dereferences them.
constexpr uintptr_t kBase = uintptr_t{0x7e0000000000};

TEST(CodeRangesTest, FindsExactlyTheRegisteredBytes) {
  EXPECT_FALSE(is_generated_code(kBase));
  {
    CodeRegistration first({{kBase, kBase + 100}, {kBase + 300, kBase + 400}});
    CodeRegistration second({{kBase + 200, kBase + 250}, {kBase + 500, kBase + 500}});  // empty
    EXPECT_TRUE(is_generated_code(kBase));
    EXPECT_TRUE(is_generated_code(kBase + 99));
    EXPECT_FALSE(is_generated_code(kBase + 100));
    EXPECT_FALSE(is_generated_code(kBase + 199));
    EXPECT_TRUE(is_generated_code(kBase + 200));
    EXPECT_FALSE(is_generated_code(kBase + 250));
    EXPECT_TRUE(is_generated_code(kBase + 399));
    EXPECT_FALSE(is_generated_code(kBase + 500));
    first.reset();
    EXPECT_FALSE(is_generated_code(kBase));
    EXPECT_TRUE(is_generated_code(kBase + 200));
    CodeRegistration moved = std::move(second);
    EXPECT_TRUE(is_generated_code(kBase + 200));
  }
  EXPECT_FALSE(is_generated_code(kBase + 200));
}

TEST(CodeRangesTest, LookupsRaceWithRegistrations) {
  CodeRegistration fixed({{kBase, kBase + 16}});
  std::atomic<bool> done{false};
  std::atomic<int> wrong{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        if (!is_generated_code(kBase + 8)) wrong.fetch_add(1);
        if (is_generated_code(kBase + 16)) wrong.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) {
    const uintptr_t at = kBase + 4096 * (1 + i % 64);
    CodeRegistration transient({{at, at + 64}});
    EXPECT_TRUE(is_generated_code(at + 63));
  }
  done = true;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace wasm_sandbox::runtime
