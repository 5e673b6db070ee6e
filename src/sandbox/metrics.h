// Recording an engine's metrics (wasm_sandbox/metrics.h). Internal to the library.
//
// The workload: calls from the host are the hot path (~15 ns each, more than a million a
// second per thread); everything else (loads, instantiations, traps) is rare. So a call
// touches only its own instance's counters, with plain (relaxed, unlocked) stores: calls on
// one instance are serialized by the host, so each counter has one writer at a time. A
// snapshot sums the live instances' counters and those of instances already gone. Only one
// call in kCallSampleEvery per instance reads the clock and writes to a shared histogram.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "wasm_sandbox/engine.h"
#include "wasm_sandbox/metrics.h"

namespace wasm_sandbox::detail {

// A histogram of durations with fixed log2 buckets. record() is lock-free and thread-safe.
class Histogram {
 public:
  void record(uint64_t nanos);
  LatencySummary summary() const;

 private:
  std::array<std::atomic<uint64_t>, kHistogramBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_ns_{0};
  std::atomic<uint64_t> max_ns_{0};
};

// One instance's calls and fuel. Written by the thread calling the instance (one at a time),
// read by snapshots from any thread, which find the instance in its engine's list of live
// instances (state.h, EngineState::live) and, once it is gone, its totals beside that list.
struct CallCounters {
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> fuel{0};

  // Counts one call; true if it is to be timed (one in kCallSampleEvery).
  bool count_call() {
    const uint64_t n = calls.load(std::memory_order_relaxed);
    calls.store(n + 1, std::memory_order_relaxed);
    return n % kCallSampleEvery == 0;
  }
  void add_calls(uint64_t n) {
    calls.store(calls.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void add_fuel(uint64_t n) {
    fuel.store(fuel.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

// An engine's metrics. Thread-safe.
class Metrics {
 public:
  Histogram call_latency;
  Histogram instantiate;
  std::array<Histogram, 2> compile;  // [0] baseline, [1] optimized

  void count_trap(TrapKind kind) {
    traps_[static_cast<size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
  }
  void count_load(CacheHit cache) {
    loads_[static_cast<size_t>(cache)].fetch_add(1, std::memory_order_relaxed);
  }
  void record_compile(bool optimized, uint64_t nanos) { compile[optimized ? 1 : 0].record(nanos); }

  // Everything but the calls and fuel (summed over the engine's instances, Engine::metrics())
  // and the gauges, which the engine adds.
  EngineMetrics snapshot() const;

 private:
  std::array<std::atomic<uint64_t>, kTrapKindCount> traps_{};
  std::array<std::atomic<uint64_t>, 3> loads_{};
};

// Nanoseconds between two steady_clock readings.
inline uint64_t nanos_between(std::chrono::steady_clock::time_point from,
                              std::chrono::steady_clock::time_point to) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count());
}

}  // namespace wasm_sandbox::detail
