// The benchmark binary's entry point: Google Benchmark as usual, then, for benchmarks named
// "kernel/K/MODE" (safety_bench.cc), each mode's time relative to "none" per kernel and as a
// geometric mean over the kernels.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <string>

namespace {

class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  // kernel -> mode -> seconds per iteration
  std::map<std::string, std::map<std::string, double>> kernels;

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      const std::string name = run.benchmark_name();
      if (name.rfind("kernel/", 0) != 0 || run.iterations == 0 || run.error_occurred) continue;
      const size_t slash = name.find('/', 7);
      if (slash == std::string::npos) continue;
      kernels[name.substr(7, slash - 7)][name.substr(slash + 1)] =
          run.real_accumulated_time / static_cast<double>(run.iterations);
    }
  }

  void print_ratios() const {
    if (kernels.empty()) return;
    std::map<std::string, std::pair<double, int>> log_sums;  // mode -> (sum of logs, count)
    std::printf("\nrun time relative to no instrumentation (same run):\n");
    for (const auto& [kernel, modes] : kernels) {
      auto base = modes.find("none");
      if (base == modes.end()) continue;
      std::printf("  %-8s", kernel.c_str());
      for (const auto& [mode, seconds] : modes) {
        if (mode == "none") continue;
        const double ratio = seconds / base->second;
        std::printf("  %s %.3f", mode.c_str(), ratio);
        log_sums[mode].first += std::log(ratio);
        log_sums[mode].second += 1;
      }
      std::printf("\n");
    }
    std::printf("  geomean ");
    for (const auto& [mode, sum] : log_sums) {
      std::printf("  %s %.3f", mode.c_str(), std::exp(sum.first / sum.second));
    }
    std::printf("\n");
  }
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios();
  benchmark::Shutdown();
  return 0;
}
