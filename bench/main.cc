// The benchmark binary's entry point: Google Benchmark as usual, then, for the benchmarks
// named "kernel/K" (safety_bench.cc), the geometric mean over the kernels of each
// instrumentation mode's time relative to none.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <string>

namespace {

class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      const std::string name = run.run_name.function_name;
      if (name.rfind("kernel/", 0) != 0 || run.error_occurred) continue;
      // With --benchmark_repetitions, the median (reported after the repetitions) wins.
      if (run.run_type == Run::RT_Aggregate && run.aggregate_name != "median") continue;
      for (const auto& [mode, counter] : run.counters) ratios_[name][mode] = counter.value;
    }
  }

  void print_geomeans() const {
    if (ratios_.empty()) return;
    std::map<std::string, double> log_sums;
    for (const auto& [kernel, modes] : ratios_) {
      for (const auto& [mode, ratio] : modes) log_sums[mode] += std::log(ratio);
    }
    std::printf("\nrun time relative to no instrumentation, geomean of %zu kernels:",
                ratios_.size());
    for (const auto& [mode, sum] : log_sums) {
      std::printf("  %s %.3f", mode.c_str(), std::exp(sum / static_cast<double>(ratios_.size())));
    }
    std::printf("\n");
  }

 private:
  std::map<std::string, std::map<std::string, double>> ratios_;  // kernel -> mode -> ratio
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_geomeans();
  benchmark::Shutdown();
  return 0;
}
