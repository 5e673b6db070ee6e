// call_batch (many argument sets, one entry into guest code) and call_async (worker threads,
// one call at a time per instance).
#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "test_util.h"

namespace wasm_sandbox {
namespace {

using testing::load_wat;

constexpr std::string_view kGuest = R"((module
  (import "host" "slow" (func $slow (param i32) (result i32)))
  (global $calls (mut i32) (i32.const 0))
  (func (export "div") (param i32 i32) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.div_s (local.get 0) (local.get 1)))
  (func (export "calls") (result i32) (global.get $calls))
  (func (export "spin") (param i32) (result i32) (loop (br 0)) (i32.const 0))
  (func (export "slow") (param i32) (result i32) (call $slow (local.get 0))))
)";

// The host function notes how many calls of it overlap: call_async must never run two calls
// of one instance at once.
struct Overlap {
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
};

Imports imports_for(Overlap& overlap) {
  Imports imports;
  imports.add("host", "slow", Func::wrap([&overlap](int32_t x) {
                const int now = overlap.inside.fetch_add(1) + 1;
                int seen = overlap.most.load();
                while (now > seen && !overlap.most.compare_exchange_weak(seen, now)) {
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
                overlap.inside.fetch_sub(1);
                return x * 2;
              }));
  return imports;
}

class AsyncBatchTest : public ::testing::Test {
 protected:
  AsyncBatchTest()
      : engine_(config()),
        module_(load_wat(engine_, kGuest)),
        instance_(std::move(module_.instantiate(imports_for(overlap_))).value()) {}
  static EngineConfig config() {
    EngineConfig config;
    config.tier = Tier::Baseline;
    return config;
  }
  Overlap overlap_;
  Engine engine_;
  Module module_;
  Instance instance_;
};

TEST_F(AsyncBatchTest, BatchGivesEachCallItsResultOrError) {
  std::vector<std::vector<Value>> sets = {
      {Value::i32(10), Value::i32(2)}, {Value::i32(1), Value::i32(0)},  // traps
      {Value::i32(9), Value::i32(3)},  {Value::i64(1), Value::i32(1)},  // wrong type
      {Value::i32(-8), Value::i32(2)},
  };
  auto results = instance_.call_batch("div", sets);
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ((*results[0])[0].i32(), 5);
  ASSERT_FALSE(results[1].ok());
  EXPECT_EQ(results[1].error().trap(), TrapKind::DivideByZero);
  EXPECT_EQ(results[1].error().message(), "test.wat: `div` trapped: integer divide by zero");
  EXPECT_EQ((*results[2])[0].i32(), 3);
  ASSERT_FALSE(results[3].ok());
  EXPECT_EQ(results[3].error().kind(), ErrorKind::InvalidArgument);
  EXPECT_NE(results[3].error().message().find("(call 3 of the batch)"), std::string::npos)
      << results[3].error().message();
  EXPECT_EQ((*results[4])[0].i32(), -4);
  // Four calls ran (the one with wrong arguments did not).
  EXPECT_EQ(*instance_.call<int32_t>("calls"), 4);
}

TEST_F(AsyncBatchTest, ATimeoutEndsTheWholeBatch) {
  ASSERT_TRUE(instance_.set_timeout(std::chrono::milliseconds(20)).ok());
  std::vector<std::vector<Value>> sets(3, std::vector<Value>{Value::i32(0)});
  auto results = instance_.call_batch("spin", sets);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].error().trap(), TrapKind::Timeout);
  EXPECT_EQ(results[1].error().trap(), TrapKind::Timeout);
  EXPECT_NE(results[2].error().message().find("was not called: the batch stopped at call 0"),
            std::string::npos)
      << results[2].error().message();
}

TEST_F(AsyncBatchTest, BatchOfAMissingExportFailsEveryCall) {
  std::vector<std::vector<Value>> sets(2);
  auto results = instance_.call_batch("nope", sets);
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) EXPECT_EQ(r.error().kind(), ErrorKind::NotFound);
  EXPECT_TRUE(instance_.call_batch("div", {}).empty());
}

TEST_F(AsyncBatchTest, TypedBatchGivesEachCallItsResultOrError) {
  auto div = instance_.typed<int32_t(int32_t, int32_t)>("div");
  ASSERT_TRUE(div.ok());
  const std::vector<std::tuple<int32_t, int32_t>> sets = {{10, 2}, {1, 0}, {9, 3}, {-8, 2}};
  auto results = div->call_batch(sets);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(*results[0], 5);
  ASSERT_FALSE(results[1].ok());
  EXPECT_EQ(results[1].error().message(), "test.wat: `div` trapped: integer divide by zero");
  EXPECT_EQ(*results[2], 3);
  EXPECT_EQ(*results[3], -4);
  EXPECT_EQ(*instance_.call<int32_t>("calls"), 4);
  EXPECT_TRUE(div->call_batch({}).empty());

  ASSERT_TRUE(instance_.set_timeout(std::chrono::milliseconds(20)).ok());
  auto spin = instance_.typed<int32_t(int32_t)>("spin");
  ASSERT_TRUE(spin.ok());
  const std::vector<std::tuple<int32_t>> spins(3, {0});
  auto stopped = spin->call_batch(spins);
  ASSERT_EQ(stopped.size(), 3u);
  EXPECT_EQ(stopped[0].error().trap(), TrapKind::Timeout);
  EXPECT_NE(stopped[2].error().message().find("was not called: the batch stopped at call 0"),
            std::string::npos);
}

TEST_F(AsyncBatchTest, AsyncCallsOnOneInstanceRunOneAtATimeInOrder) {
  std::vector<std::future<Result<std::vector<Value>>>> futures;
  for (int i = 0; i < 20; ++i) futures.push_back(instance_.call_async("slow", {Value::i32(i)}));
  for (int i = 0; i < 20; ++i) {
    auto r = futures[i].get();
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ((*r)[0].i32(), 2 * i);
  }
  EXPECT_EQ(overlap_.most.load(), 1);
}

TEST_F(AsyncBatchTest, AsyncCallsOnManyInstancesRunInParallel) {
  Overlap shared;
  std::vector<Instance> instances;
  for (int i = 0; i < 4; ++i) {
    instances.push_back(std::move(module_.instantiate(imports_for(shared))).value());
  }
  std::vector<std::future<Result<int32_t>>> futures;
  for (int round = 0; round < 5; ++round) {
    for (auto& instance : instances) {
      auto slow = instance.typed<int32_t(int32_t)>("slow");
      ASSERT_TRUE(slow.ok());
      futures.push_back(slow->call_async(round));
    }
  }
  for (size_t k = 0; k < futures.size(); ++k) EXPECT_EQ(*futures[k].get(), 2 * int32_t(k / 4));
  EXPECT_GE(shared.most.load(), 2);  // the pool has at least two threads
}

TEST_F(AsyncBatchTest, AsyncTrapsAndDroppedHandles) {
  std::future<Result<std::vector<Value>>> pending;
  {
    auto instance = module_.instantiate(imports_for(overlap_));
    ASSERT_TRUE(instance.ok());
    pending = instance->call_async("div", {Value::i32(1), Value::i32(0)});
  }  // the handle is gone; the call keeps the instance alive
  auto r = pending.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().trap(), TrapKind::DivideByZero);
  // Once the future is ready, no worker holds the instance: only the fixture's is left.
  EXPECT_EQ(engine_.live_instances(), 1u);
}

}  // namespace
}  // namespace wasm_sandbox
