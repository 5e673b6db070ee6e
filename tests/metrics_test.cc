// Engine::metrics() and to_prometheus(): counts go up by exactly what was done, quantiles are
// ordered, the text is valid Prometheus exposition format, and recording is thread-safe.
#include "wasm_sandbox/metrics.h"

#include <cstring>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "test_util.h"
#include "wasm_sandbox/wasm_sandbox.h"

namespace wasm_sandbox {
namespace {

using testing::load_wat;
using testing::tier_config;

constexpr const char* kModule = R"((module
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "boom") unreachable)
  (func (export "div") (param i32) (result i32) i32.const 1 local.get 0 i32.div_s)
  (func (export "spin") (param i32) (loop local.get 0 i32.const 1 i32.sub local.tee 0 br_if 0))))";

TEST(MetricsTest, CountsEveryCallFromTheHost) {
  Engine engine(tier_config(Tier::Baseline));
  auto instance = load_wat(engine, kModule).instantiate();
  ASSERT_TRUE(instance.ok());
  const uint64_t before = engine.metrics().calls;
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(instance->call<int32_t>("add", i, 1).ok());
  auto typed = instance->typed<int32_t(int32_t, int32_t)>("add");
  ASSERT_TRUE(typed.ok());
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(typed->call(i, 2).ok());
  const std::vector<std::tuple<int32_t, int32_t>> sets(50, {1, 2});
  (void)typed->call_batch(sets);
  const std::vector<std::vector<Value>> dynamic(30, {Value::i32(1), Value::i32(2)});
  (void)instance->call_batch("add", dynamic);
  const EngineMetrics m = engine.metrics();
  EXPECT_EQ(m.calls - before, 100u + 200u + 50u + 30u);
  // One call in kCallSampleEvery of each single-call path is timed; batches are not.
  EXPECT_GE(m.call_latency.count, 300 / kCallSampleEvery);
  EXPECT_LE(m.call_latency.count, 300 / kCallSampleEvery + 2);
}

TEST(MetricsTest, CallsOfInstancesGoneStillCount) {
  Engine engine(tier_config(Tier::Baseline));
  Module module = load_wat(engine, kModule);
  for (int k = 0; k < 3; ++k) {
    auto instance = module.instantiate();
    ASSERT_TRUE(instance.ok());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(instance->call<int32_t>("add", i, 1).ok());
  }
  const EngineMetrics m = engine.metrics();
  EXPECT_EQ(m.calls, 30u);
  EXPECT_EQ(m.instantiate.count, 3u);
  EXPECT_EQ(m.live_instances, 0u);
}

TEST(MetricsTest, CountsTrapsByKind) {
  Engine engine(tier_config(Tier::Baseline));
  auto instance = load_wat(engine, kModule).instantiate();
  ASSERT_TRUE(instance.ok());
  EXPECT_FALSE(instance->call("boom", {}).ok());
  EXPECT_FALSE(instance->call("boom", {}).ok());
  EXPECT_FALSE(instance->call<int32_t>("div", 0).ok());
  const EngineMetrics m = engine.metrics();
  EXPECT_EQ(m.trap_count(TrapKind::Unreachable), 2u);
  EXPECT_EQ(m.trap_count(TrapKind::DivideByZero), 1u);
  EXPECT_EQ(m.trap_count(TrapKind::OutOfBounds), 0u);
  EXPECT_EQ(m.trap_count(TrapKind::None), 0u);
}

TEST(MetricsTest, CountsTimeoutsAndFuel) {
  EngineConfig config = tier_config(Tier::Baseline);
  config.fuel = true;
  config.limits.fuel = 1'000'000;
  Engine engine(config);
  auto instance = load_wat(engine, kModule).instantiate();
  ASSERT_TRUE(instance.ok());
  ASSERT_TRUE(instance->call("spin", {Value::i32(1000)}).ok());
  const uint64_t used = instance->fuel_consumed();
  EXPECT_GT(used, 1000u);
  EXPECT_EQ(engine.metrics().fuel_consumed, used);
  auto out = instance->call("spin", {Value::i32(-1)});  // runs out
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().trap(), TrapKind::OutOfFuel);
  const EngineMetrics m = engine.metrics();
  EXPECT_EQ(m.trap_count(TrapKind::OutOfFuel), 1u);
  EXPECT_EQ(m.fuel_consumed, 1'000'000u);
}

TEST(MetricsTest, CountsLoadsByCacheAndCompileTimeByTier) {
  Engine engine(tier_config(Tier::Baseline));
  Module first = load_wat(engine, kModule);
  Module second = load_wat(engine, kModule);  // the in-process cache
  const EngineMetrics m = engine.metrics();
  EXPECT_EQ(m.module_loads[static_cast<size_t>(CacheHit::None)], 1u);
  EXPECT_EQ(m.module_loads[static_cast<size_t>(CacheHit::Memory)], 1u);
  EXPECT_DOUBLE_EQ(m.cache_hit_rate(), 0.5);
  EXPECT_EQ(m.compile[0].count, 1u);  // baseline
  EXPECT_GT(m.compile[0].sum, 0);
  EXPECT_EQ(m.compile[1].count, 0u);
}

TEST(MetricsTest, GaugesFollowLiveInstances) {
  Engine engine(tier_config(Tier::Baseline));
  Module module = load_wat(engine, "(module (memory (export \"memory\") 2))");
  auto a = module.instantiate();
  auto b = module.instantiate();
  ASSERT_TRUE(a.ok() && b.ok());
  const EngineMetrics m = engine.metrics();
  EXPECT_EQ(m.live_instances, 2u);
  EXPECT_EQ(m.memory_in_use, 4u * 65536);
  EXPECT_EQ(m.instantiate.count, 2u);
}

TEST(MetricsTest, QuantilesAreOrdered) {
  Engine engine(tier_config(Tier::Baseline));
  auto instance = load_wat(engine, kModule).instantiate();
  ASSERT_TRUE(instance.ok());
  for (int i = 0; i < 64 * 200; ++i) {
    ASSERT_TRUE(instance->call("spin", {Value::i32(i % 7 == 0 ? 5000 : 10)}).ok());
  }
  const LatencySummary h = engine.metrics().call_latency;
  ASSERT_EQ(h.count, 200u);
  EXPECT_GT(h.p50, 0);
  EXPECT_LE(h.p50, h.p95);
  EXPECT_LE(h.p95, h.p99);
  EXPECT_LE(h.p99, h.max);
  EXPECT_GE(h.sum, h.max);
  EXPECT_LE(h.sum, h.max * static_cast<double>(h.count));
}

// Every line is a comment (# HELP name text, # TYPE name type) or a sample
// `name{label="value",...} number`; every sample's metric has a TYPE line before it.
TEST(MetricsTest, PrometheusTextParses) {
  Engine engine(tier_config(Tier::Baseline));
  auto instance = load_wat(engine, kModule).instantiate();
  ASSERT_TRUE(instance.ok());
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(instance->call<int32_t>("add", i, 1).ok());
  (void)instance->call("boom", {});
  const std::string text = to_prometheus(engine.metrics());

  const std::regex help(R"(# HELP (wasm_sandbox_[a-z_]+) \S.*)");
  const std::regex type(R"(# TYPE (wasm_sandbox_[a-z_]+) (counter|gauge|histogram))");
  const std::regex sample(
      R"((wasm_sandbox_[a-z_]+)(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (-?[0-9.e+-]+|\+Inf))");
  std::map<std::string, std::string> types;
  std::istringstream lines(text);
  std::string line;
  size_t samples = 0;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_match(line, m, help)) continue;
    if (std::regex_match(line, m, type)) {
      EXPECT_TRUE(types.emplace(m[1], m[2]).second) << "second TYPE line: " << line;
      continue;
    }
    ASSERT_TRUE(std::regex_match(line, m, sample)) << "not a sample line: " << line;
    std::string name = m[1];
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string base = name.substr(0, name.size() - std::strlen(suffix));
      if (name.ends_with(suffix) && types.count(base) && types[base] == "histogram") name = base;
    }
    EXPECT_TRUE(types.count(name)) << "no TYPE before " << line;
    ++samples;
  }
  EXPECT_GT(samples, 50u);
  EXPECT_EQ(types["wasm_sandbox_calls_total"], "counter");
  EXPECT_EQ(types["wasm_sandbox_call_duration_seconds"], "histogram");
  EXPECT_EQ(types["wasm_sandbox_live_instances"], "gauge");
  EXPECT_NE(text.find("\nwasm_sandbox_calls_total 101\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nwasm_sandbox_traps_total{kind=\"unreachable\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("\nwasm_sandbox_traps_total{kind=\"out_of_fuel\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("wasm_sandbox_call_duration_seconds_bucket{le=\"+Inf\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("wasm_sandbox_module_loads_total{cache=\"none\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("wasm_sandbox_compile_duration_seconds_count{tier=\"baseline\"} 1\n"),
            std::string::npos);
}

TEST(MetricsTest, ConcurrentCallsAndSnapshots) {
  Engine engine(tier_config(Tier::Baseline));
  Module module = load_wat(engine, kModule);
  constexpr int kThreads = 4;
  constexpr int kCalls = 20'000;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    uint64_t last = 0;
    while (!done) {
      const EngineMetrics m = engine.metrics();
      EXPECT_GE(m.calls, last);  // never goes back, instances coming and going
      last = m.calls;
      EXPECT_LE(m.call_latency.p99, m.call_latency.max);
    }
  });
  std::vector<std::thread> callers;
  for (int t = 0; t < kThreads; ++t) {
    callers.emplace_back([&] {
      for (int round = 0; round < 4; ++round) {
        auto instance = module.instantiate();
        ASSERT_TRUE(instance.ok());
        auto add = instance->typed<int32_t(int32_t, int32_t)>("add");
        ASSERT_TRUE(add.ok());
        for (int i = 0; i < kCalls / 4; ++i) ASSERT_TRUE(add->call(i, 1).ok());
        (void)instance->call("boom", {});
      }
    });
  }
  for (auto& t : callers) t.join();
  done = true;
  reader.join();
  const EngineMetrics m = engine.metrics();
  EXPECT_EQ(m.calls, uint64_t{kThreads} * (kCalls + 4));
  EXPECT_EQ(m.trap_count(TrapKind::Unreachable), uint64_t{kThreads} * 4);
  EXPECT_EQ(m.instantiate.count, uint64_t{kThreads} * 4);
  EXPECT_EQ(m.live_instances, 0u);
}

TEST(MetricsTest, TrapKindLabelsAreSnakeCase) {
  EXPECT_EQ(trap_kind_label(TrapKind::OutOfFuel), "out_of_fuel");
  EXPECT_EQ(trap_kind_label(TrapKind::Unreachable), "unreachable");
  EXPECT_EQ(trap_kind_label(TrapKind::DivideByZero), "divide_by_zero");
  EXPECT_EQ(metric_name(Metric::Calls), "wasm_sandbox_calls_total");
}

}  // namespace
}  // namespace wasm_sandbox
