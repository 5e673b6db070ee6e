// Many live instances in one process (issue 6's scale target): 10,000 in guard-page mode
// and 100,000 in dense mode, each called once, and `wasm-sandbox bench instances` printing what
// they cost.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/sanitizers.h"
#include "test_util.h"

namespace wasm_sandbox {
namespace {

// Makes `count` instances of add.wasm in an engine of `config` that allows exactly that many,
// keeps them all alive and calls each once; one more is refused, naming the limit.
void hold_and_call_each(EngineConfig config, uint32_t count) {
  config.tier = Tier::Baseline;
  config.limits.instances = count;
  config.limits.total_memory_bytes = uint64_t{count} * 4 * 65536;
  Engine engine(config);
  auto module = engine.load_file(testing::guest("add.wasm"));
  ASSERT_TRUE(module.ok()) << module.error().message();
  std::vector<Instance> instances;
  instances.reserve(count);
  for (uint32_t k = 0; k < count; ++k) {
    auto instance = module->instantiate();
    ASSERT_TRUE(instance.ok()) << "instance " << k << ": " << instance.error().message();
    instances.push_back(std::move(*instance));
  }
  EXPECT_EQ(engine.live_instances(), count);
  for (uint32_t k = 0; k < count; ++k) {
    auto add = instances[k].typed<int32_t(int32_t, int32_t)>("add");
    ASSERT_TRUE(add.ok());
    ASSERT_EQ(*add->call(static_cast<int32_t>(k), 1), static_cast<int32_t>(k + 1));
  }
  auto extra = module->instantiate();
  ASSERT_FALSE(extra.ok());
  EXPECT_EQ(extra.error().kind(), ErrorKind::LimitExceeded);
  EXPECT_NE(extra.error().message().find("Limits::instances"), std::string::npos);
  instances.clear();
  EXPECT_EQ(engine.live_instances(), 0u);
  EXPECT_EQ(engine.memory_in_use(), 0u);
}

TEST(ScaleTest, TenThousandLiveInstancesInGuardPageMode) {
#if defined(WS_ASAN) || defined(WS_TSAN)
  // Each memory reserves 8 GiB of address space: 10,000 of them need 80 TiB, more than the
  // sanitizers leave to the program.
  GTEST_SKIP() << "needs 80 TiB of address space, which sanitizers do not leave";
#endif
  hold_and_call_each(EngineConfig{}, 10'000);
}

// Dense memories (runtime/dense_memory.h) take only what they may grow to, from shared slabs:
// neither the address space nor the kernel's limit of 65,530 mappings runs out.
TEST(ScaleTest, AHundredThousandLiveInstancesInDenseMode) {
#if defined(WS_ASAN) || defined(WS_TSAN)
  GTEST_SKIP() << "100,000 instances take minutes under sanitizers";
#endif
  EngineConfig config;
  config.memory_mode = MemoryMode::Dense;
  hold_and_call_each(config, 100'000);
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
