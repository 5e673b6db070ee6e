// Stopping guest code that has nothing to check: timeouts and interrupts reach a running call
// by signalling its thread (runtime.h, interrupt_thread()), on both tiers. These are the races
// that design has to survive: a stop asked for while the thread is in a host function, nested
// calls, interrupt_all() across many threads, late signals meeting later calls, threads that
// exit, instances destroyed while the watchdog retries a stop, system calls in host code.
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <thread>
#include <vector>

#include "runtime/runtime.h"
#include "test_util.h"
#include "wasm_sandbox/wasm_sandbox.h"

namespace wasm_sandbox {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// tight: a loop with no instruction but the branch; no check could be placed in it.
// explode: 2^n calls without a loop. count: a bounded loop with a result to verify.
constexpr std::string_view kGuest = R"(
  (module
    (import "host" "started" (func $started))
    (import "host" "slow" (func $slow))
    (import "host" "nested" (func $nested))
    (func (export "tight") (loop (br 0)))
    (func (export "started_then_tight") (call $started) (loop (br 0)))
    (func (export "slow_then_tight") (call $slow) (loop (br 0)))
    (func (export "nested_then_tight") (call $nested) (loop (br 0)))
    (func $explode (export "explode") (param i32)
      (if (local.get 0) (then
        (call $explode (i32.sub (local.get 0) (i32.const 1)))
        (call $explode (i32.sub (local.get 0) (i32.const 1))))))
    (func $recurse (export "recurse") (param i64) (result i64)
      (call $recurse (i64.add (local.get 0) (i64.const 1))))
    (func (export "count") (param $n i32) (result i32) (local $x i32)
      (block $done (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 1103515245)) (i32.const 12345)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
      (local.get $x))
    (func (export "answer") (result i32) (i32.const 42)))
)";

uint32_t expected_count(uint32_t n) {
  uint32_t x = 0;
  while (n--) x = x * 1103515245u + 12345u;
  return x;
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

TrapKind trap_of(const Result<std::vector<Value>>& result) {
  if (result.ok()) return TrapKind::None;
  return result.error().trap();
}

// What the host functions of one instance do; set before the call that uses them.
struct HostHooks {
  std::atomic<int> started{0};
  std::atomic<bool> in_slow{false};
  std::chrono::milliseconds slow_for{0};
  std::function<Status()> nested = [] { return Status(); };
};

Imports hooks_imports(HostHooks& hooks) {
  Imports imports;
  imports.add("host", "started", Func::wrap([&hooks]() { hooks.started.fetch_add(1); }));
  // Blocks without checking for stops, as a careless host function would.
  imports.add("host", "slow", Func::wrap([&hooks]() {
                hooks.in_slow = true;
                std::this_thread::sleep_for(hooks.slow_for);
              }));
  imports.add("host", "nested", Func::wrap([&hooks](Caller&) { return hooks.nested(); }));
  return imports;
}

void wait_until(const std::function<bool()>& ready) {
  const auto give_up = Clock::now() + 10s;
  while (!ready() && Clock::now() < give_up) std::this_thread::sleep_for(100us);
  ASSERT_TRUE(ready()) << "gave up waiting";
}

class InterruptSignalTest : public ::testing::TestWithParam<Tier> {
 protected:
  static EngineConfig config() { return testing::tier_config(GetParam()); }
  InterruptSignalTest() : engine_(config()), module_(testing::load_wat(engine_, kGuest)) {}

  Instance instantiate(HostHooks& hooks) {
    auto instance = module_.instantiate(hooks_imports(hooks));
    EXPECT_TRUE(instance.ok()) << instance.error().message();
    return std::move(instance).value();
  }

  Engine engine_;
  Module module_;
};

TEST_P(InterruptSignalTest, TimeoutStopsALoopWithNothingToCheck) {
  HostHooks hooks;
  Instance instance = instantiate(hooks);
  ASSERT_TRUE(instance.set_timeout(50ms).ok());
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    auto result = instance.call("tight", {});
    const double elapsed = ms_since(start);
    EXPECT_EQ(trap_of(result), TrapKind::Timeout);
    EXPECT_GE(elapsed, 50);
    EXPECT_LE(elapsed, 2 * 50 + 10);
    EXPECT_EQ(*instance.call<int32_t>("answer"), 42);
  }
}

TEST_P(InterruptSignalTest, InterruptStopsALoopWithNothingToCheck) {
  HostHooks hooks;
  Instance instance = instantiate(hooks);
  std::thread stopper([&] {
    wait_until([&] { return hooks.started.load() == 1; });
    std::this_thread::sleep_for(10ms);
    instance.interrupt();
  });
  const auto start = Clock::now();
  auto result = instance.call("started_then_tight", {});
  stopper.join();
  EXPECT_EQ(trap_of(result), TrapKind::Interrupted);
  EXPECT_LE(ms_since(start), 10 + 50);
  EXPECT_EQ(*instance.call<int32_t>("answer"), 42);  // consumed
}

// Thread pools often block every signal in their workers; the interrupt signal is unblocked
// on a thread's first call.
TEST_P(InterruptSignalTest, TimeoutStopsACallOnAThreadThatBlocksSignals) {
  HostHooks hooks;
  Instance instance = instantiate(hooks);
  ASSERT_TRUE(instance.set_timeout(30ms).ok());
  std::thread worker([&] {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    const auto start = Clock::now();
    EXPECT_EQ(trap_of(instance.call("tight", {})), TrapKind::Timeout);
    EXPECT_LE(ms_since(start), 2 * 30 + 10);
  });
  worker.join();
}

TEST_P(InterruptSignalTest, TimeoutStopsRecursionWithoutLoops) {
  HostHooks hooks;
  Instance instance = instantiate(hooks);
  ASSERT_TRUE(instance.set_timeout(50ms).ok());
  const auto start = Clock::now();
  EXPECT_EQ(trap_of(instance.call("explode", {Value::i32(62)})), TrapKind::Timeout);
  EXPECT_LE(ms_since(start), 2 * 50 + 10);
}

// The signal does nothing to host code; the stop takes effect as the host function returns,
// even though the guest then runs a loop with nothing to check.
TEST_P(InterruptSignalTest, StopAskedDuringAHostCallTakesEffectWhenItReturns) {
  HostHooks hooks;
  hooks.slow_for = 100ms;
  Instance instance = instantiate(hooks);
  std::thread stopper([&] {
    wait_until([&] { return hooks.in_slow.load(); });
    instance.interrupt();
  });
  auto start = Clock::now();
  auto interrupted = instance.call("slow_then_tight", {});
  stopper.join();
  EXPECT_EQ(trap_of(interrupted), TrapKind::Interrupted);
  EXPECT_GE(ms_since(start), 100);
  EXPECT_LE(ms_since(start), 100 + 30);

  ASSERT_TRUE(instance.set_timeout(30ms).ok());
  start = Clock::now();
  EXPECT_EQ(trap_of(instance.call("slow_then_tight", {})), TrapKind::Timeout);
  EXPECT_GE(ms_since(start), 100);
  EXPECT_LE(ms_since(start), 100 + 30);
  EXPECT_EQ(*instance.call<int32_t>("answer"), 42);
}

// interrupt_all() with eight threads each running a call: every call stops (a missed stop
// would show as the one-minute timeout), and nothing leaks into the next calls on the same
// threads, on the interrupted instance or on another one.
TEST_P(InterruptSignalTest, InterruptAllAcrossThreadsNeverMissesNorLeaks) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 200;
  constexpr uint32_t kCount = 20000;
  const int32_t expected = static_cast<int32_t>(expected_count(kCount));
  std::vector<std::unique_ptr<HostHooks>> hooks;
  std::vector<Instance> spinners, others;
  for (int t = 0; t < kThreads; ++t) {
    hooks.push_back(std::make_unique<HostHooks>());
    spinners.push_back(instantiate(*hooks.back()));
    ASSERT_TRUE(spinners.back().set_timeout(60s).ok());
    others.push_back(instantiate(*hooks.back()));
  }
  std::atomic<int> running{0};
  std::atomic<int> failures{0};
  std::barrier round_end(kThreads + 1);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        running.fetch_add(1);
        auto stopped = spinners[t].call("started_then_tight", {});
        if (trap_of(stopped) != TrapKind::Interrupted) {
          failures.fetch_add(1);
          ADD_FAILURE() << "round " << round << ": " << to_string(trap_of(stopped));
        }
        auto other = others[t].call<int32_t>("count", static_cast<int32_t>(kCount));
        if (!other.ok() || *other != expected) {
          failures.fetch_add(1);
          ADD_FAILURE() << "round " << round
                        << " other: " << (other.ok() ? "wrong" : other.error().message());
        }
        auto again = spinners[t].call<int32_t>("answer");
        if (!again.ok() || *again != 42) {
          failures.fetch_add(1);
          ADD_FAILURE() << "round " << round
                        << " again: " << (again.ok() ? "wrong" : again.error().message());
        }
        round_end.arrive_and_wait();
      }
    });
  }
  for (int round = 0; round < kRounds; ++round) {
    // Every thread has entered its call (the guest has called `started`) before the stop.
    wait_until([&] {
      int in_guest = 0;
      for (const auto& h : hooks) in_guest += h->started.load() > round ? 1 : 0;
      return in_guest == kThreads;
    });
    engine_.interrupt_all();
    round_end.arrive_and_wait();
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(running.load(), kThreads * kRounds);
}

// guest -> host -> the same instance: the inner call takes the stop; the host function passes
// the trap on, so the outer call ends with it too.
TEST_P(InterruptSignalTest, NestedCallOnTheSameInstanceStops) {
  HostHooks hooks;
  Instance instance = instantiate(hooks);
  Result<std::vector<Value>> inner = Error(ErrorKind::Internal, "not run");
  hooks.nested = [&]() -> Status {
    inner = instance.call("started_then_tight", {});
    return inner.ok() ? Status() : Status(inner.error());
  };
  std::thread stopper([&] {
    wait_until([&] { return hooks.started.load() == 1; });
    instance.interrupt();
  });
  auto outer = instance.call("nested_then_tight", {});
  stopper.join();
  EXPECT_EQ(trap_of(inner), TrapKind::Interrupted);
  EXPECT_EQ(trap_of(outer), TrapKind::Interrupted);
  EXPECT_EQ(*instance.call<int32_t>("answer"), 42);
}

// guest A -> host -> guest B on the same thread: a stop of A waits while B runs (B's flag is
// what the thread checks), and takes effect when the host function returns to A.
TEST_P(InterruptSignalTest, NestedCallOnAnotherInstanceKeepsTheStopsApart) {
  HostHooks outer_hooks, inner_hooks;
  Instance outer = instantiate(outer_hooks);
  Instance inner = instantiate(inner_hooks);
  Result<std::vector<Value>> inner_result = Error(ErrorKind::Internal, "not run");
  std::atomic<bool> inner_done{false};
  outer_hooks.nested = [&]() -> Status {
    inner_result = inner.call("started_then_tight", {});
    inner_done = true;
    return {};  // swallows the inner trap
  };
  Result<std::vector<Value>> outer_result = Error(ErrorKind::Internal, "not run");
  std::thread caller([&] { outer_result = outer.call("nested_then_tight", {}); });
  wait_until([&] { return inner_hooks.started.load() == 1; });
  outer.interrupt();
  std::this_thread::sleep_for(30ms);  // fifteen retries of the signal, all for the outer call
  EXPECT_FALSE(inner_done.load());
  inner.interrupt();
  caller.join();
  EXPECT_EQ(trap_of(inner_result), TrapKind::Interrupted);
  EXPECT_EQ(trap_of(outer_result), TrapKind::Interrupted);
  EXPECT_EQ(*inner.call<int32_t>("answer"), 42);
  EXPECT_EQ(*outer.call<int32_t>("answer"), 42);
}

// Signals that arrive with no stop pending (late ones, or anyone's) change nothing: not a
// running loop, not a deep recursion that ends in stack exhaustion, not the next call.
TEST_P(InterruptSignalTest, SignalsWithoutAStopChangeNothing) {
  HostHooks hooks;
  Instance first = instantiate(hooks);
  Instance second = instantiate(hooks);
  std::atomic<runtime::GuestThread*> target{nullptr};
  std::atomic<bool> done{false};
  std::atomic<bool> flood_over{false};
  std::thread flooder([&] {
    wait_until([&] { return target.load() != nullptr; });
    while (!done.load()) {
      runtime::interrupt_thread(target.load());  // the worker waits for flood_over to exit
      std::this_thread::sleep_for(50us);
    }
    flood_over = true;
  });
  std::thread worker([&] {
    target = runtime::this_guest_thread();
    for (int i = 0; i < 20; ++i) {
      Instance& instance = i % 2 ? first : second;
      EXPECT_EQ(*instance.call<int32_t>("count", 200000),
                static_cast<int32_t>(expected_count(200000)));
      EXPECT_EQ(trap_of(instance.call("recurse", {Value::i64(0)})), TrapKind::StackExhausted);
    }
    // An interrupted call, then more signals: the next calls run to the end.
    std::thread stopper([&] {
      wait_until([&] { return hooks.started.load() == 1; });
      first.interrupt();
    });
    EXPECT_EQ(trap_of(first.call("started_then_tight", {})), TrapKind::Interrupted);
    stopper.join();
    for (int i = 0; i < 10; ++i) {
      EXPECT_EQ(*first.call<int32_t>("count", 200000),
                static_cast<int32_t>(expected_count(200000)));
      EXPECT_EQ(*second.call<int32_t>("count", 200000),
                static_cast<int32_t>(expected_count(200000)));
    }
    done = true;
    while (!flood_over.load()) std::this_thread::yield();
  });
  worker.join();
  flooder.join();
}

// Threads that make calls and exit, while other threads interrupt their instances: the
// signals must never go to a thread that has ended.
TEST_P(InterruptSignalTest, ThreadsExitWhileTheirInstancesAreInterrupted) {
  constexpr int kThreads = 40;
  std::vector<std::unique_ptr<HostHooks>> hooks;
  std::vector<Instance> instances;
  for (int t = 0; t < kThreads; ++t) {
    hooks.push_back(std::make_unique<HostHooks>());
    instances.push_back(instantiate(*hooks.back()));
  }
  std::atomic<bool> done{false};
  std::thread hammer([&] {
    while (!done.load()) {
      engine_.interrupt_all();
      for (const Instance& instance : instances) instance.interrupt();
      std::this_thread::yield();
    }
  });
  for (int t = 0; t < kThreads; ++t) {
    std::thread([&, t] {
      for (int i = 0; i < 5; ++i) {
        auto result = instances[t].call<int32_t>("count", 100000);
        if (result.ok()) {
          EXPECT_EQ(*result, static_cast<int32_t>(expected_count(100000)));
        } else {
          EXPECT_EQ(result.error().trap(), TrapKind::Interrupted);
        }
      }
    }).join();
  }
  done = true;
  hammer.join();
}

// A stop asked during a host call is retried by the watchdog until the call ends; the
// instance is dropped right after, before the next retry.
TEST_P(InterruptSignalTest, InstancesDestroyedWhileTheirStopIsRetried) {
  for (int i = 0; i < 30; ++i) {
    HostHooks hooks;
    hooks.slow_for = 3ms;
    auto instance = std::make_unique<Instance>(instantiate(hooks));
    if (i % 2) {
      ASSERT_TRUE(instance->set_timeout(1ms).ok());
    }
    std::thread stopper([&] {
      wait_until([&] { return hooks.in_slow.load(); });
      instance->interrupt();
    });
    const TrapKind trap = trap_of(instance->call("slow_then_tight", {}));
    stopper.join();
    EXPECT_TRUE(trap == TrapKind::Interrupted || trap == TrapKind::Timeout) << to_string(trap);
    instance.reset();
  }
  std::this_thread::sleep_for(10ms);  // the watchdog's next retries find nothing to touch
}

INSTANTIATE_TEST_SUITE_P(Tiers, InterruptSignalTest, testing::both_tiers(), testing::tier_name);

// A signal that lands in a host function's system call: the handler has SA_RESTART, so a
// blocking receive on a socket (WASI sock_recv) goes on and gets its data.
TEST(InterruptSignalSyscallTest, SignalsDoNotBreakBlockingWasiCalls) {
  constexpr std::string_view kReceiver = R"(
    (module
      (import "wasi_snapshot_preview1" "sock_recv"
        (func $recv (param i32 i32 i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "recv") (param $fd i32) (result i32)
        (i32.store (i32.const 64) (i32.const 512))
        (i32.store (i32.const 68) (i32.const 64))
        (call $recv (local.get $fd) (i32.const 64) (i32.const 1) (i32.const 0) (i32.const 0)
                    (i32.const 4)))
      (func (export "received") (result i32) (i32.load (i32.const 0))))
  )";
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  auto wasi = Wasi::create(WasiConfig().socket(pair[0]));
  ASSERT_TRUE(wasi.ok()) << wasi.error().message();
  close(pair[0]);
  Engine engine;
  Imports imports;
  wasi->add_to(imports);
  auto instance = testing::load_wat(engine, kReceiver).instantiate(imports);
  ASSERT_TRUE(instance.ok()) << instance.error().message();
  Result<int32_t> errno_value = Error(ErrorKind::Internal, "not run");
  std::thread receiver([&] { errno_value = instance->call<int32_t>("recv", 3); });
  std::this_thread::sleep_for(20ms);
  for (int i = 0; i < 50; ++i) {
    pthread_kill(receiver.native_handle(), runtime::kInterruptSignal);
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(write(pair[1], "pong", 4), 4);
  receiver.join();
  close(pair[1]);
  ASSERT_TRUE(errno_value.ok()) << errno_value.error().message();
  EXPECT_EQ(*errno_value, 0);  // not 27 (EINTR)
  EXPECT_EQ(*instance->call<int32_t>("received"), 4);
}

}  // namespace
}  // namespace wasm_sandbox
