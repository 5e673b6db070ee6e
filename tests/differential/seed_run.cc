// Generating, running and comparing one seed.
#include "seed_run.h"

#include <fstream>

#include "seed_input.h"
#include "subprocess.h"

namespace wasm_sandbox::difftest {

// MVP plus the proposals the engine implements. Left out: SIMD (wasm2c 1.0.32 cannot compile
// it; see tests/spec/known_failures.txt), threads, exception handling, tail calls, GC, typed
// function references, memory64, relaxed SIMD, extended-const (not implemented), and reference
// types: binaryen 108 still types funcref as a subtype of externref (its "anyref"), so with them
// enabled nearly every module it makes passes a funcref where an externref is expected, which
// both V8 and WABT rightly reject ("type error in constant expression (expected externref, got
// funcref)"). DIFFTEST_WASM_OPT_FLAGS=--enable-reference-types turns them on for a check that
// both engines reject the same modules.
const std::vector<std::string> kFeatureFlags = {
    "--mvp-features",       "--enable-mutable-globals",
    "--enable-sign-ext",    "--enable-nontrapping-float-to-int",
    "--enable-bulk-memory", "--enable-multivalue"};

namespace {

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

// The event lines of a run, plus a last line for a run that did not end normally ("timeout",
// "signal 11", "exit 1"), so that such an ending is compared like any event.
std::vector<std::string> events_of(const ProcessResult& run) {
  std::vector<std::string> lines = split_lines(run.out);
  if (!run.ok()) lines.push_back(run.status_text());
  return lines;
}

void keep_output(const std::filesystem::path& path, const ProcessResult& run) {
  write_file(path, run.out + (run.err.empty() ? "" : "--- stderr\n" + run.err));
}

}  // namespace

SeedReport run_seed(const DifftestConfig& config, uint64_t seed) {
  SeedReport report;
  report.seed = seed;
  const std::string stem = (config.workdir / ("seed-" + std::to_string(seed))).string();
  const std::string input = stem + ".input", wasm = stem + ".wasm";
  write_file(input, seed_input(seed));

  std::vector<std::string> generate = {config.wasm_opt, input, "--translate-to-fuzz"};
  generate.insert(generate.end(), kFeatureFlags.begin(), kFeatureFlags.end());
  // Odd seeds also get a random pipeline of binaryen optimizations (picked from the input),
  // which reshapes the code (inlined, folded, merged blocks) while both engines still run the
  // same module; even seeds keep translate-to-fuzz's raw output, dead code and all.
  if (seed % 2 == 1) generate.push_back("--fuzz-passes");
  generate.insert(generate.end(), config.extra_wasm_opt.begin(), config.extra_wasm_opt.end());
  generate.insert(generate.end(), {"-o", wasm});
  const ProcessResult generated = run_process(generate, 3 * config.timeout_seconds);
  std::filesystem::remove(input);
  if (!generated.ok()) {
    report.failure = "seed " + std::to_string(seed) + ": wasm-opt failed (" +
                     generated.status_text() + "): " + generated.err;
    return report;
  }
  report = compare_engines(config, wasm, "seed " + std::to_string(seed));
  report.seed = seed;
  return report;
}

SeedReport compare_engines(const DifftestConfig& config, const std::string& wasm,
                           const std::string& label) {
  SeedReport report;
  report.generated = true;
  const std::string stem = wasm.substr(0, wasm.size() - std::string_view(".wasm").size());
  std::vector<std::string> runner = {config.runner};
  if (!config.tier.empty()) runner.insert(runner.end(), {"--tier", config.tier});
  runner.push_back(wasm);
  const ProcessResult ours = run_process(runner, config.timeout_seconds);
  const ProcessResult v8 =
      run_process({config.node, config.v8_script, wasm}, config.timeout_seconds);
  const std::vector<std::string> ours_lines = events_of(ours), v8_lines = events_of(v8);
  report.comparison = compare_runs(ours_lines, v8_lines);
  report.ours_events = ours_lines;
  report.rejected = !ours_lines.empty() && ours_lines[0] == "module invalid" &&
                    report.comparison.outcome == Outcome::Match;

  const Comparison& c = report.comparison;
  if (c.outcome == Outcome::Match || c.outcome == Outcome::StackExhausted) {
    std::filesystem::remove(wasm);
    return report;
  }
  keep_output(stem + ".ours.txt", ours);
  keep_output(stem + ".v8.txt", v8);
  if (c.outcome == Outcome::Timeout) {
    report.failure = label + ": both engines timed out after " +
                     std::to_string(config.timeout_seconds) + " s; module kept at " + wasm;
  } else {
    report.failure = label + ": outputs differ at line " + std::to_string(c.line) + ": ours `" +
                     c.ours + "`, V8 `" + c.v8 + "`; module kept at " + wasm +
                     " (outputs: " + stem + ".ours.txt, " + stem + ".v8.txt)";
  }
  return report;
}

}  // namespace wasm_sandbox::difftest
