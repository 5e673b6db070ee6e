// One seed of the differential test: input bytes -> `wasm-opt --translate-to-fuzz` -> the module
// run on our engine (wasm-sandbox-difftest) and on V8 (node run_v8.mjs) -> outputs compared.
//
// Files go to config.workdir as seed-N.*; they are removed when the seed passes and kept when it
// does not: seed-N.wasm (the module, to reproduce with either runner) and seed-N.ours.txt /
// seed-N.v8.txt (each side's output, stderr after a "--- stderr" line).
//
// Thread-safe: seeds may run in parallel as long as they are different seeds.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "compare.h"

namespace wasm_sandbox::difftest {

struct DifftestConfig {
  std::string wasm_opt;  // absolute paths of the tools
  std::string node;
  std::string runner;     // wasm-sandbox-difftest
  std::string v8_script;  // run_v8.mjs
  std::filesystem::path workdir;
  double timeout_seconds = 20;              // per engine run; wasm-opt gets 3x this
  std::vector<std::string> extra_wasm_opt;  // appended to the generator's flags
  // Our engine's tier ("baseline", "optimized", "auto"), passed to the runner as --tier;
  // empty: the runner's default.
  std::string tier;
};

// The generator's feature flags for wasm-opt 108: exactly the proposals we implement, minus
// reference types (see the .cc).
extern const std::vector<std::string> kFeatureFlags;

struct SeedReport {
  uint64_t seed = 0;
  bool generated = false;  // false: wasm-opt failed; `failure` says how
  Comparison comparison;   // when generated
  bool rejected = false;   // both engines refused the module as invalid (a match)
  std::string failure;     // for a mismatch, timeout or generator failure: the whole story
  std::vector<std::string> ours_events;  // our engine's event lines
  bool failed() const { return !generated || comparison.outcome == Outcome::Mismatch; }
};

// Generates seed `seed`'s module, then compare_engines() on it.
SeedReport run_seed(const DifftestConfig& config, uint64_t seed);

// Runs the module at `wasm` (a path ending in ".wasm") on both engines and compares. Removes it
// if the outputs match; otherwise keeps it and writes the outputs beside it (STEM.ours.txt,
// STEM.v8.txt). `label` starts the failure message ("seed 17").
SeedReport compare_engines(const DifftestConfig& config, const std::string& wasm,
                           const std::string& label);

}  // namespace wasm_sandbox::difftest
