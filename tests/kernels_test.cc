// The benchmark kernels (guests/kernels.c) compute the same results as wasm, plain and
// fuel-metered, as they do built natively: the kernels are a correctness check of the whole
// pipeline before they are a benchmark.
#include "guests/kernels.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "test_util.h"
#include "wasm_sandbox/wasm_sandbox.h"

namespace wasm_sandbox {
namespace {

class KernelsTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    EngineConfig config;
    config.fuel = GetParam();
    engine_ = Engine(config);
    auto module = engine_.load_file(testing::guest("kernels.wasm"));
    ASSERT_TRUE(module.ok()) << module.error().message();
    auto instance = module->instantiate();
    ASSERT_TRUE(instance.ok()) << instance.error().message();
    instance_ = std::move(*instance);
  }

  template <class R>
  R call(const char* name, int32_t n) {
    auto result = instance_->call<R>(name, n);
    EXPECT_TRUE(result.ok()) << result.error().message();
    return result.ok() ? *result : R{};
  }

  Engine engine_;
  std::optional<Instance> instance_;
};

TEST_P(KernelsTest, MatchNativeResults) {
  EXPECT_EQ(call<int32_t>("run_fib", 20), run_fib(20));
  EXPECT_EQ(static_cast<uint64_t>(call<int64_t>("run_lcg", 100'000)), run_lcg(100'000));
  EXPECT_EQ(call<int32_t>("run_sieve", 100'000), run_sieve(100'000));
  EXPECT_EQ(call<double>("run_matmul", 24), run_matmul(24));
  EXPECT_EQ(static_cast<uint32_t>(call<int32_t>("run_crc32", 100'000)), run_crc32(100'000));
  EXPECT_EQ(call<int32_t>("run_sort", 10'000), run_sort(10'000));
  EXPECT_EQ(static_cast<uint32_t>(call<int32_t>("run_compress", 20'000)), run_compress(20'000));
  EXPECT_EQ(static_cast<uint32_t>(call<int32_t>("run_parse", 2'000)), run_parse(2'000));
  EXPECT_EQ(call<int32_t>("run_interp", 10'000), run_interp(10'000));
  EXPECT_EQ(call<int32_t>("run_edit_distance", 300), run_edit_distance(300));
  EXPECT_EQ(static_cast<uint32_t>(call<int32_t>("run_bfs", 100)), run_bfs(100));
  EXPECT_EQ(call<double>("run_nbody", 1'000), run_nbody(1'000));
}

INSTANTIATE_TEST_SUITE_P(PlainAndMetered, KernelsTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Metered" : "Plain"; });

}  // namespace
}  // namespace wasm_sandbox
