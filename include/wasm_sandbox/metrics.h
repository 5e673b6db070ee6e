// What an engine has done: counters, latency histograms and gauges, read as a snapshot
// (Engine::metrics()) and exported in the Prometheus text format (to_prometheus()).
//
//   wasm_sandbox::EngineMetrics m = engine.metrics();
//   printf("%llu calls, p99 %.0f ns\n", (unsigned long long)m.calls, m.call_latency.p99 * 1e9);
//   std::string text = wasm_sandbox::to_prometheus(m);  // for a /metrics endpoint
//
// Recording costs a call from the host about a nanosecond: every call is counted, and one
// call in kCallSampleEvery per instance is timed (docs/metrics.md). Histograms have fixed
// log2 buckets (bucket i holds durations in (2^(i-1), 2^i] ns); their quantiles are read from
// the buckets, so they are upper bounds accurate to a factor of two (interpolated within the
// bucket), while max, count and sum are exact. Every metric and its meaning: docs/metrics.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "wasm_sandbox/result.h"

namespace wasm_sandbox {

// One call from the host in this many, per instance, is timed for call_latency.
inline constexpr uint64_t kCallSampleEvery = 64;
// Histogram buckets: bucket i counts durations of at most 2^i ns (the last one: any longer).
inline constexpr size_t kHistogramBuckets = 40;

// X(id, name, type, help): every metric exported, in the order printed. Metrics with a label
// say so in their help; the label's values come from one list each (TrapKind, CacheHit, Tier).
#define WASM_SANDBOX_METRICS(X)                                                                  \
  X(Calls, "wasm_sandbox_calls_total", "counter",                                                \
    "Calls from the host into guest functions (each call of a batch counts)")                    \
  X(CallDuration, "wasm_sandbox_call_duration_seconds", "histogram",                             \
    "Duration of calls from the host, sampled: one call in 64 per instance")                     \
  X(Traps, "wasm_sandbox_traps_total", "counter",                                                \
    "Calls from the host and instantiations that trapped, by trap kind")                         \
  X(FuelConsumed, "wasm_sandbox_fuel_consumed_total", "counter",                                 \
    "Fuel units consumed by calls from the host (engines that meter fuel)")                      \
  X(ModuleLoads, "wasm_sandbox_module_loads_total", "counter",                                   \
    "Modules loaded from wasm or text, by where their code came from: cache=none (compiled), "   \
    "memory or disk")                                                                            \
  X(CompileDuration, "wasm_sandbox_compile_duration_seconds", "histogram",                       \
    "Time to compile a module, by tier (baseline: decode to machine code; optimized: the same, " \
    "or the background compile)")                                                                \
  X(Instantiations, "wasm_sandbox_instantiate_duration_seconds", "histogram",                    \
    "Duration of successful instantiations (the start function included)")                       \
  X(MemoryInUse, "wasm_sandbox_memory_bytes", "gauge",                                           \
    "Bytes of linear memory held by live instances")                                             \
  X(LiveInstances, "wasm_sandbox_live_instances", "gauge", "Instances alive")

enum class Metric {
#define WASM_SANDBOX_X(id, name, type, help) id,
  WASM_SANDBOX_METRICS(WASM_SANDBOX_X)
#undef WASM_SANDBOX_X
};

// A histogram's state at the snapshot. Durations in seconds.
struct LatencySummary {
  uint64_t count = 0;
  double sum = 0;
  // Quantiles from the buckets (0 when count is 0); p50 <= p95 <= p99 <= max.
  double p50 = 0, p95 = 0, p99 = 0;
  double max = 0;  // exact
  // Per bucket (not cumulative): durations in (2^(i-1), 2^i] ns; the last, any longer.
  std::array<uint64_t, kHistogramBuckets> buckets{};
};

inline constexpr size_t kTrapKindCount = 0
#define WASM_SANDBOX_X(name, text) +1
    WASM_SANDBOX_TRAP_KINDS(WASM_SANDBOX_X)
#undef WASM_SANDBOX_X
    ;

// A consistent-enough copy of an engine's metrics: each value is read atomically, the set is
// not (a call finishing during the snapshot may be in one counter and not yet in another).
struct EngineMetrics {
  uint64_t calls = 0;
  LatencySummary call_latency;                   // sampled (kCallSampleEvery)
  std::array<uint64_t, kTrapKindCount> traps{};  // by TrapKind; traps[None] stays 0
  uint64_t fuel_consumed = 0;
  std::array<uint64_t, 3> module_loads{};  // by CacheHit: None, Memory, Disk
  std::array<LatencySummary, 2> compile;   // by tier: [0] Baseline, [1] Optimized
  LatencySummary instantiate;              // its count: successful instantiations
  uint64_t memory_in_use = 0;              // gauge: Engine::memory_in_use()
  uint32_t live_instances = 0;             // gauge: Engine::live_instances()

  uint64_t trap_count(TrapKind kind) const { return traps[static_cast<size_t>(kind)]; }
  // Loads served by a cache (memory or disk) over all loads; 0 before any load.
  double cache_hit_rate() const;
};

// The Prometheus text exposition format 0.0.4 of `metrics`: # HELP and # TYPE lines, then its
// samples, every name prefixed wasm_sandbox_ (the table above). Histograms have cumulative
// buckets le="2^i ns" in seconds for i in 6..36, then +Inf, _sum and _count.
std::string to_prometheus(const EngineMetrics& metrics);

// The Prometheus name of a metric, and a trap kind as a label value or JSON kind:
// "out_of_fuel", "unreachable" (the TrapKind's name in snake case).
std::string_view metric_name(Metric metric);
std::string_view trap_kind_label(TrapKind kind);

}  // namespace wasm_sandbox
