// Many live instances in one process (issue 6's scale target): 10,000 in guard-page mode,
// each called once, and `wasm-sandbox bench instances` printing what they cost.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/sanitizers.h"
#include "test_util.h"

namespace wasm_sandbox {
namespace {

TEST(ScaleTest, TenThousandLiveInstancesInGuardPageMode) {
#if defined(WS_ASAN) || defined(WS_TSAN)
  // Each memory reserves 8 GiB of address space: 10,000 of them need 80 TiB, more than the
  // sanitizers leave to the program.
  GTEST_SKIP() << "needs 80 TiB of address space, which sanitizers do not leave";
#endif
  constexpr uint32_t kCount = 10'000;
  EngineConfig config;
  config.tier = Tier::Baseline;
  config.limits.instances = kCount;
  config.limits.total_memory_bytes = uint64_t{kCount} * 4 * 65536;
  Engine engine(config);
  auto module = engine.load_file(testing::guest("add.wasm"));
  ASSERT_TRUE(module.ok()) << module.error().message();
  std::vector<Instance> instances;
  instances.reserve(kCount);
  for (uint32_t k = 0; k < kCount; ++k) {
    auto instance = module->instantiate();
    ASSERT_TRUE(instance.ok()) << "instance " << k << ": " << instance.error().message();
    instances.push_back(std::move(*instance));
  }
  EXPECT_EQ(engine.live_instances(), kCount);
  for (uint32_t k = 0; k < kCount; ++k) {
    auto add = instances[k].typed<int32_t(int32_t, int32_t)>("add");
    ASSERT_TRUE(add.ok());
    ASSERT_EQ(*add->call(static_cast<int32_t>(k), 1), static_cast<int32_t>(k + 1));
  }
  // One more than the engine allows is refused, naming the limit.
  auto extra = module->instantiate();
  ASSERT_FALSE(extra.ok());
  EXPECT_EQ(extra.error().kind(), ErrorKind::LimitExceeded);
  EXPECT_NE(extra.error().message().find("Limits::instances"), std::string::npos);
  instances.clear();
  EXPECT_EQ(engine.live_instances(), 0u);
  EXPECT_EQ(engine.memory_in_use(), 0u);
}

TEST(ScaleTest, BenchInstancesPrintsItsFigures) {
  const auto run = testing::cli("bench instances --count 200 " + testing::guest("add.wasm"));
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("instances: 200\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("instantiate-ns: "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("bytes-per-instance: "), std::string::npos) << run.out;
  const auto missing = testing::cli("bench instances --count 5 /nonexistent.wasm");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.out.find("/nonexistent.wasm"), std::string::npos) << missing.out;
}

}  // namespace
}  // namespace wasm_sandbox
