// Many threads, many instances, traps, stack exhaustion and normal returns interleaved.
#include <atomic>
#include <thread>

#include "test_util.h"

namespace wasm_sandbox {
namespace {

constexpr std::string_view kWork = R"((module
  (memory 1)
  (global $calls (mut i32) (i32.const 0))
  (func $fib (export "fib") (param i32) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (result i32) (i32.lt_s (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "calls") (result i32) global.get $calls)
  (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_u)
  (func (export "poke") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func $rec (export "recurse") (param i32) (result i32)
    local.get 0 i32.const 1 i32.add call $rec))
)";

TEST(ConcurrencyTest, EightThreadsInterleaveTrapsExhaustionAndReturns) {
  Engine engine;
  auto module = engine.load_wat(kWork, "work.wat");
  ASSERT_TRUE(module.ok());
  constexpr int kThreads = 8;
  constexpr int kRounds = 40;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<Instance> instances;
      for (int i = 0; i < 4; ++i) instances.push_back(*module->instantiate());
      for (int round = 0; round < kRounds; ++round) {
        Instance& in = instances[(t + round) % instances.size()];
        const int n = 10 + (round + t) % 8;
        static const int kFib[] = {55, 89, 144, 233, 377, 610, 987, 1597};
        switch ((round + t) % 4) {
          case 0:
            if (*in.call<int32_t>("fib", n) != kFib[n - 10]) ++wrong;
            break;
          case 1: {
            auto r = in.call<int32_t>("div", n, 0);
            if (r.ok() || r.error().trap() != TrapKind::DivideByZero) ++wrong;
            break;
          }
          case 2: {
            auto r = in.call<int32_t>("recurse", 0);
            if (r.ok() || r.error().trap() != TrapKind::StackExhausted) ++wrong;
            break;
          }
          case 3: {
            auto r = in.call("poke", {Value::i32(65536), Value::i32(n)});
            if (r.ok() || r.error().trap() != TrapKind::OutOfBounds) ++wrong;
            if (!in.call("poke", {Value::i32(64), Value::i32(n)}).ok()) ++wrong;
            break;
          }
        }
      }
      // A fresh instance per thread: state is per instance.
      Instance fresh = *module->instantiate();
      if (*fresh.call<int32_t>("fib", 5) != 5 || *fresh.call<int32_t>("calls") != 15) ++wrong;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(ConcurrencyTest, ModulesLoadInParallel) {
  Engine engine;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        const std::string wat = "(module (func (export \"k\") (result i32) i32.const " +
                                std::to_string(t * 100 + i) + "))";
        auto m = engine.load_wat(wat);
        if (!m.ok() || *m->instantiate()->call<int32_t>("k") != t * 100 + i) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace wasm_sandbox
