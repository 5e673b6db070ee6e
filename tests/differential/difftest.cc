// Differential test of our engine against V8 on modules made by binaryen's translate-to-fuzz.
//
// FixedSeeds runs under ctest (a few dozen seeds, about ten seconds), and
// FixedSeedsOnOptimizedTier a few of them again on gcc-compiled code. SeedRange runs any seeds
// on demand (`make difftest`), configured from the environment:
//   DIFFTEST_SEEDS=1-2000          seeds to run: ranges and single seeds, comma-separated
//   DIFFTEST_JOBS=2                seeds run in parallel (default 1)
//   DIFFTEST_TIER=optimized        our engine's tier: baseline, optimized or auto (the default)
//   DIFFTEST_TIMEOUT=20            seconds per engine run before it counts as a timeout
//   DIFFTEST_WORKDIR=dir           where modules are made and failing ones kept
//   DIFFTEST_WASM_OPT_FLAGS="..."  extra wasm-opt flags (space-separated)
// Tool paths (wasm-opt, node, the runner, run_v8.mjs) are fixed when the build is configured.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "seed_run.h"

namespace wasm_sandbox::difftest {
namespace {

// Seeds that must keep matching V8 on every build.
constexpr uint64_t kFixedSeeds[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14,
                                    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
                                    29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40};

// The same on the optimized tier, where every module costs a gcc run (0.2-1 s each here): a
// few seeds picked for variety (many traps, many logged values, with and without --fuzz-passes),
// and the ones that once differed there: 862 (a NaN from f64.min stored to memory; see
// TierTest.MinAndMaxOfNaNGiveV8sBitsOnEveryTier).
constexpr uint64_t kOptimizedTierSeeds[] = {1, 2, 7, 8, 10, 12, 19, 22, 27, 29, 32, 37, 862};

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

DifftestConfig config_for(const std::string& subdir) {
  DifftestConfig config;
  config.wasm_opt = WASM_OPT_PATH;
  config.node = NODE_PATH;
  config.runner = RUNNER_PATH;
  config.v8_script = V8_SCRIPT_PATH;
  config.workdir = std::filesystem::path(env_or("DIFFTEST_WORKDIR", DIFFTEST_WORKDIR)) / subdir;
  config.timeout_seconds = std::stod(env_or("DIFFTEST_TIMEOUT", "20"));
  config.tier = env_or("DIFFTEST_TIER", "");
  std::istringstream flags(env_or("DIFFTEST_WASM_OPT_FLAGS", ""));
  for (std::string flag; flags >> flag;) config.extra_wasm_opt.push_back(flag);
  std::filesystem::create_directories(config.workdir);
  return config;
}

// "1-5,9" -> 1 2 3 4 5 9. Empty on a syntax error.
std::vector<uint64_t> parse_seeds(const std::string& text) {
  std::vector<uint64_t> seeds;
  std::istringstream parts(text);
  for (std::string part; std::getline(parts, part, ',');) {
    char* end;
    const uint64_t first = std::strtoull(part.c_str(), &end, 10);
    uint64_t last = first;
    if (*end == '-') last = std::strtoull(end + 1, &end, 10);
    if (*end != '\0' || last < first || end == part.c_str()) return {};
    for (uint64_t seed = first; seed <= last; ++seed) seeds.push_back(seed);
  }
  return seeds;
}

// Runs `seeds` on `jobs` threads, printing progress every 100 seeds; reports in seed order.
std::vector<SeedReport> run_seeds(const DifftestConfig& config, const std::vector<uint64_t>& seeds,
                                  unsigned jobs) {
  std::vector<SeedReport> reports(seeds.size());
  std::atomic<size_t> next{0}, done{0};
  auto work = [&] {
    for (size_t i; (i = next++) < seeds.size();) {
      reports[i] = run_seed(config, seeds[i]);
      if (++done % 100 == 0)
        std::fprintf(stderr, "[difftest] %zu/%zu seeds\n", done.load(), seeds.size());
    }
  };
  std::vector<std::thread> threads;
  for (unsigned j = 1; j < jobs; ++j) threads.emplace_back(work);
  work();
  for (std::thread& thread : threads) thread.join();
  return reports;
}

// Counts per outcome, then one line per seed that did not simply match.
std::string summary(const std::vector<SeedReport>& reports) {
  std::map<std::string, size_t> counts;
  std::string details;
  for (const SeedReport& report : reports) {
    const std::string kind =
        !report.generated ? "generator-failed" : to_string(report.comparison.outcome);
    ++counts[kind];
    if (report.rejected) ++counts["(both rejected the module)"];
    if (!report.failure.empty()) details += "  " + report.failure + "\n";
  }
  std::string text = std::to_string(reports.size()) + " seeds:";
  for (const auto& [kind, count] : counts) text += " " + kind + " " + std::to_string(count) + ";";
  return text + "\n" + details;
}

TEST(Differential, FixedSeedsMatchV8) {
  const DifftestConfig config = config_for("fixed");
  const std::vector<uint64_t> seeds(std::begin(kFixedSeeds), std::end(kFixedSeeds));
  for (const SeedReport& report : run_seeds(config, seeds, 1)) {
    EXPECT_FALSE(report.failed()) << report.failure;
    EXPECT_NE(report.comparison.outcome, Outcome::Timeout) << report.failure;
  }
}

TEST(Differential, FixedSeedsMatchV8OnOptimizedTier) {
  DifftestConfig config = config_for("fixed-optimized");
  config.tier = "optimized";
  const std::vector<uint64_t> seeds(std::begin(kOptimizedTierSeeds), std::end(kOptimizedTierSeeds));
  for (const SeedReport& report : run_seeds(config, seeds, 1)) {
    EXPECT_FALSE(report.failed()) << report.failure;
    EXPECT_NE(report.comparison.outcome, Outcome::Timeout) << report.failure;
  }
}

TEST(Differential, SeedRange) {
  const std::string spec = env_or("DIFFTEST_SEEDS", "");
  if (spec.empty()) GTEST_SKIP() << "set DIFFTEST_SEEDS (e.g. 1-2000) to run a seed range";
  const std::vector<uint64_t> seeds = parse_seeds(spec);
  ASSERT_FALSE(seeds.empty()) << "DIFFTEST_SEEDS=" << spec << ": expected e.g. 1-2000,5000";
  const unsigned jobs = std::max(1, std::atoi(env_or("DIFFTEST_JOBS", "1").c_str()));
  const DifftestConfig config = config_for("range");
  const std::vector<SeedReport> reports = run_seeds(config, seeds, jobs);
  std::printf("[difftest] seeds %s%s: %s", spec.c_str(),
              config.tier.empty() ? "" : (" on the " + config.tier + " tier").c_str(),
              summary(reports).c_str());
  size_t failed = 0;
  for (const SeedReport& report : reports) failed += report.failed();
  const std::string tier_flag = config.tier.empty() ? "" : " --tier " + config.tier;
  EXPECT_EQ(failed, 0u) << "see the list above; each kept module reproduces with\n  " << RUNNER_PATH
                        << tier_flag << " seed-N.wasm\n  " << NODE_PATH << " " << V8_SCRIPT_PATH
                        << " seed-N.wasm";
}

}  // namespace
}  // namespace wasm_sandbox::difftest
