// wasm_sandbox_kernels: each benchmark kernel (bench/kernels.h) timed natively, on the
// baseline and optimized tiers and on Node's V8, in one invocation; one line per kernel with the
// ratios to native, then the geometric means. Each time is the median of five calls after a
// warm-up. The wasm results are checked against the native ones. `--no-interrupts` builds the
// wasm side with EngineConfig::interruptible off, to measure what interruption costs.
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kernels.h"
#include "wasm_sandbox/wasm_sandbox.h"

namespace {

using namespace wasm_sandbox;
using bench::kKernels;

// Milliseconds per call: after a warm-up call, seven samples of enough calls to take at least
// 20 ms each (short kernels would otherwise be measured at the clock's noise); the median.
template <class Fn>
double median_ms(Fn&& fn) {
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  };
  const auto warm = Clock::now();
  fn();
  const int reps = std::max(1, static_cast<int>(std::ceil(20.0 / std::max(ms_since(warm), 1e-3))));
  std::vector<double> times;
  for (int i = 0; i < 7; ++i) {
    const auto start = Clock::now();
    for (int r = 0; r < reps; ++r) fn();
    times.push_back(ms_since(start) / reps);
  }
  std::sort(times.begin(), times.end());
  return times[3];
}

uint64_t result_bits(const Value& v) {
  switch (v.type()) {
    case ValType::I32:
    case ValType::F32:
      return v.raw_bits() & 0xffffffffu;
    default:
      return v.raw_bits();
  }
}

// Runs the V8 side; kernel -> median ms (empty if node is missing or fails).
std::map<std::string, double> time_on_v8(const std::string& wasm, const std::string& script) {
  std::string command = "node " + script + " " + wasm;
  for (const auto& k : kKernels) command += " " + std::string(k.name) + ":" + std::to_string(k.n);
  std::map<std::string, double> out;
  FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  if (!pipe) return out;
  std::array<char, 256> line;
  while (fgets(line.data(), line.size(), pipe)) {
    char name[64];
    double ms;
    if (std::sscanf(line.data(), "%63s %lf", name, &ms) == 2) out[name] = ms;
  }
  pclose(pipe);
  return out;
}

// One column of the table: a kernel's time on one engine, and the running log-sum of ratios.
struct Column {
  double log_sum = 0;
  int count = 0;
  void add(double ms, double native) {
    std::printf(" %12.2f %9.2f", ms, ms / native);
    log_sum += std::log(ms / native);
    ++count;
  }
  void geomean() const {
    if (count) {
      std::printf(" %12s %9.2f", "", std::exp(log_sum / count));
    } else {
      std::printf(" %12s %9s", "", "-");
    }
  }
};

Result<Instance> instantiate(Tier tier, const std::string& wasm, bool interruptible) {
  EngineConfig config;  // interruptible by default
  config.interruptible = interruptible;
  config.tier = tier;
  config.cache.disk = false;
  Engine engine(config);
  auto module = engine.load_file(wasm);
  if (!module) return std::move(module).error();
  return module->instantiate();
}

}  // namespace

int main(int argc, char** argv) {
  bool interruptible = true;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--no-interrupts") {
      interruptible = false;
    } else {
      std::fprintf(stderr, "usage: %s [--no-interrupts]\n", argv[0]);
      return 2;
    }
  }
  const std::string wasm = std::string(GUEST_DIR) + "/kernels.wasm";
  auto baseline = instantiate(Tier::Baseline, wasm, interruptible);
  auto optimized = instantiate(Tier::Optimized, wasm, interruptible);
  for (const auto* instance : {&baseline, &optimized}) {
    if (!*instance) {
      std::fprintf(stderr, "%s\n", instance->error().message().c_str());
      return 1;
    }
  }
  const auto v8 = time_on_v8(wasm, V8_SCRIPT);
  std::printf("%-14s %10s %12s %9s %12s %9s %12s %9s\n", "kernel", "native ms", "baseline ms",
              "x native", "optimized ms", "x native", "V8 ms", "x native");
  Column baseline_column, optimized_column, v8_column;
  bool all_match = true;
  for (const auto& k : kKernels) {
    uint64_t native_result = 0;
    const double native = median_ms([&] { native_result = k.native(k.n); });
    std::printf("%-14s %10.2f", k.name, native);
    bool match = true;
    for (auto [instance, column] :
         {std::pair{&*baseline, &baseline_column}, std::pair{&*optimized, &optimized_column}}) {
      Func func = *instance->func(std::string("run_") + k.name);
      const Value args[] = {Value::i32(k.n)};
      uint64_t wasm_result = 0;
      column->add(median_ms([&] { wasm_result = result_bits((*func.call(args))[0]); }), native);
      match &= wasm_result == native_result;
    }
    if (auto it = v8.find(k.name); it != v8.end()) {
      v8_column.add(it->second, native);
    } else {
      std::printf(" %12s %9s", "-", "-");
    }
    all_match &= match;
    std::printf("%s\n", match ? "" : "  RESULT DIFFERS FROM NATIVE");
  }
  std::printf("%-14s %10s", "geomean", "");
  baseline_column.geomean();
  optimized_column.geomean();
  v8_column.geomean();
  std::printf("\n");
  return all_match ? 0 : 1;
}
