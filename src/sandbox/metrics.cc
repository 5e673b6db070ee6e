// Recording and reading an engine's metrics (metrics.h): histograms, per-instance call
// counters and the snapshot that sums them.
#include "sandbox/metrics.h"

#include <bit>
#include <cctype>
#include <cmath>

namespace wasm_sandbox {
namespace detail {
namespace {

// The bucket of a duration: the smallest i with nanos <= 2^i, or the last bucket.
size_t bucket_of(uint64_t nanos) {
  const size_t i = nanos <= 1 ? 0 : 64 - static_cast<size_t>(std::countl_zero(nanos - 1));
  return std::min(i, kHistogramBuckets - 1);
}

// The q-quantile of the durations in `buckets` (`count` of them): the bucket holding the
// sample of rank ceil(q * count), interpolated linearly within it, capped at `max_ns`.
double quantile(const std::array<uint64_t, kHistogramBuckets>& buckets, uint64_t count, double q,
                uint64_t max_ns) {
  if (count == 0) return 0;
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * count)));
  uint64_t below = 0;
  for (size_t i = 0; i < kHistogramBuckets; ++i) {
    if (below + buckets[i] >= rank) {
      const double lo = i == 0 ? 0 : std::ldexp(1.0, static_cast<int>(i) - 1);
      const double hi = i + 1 == kHistogramBuckets ? static_cast<double>(max_ns)
                                                   : std::ldexp(1.0, static_cast<int>(i));
      const double at =
          lo + (hi - lo) * static_cast<double>(rank - below) / static_cast<double>(buckets[i]);
      return std::min(at, static_cast<double>(max_ns)) * 1e-9;
    }
    below += buckets[i];
  }
  return static_cast<double>(max_ns) * 1e-9;
}

}  // namespace

void Histogram::record(uint64_t nanos) {
  buckets_[bucket_of(nanos)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(nanos, std::memory_order_relaxed);
  uint64_t max = max_ns_.load(std::memory_order_relaxed);
  while (nanos > max && !max_ns_.compare_exchange_weak(max, nanos, std::memory_order_relaxed)) {
  }
}

LatencySummary Histogram::summary() const {
  LatencySummary out;
  // max first: a sample recorded meanwhile may raise a bucket above it, and quantiles are
  // capped at max, so they stay ordered.
  const uint64_t max_ns = max_ns_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < kHistogramBuckets; ++i) {
    out.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
    out.count += out.buckets[i];
  }
  out.sum = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) * 1e-9;
  out.max = static_cast<double>(max_ns) * 1e-9;
  out.p50 = quantile(out.buckets, out.count, 0.50, max_ns);
  out.p95 = quantile(out.buckets, out.count, 0.95, max_ns);
  out.p99 = quantile(out.buckets, out.count, 0.99, max_ns);
  return out;
}

EngineMetrics Metrics::snapshot() const {
  EngineMetrics out;
  out.call_latency = call_latency.summary();
  out.instantiate = instantiate.summary();
  for (size_t i = 0; i < compile.size(); ++i) out.compile[i] = compile[i].summary();
  for (size_t i = 0; i < out.traps.size(); ++i) {
    out.traps[i] = traps_[i].load(std::memory_order_relaxed);
  }
  for (size_t i = 0; i < out.module_loads.size(); ++i) {
    out.module_loads[i] = loads_[i].load(std::memory_order_relaxed);
  }
  return out;
}

}  // namespace detail

double EngineMetrics::cache_hit_rate() const {
  const uint64_t hits = module_loads[static_cast<size_t>(CacheHit::Memory)] +
                        module_loads[static_cast<size_t>(CacheHit::Disk)];
  const uint64_t all = hits + module_loads[static_cast<size_t>(CacheHit::None)];
  return all == 0 ? 0 : static_cast<double>(hits) / static_cast<double>(all);
}

std::string_view metric_name(Metric metric) {
  switch (metric) {
#define WASM_SANDBOX_X(id, name, type, help) \
  case Metric::id:                           \
    return name;
    WASM_SANDBOX_METRICS(WASM_SANDBOX_X)
#undef WASM_SANDBOX_X
  }
  return "?";
}

std::string_view trap_kind_label(TrapKind kind) {
  // "OutOfFuel" -> "out_of_fuel", made once from the one list of trap kinds.
  static const std::array<std::string, kTrapKindCount> labels = [] {
    const char* names[] = {
#define WASM_SANDBOX_X(name, text) #name,
        WASM_SANDBOX_TRAP_KINDS(WASM_SANDBOX_X)
#undef WASM_SANDBOX_X
    };
    std::array<std::string, kTrapKindCount> out;
    for (size_t i = 0; i < kTrapKindCount; ++i) {
      for (const char* c = names[i]; *c; ++c) {
        if (std::isupper(static_cast<unsigned char>(*c)) && c != names[i]) out[i] += '_';
        out[i] += static_cast<char>(std::tolower(static_cast<unsigned char>(*c)));
      }
    }
    return out;
  }();
  const auto index = static_cast<size_t>(kind);
  return index < labels.size() ? std::string_view(labels[index]) : "unknown";
}

}  // namespace wasm_sandbox
