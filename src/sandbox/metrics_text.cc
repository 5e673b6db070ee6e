// EngineMetrics in the Prometheus text exposition format 0.0.4, from the one table of metrics
// (WASM_SANDBOX_METRICS): # HELP and # TYPE lines, then the samples of each metric.
#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "wasm_sandbox/engine.h"
#include "wasm_sandbox/metrics.h"

namespace wasm_sandbox {
namespace {

// The bucket bounds exported: 2^6 ns (64 ns) to 2^36 ns (about 69 s), then +Inf.
constexpr size_t kFirstExportedBucket = 6;
constexpr size_t kLastExportedBucket = 36;
static_assert(kLastExportedBucket < kHistogramBuckets);

void append_number(std::string& out, double value) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", value);
  out += buf;
}

void append_sample(std::string& out, std::string_view name, std::string_view labels,
                   uint64_t value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

// `labels`: "" or `tier="baseline"`; le is added after them.
void append_histogram(std::string& out, std::string_view name, std::string_view labels,
                      const LatencySummary& h) {
  const std::string prefix = labels.empty() ? "" : std::string(labels) + ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kHistogramBuckets; ++i) {
    cumulative += h.buckets[i];
    if (i < kFirstExportedBucket || i > kLastExportedBucket) continue;
    std::string le = prefix + "le=\"";
    append_number(le, std::ldexp(1.0, static_cast<int>(i)) * 1e-9);
    le += '"';
    append_sample(out, std::string(name) + "_bucket", le, cumulative);
  }
  append_sample(out, std::string(name) + "_bucket", prefix + "le=\"+Inf\"", h.count);
  out += std::string(name) + "_sum";
  if (!labels.empty()) out += "{" + std::string(labels) + "}";
  out += ' ';
  append_number(out, h.sum);
  out += '\n';
  append_sample(out, std::string(name) + "_count", labels, h.count);
}

const char* const kCacheLabels[] = {"none", "memory", "disk"};  // by CacheHit
// EngineMetrics::compile's tiers, labelled as to_string(Tier) names them.
constexpr Tier kCompileTiers[] = {Tier::Baseline, Tier::Optimized};

void append_samples(std::string& out, Metric metric, std::string_view name,
                    const EngineMetrics& m) {
  switch (metric) {
    case Metric::Calls:
      append_sample(out, name, "", m.calls);
      break;
    case Metric::CallDuration:
      append_histogram(out, name, "", m.call_latency);
      break;
    case Metric::Traps:
      for (size_t i = 0; i < kTrapKindCount; ++i) {
        const auto kind = static_cast<TrapKind>(i);
        if (kind == TrapKind::None) continue;
        append_sample(out, name, "kind=\"" + std::string(trap_kind_label(kind)) + "\"", m.traps[i]);
      }
      break;
    case Metric::FuelConsumed:
      append_sample(out, name, "", m.fuel_consumed);
      break;
    case Metric::ModuleLoads:
      for (size_t i = 0; i < m.module_loads.size(); ++i) {
        append_sample(out, name, "cache=\"" + std::string(kCacheLabels[i]) + "\"",
                      m.module_loads[i]);
      }
      break;
    case Metric::CompileDuration:
      for (size_t i = 0; i < m.compile.size(); ++i) {
        append_histogram(out, name, "tier=\"" + std::string(to_string(kCompileTiers[i])) + "\"",
                         m.compile[i]);
      }
      break;
    case Metric::Instantiations:
      append_histogram(out, name, "", m.instantiate);
      break;
    case Metric::MemoryInUse:
      append_sample(out, name, "", m.memory_in_use);
      break;
    case Metric::LiveInstances:
      append_sample(out, name, "", m.live_instances);
      break;
  }
}

}  // namespace

std::string to_prometheus(const EngineMetrics& metrics) {
  struct Row {
    Metric metric;
    const char* name;
    const char* type;
    const char* help;
  };
  static constexpr Row kRows[] = {
#define WASM_SANDBOX_X(id, name, type, help) {Metric::id, name, type, help},
      WASM_SANDBOX_METRICS(WASM_SANDBOX_X)
#undef WASM_SANDBOX_X
  };
  std::string out;
  out.reserve(16 * 1024);
  for (const Row& row : kRows) {
    out += std::string("# HELP ") + row.name + " " + row.help + "\n";
    out += std::string("# TYPE ") + row.name + " " + row.type + "\n";
    append_samples(out, row.metric, row.name, metrics);
  }
  return out;
}

}  // namespace wasm_sandbox
