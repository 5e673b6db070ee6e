// The harness itself, on hand-written modules: both runners print the same normalized lines for
// every value kind and trap category (checked against a golden list, not only against each
// other), a stack exhausted at different depths is not a mismatch, and a hang is a timeout.
#include <gtest/gtest.h>

#include <fstream>

#include "seed_run.h"
#include "subprocess.h"

namespace wasm_sandbox::difftest {
namespace {

DifftestConfig harness_config() {
  DifftestConfig config;
  config.wasm_opt = WASM_OPT_PATH;
  config.node = NODE_PATH;
  config.runner = RUNNER_PATH;
  config.v8_script = V8_SCRIPT_PATH;
  config.workdir = std::filesystem::path(DIFFTEST_WORKDIR) / "harness";
  std::filesystem::create_directories(config.workdir);
  return config;
}

// Assembles `wat` with wat2wasm and compares the engines on it.
SeedReport compare_wat(const DifftestConfig& config, const std::string& name,
                       const std::string& wat) {
  const std::string stem = (config.workdir / name).string();
  std::ofstream(stem + ".wat") << wat;
  const ProcessResult assembled =
      run_process({WAT2WASM_PATH, stem + ".wat", "-o", stem + ".wasm"}, 30);
  EXPECT_TRUE(assembled.ok()) << assembled.status_text() << ": " << assembled.err;
  SeedReport report = compare_engines(config, stem + ".wasm", name);
  if (!report.failed()) std::filesystem::remove(stem + ".wat");
  return report;
}

constexpr char kEveryEvent[] = R"((module
  (import "fuzzing-support" "log-i32" (func $log_i32 (param i32)))
  (import "fuzzing-support" "log-i64" (func $log_i64 (param i64)))
  (import "fuzzing-support" "log-f32" (func $log_f32 (param f32)))
  (import "fuzzing-support" "log-f64" (func $log_f64 (param f64)))
  (memory (export "memory") 1 1)
  (global (export "not_a_function") i32 (i32.const 1))
  (type $v (func))
  (type $i (func (result i32)))
  (table $t 2 funcref)
  (elem (i32.const 0) $values)
  (func $values (export "values") (param i32 i64 f32 f64) (result i32 i64 f32 f64)
    (call $log_i32 (i32.const -5))
    (call $log_i64 (i64.const -9223372036854775808))
    (call $log_f32 (f32.const -0))
    (call $log_f32 (f32.const nan:0x200000))
    (call $log_f32 (f32.const -nan:0x1))
    (call $log_f64 (f64.const 0x1p-1074))
    (call $log_f64 (f64.const -nan))
    local.get 0 local.get 1 local.get 2 local.get 3)
  (func (export "refs") (param funcref externref) (result funcref externref funcref)
    (ref.func $values) (local.get 1) (local.get 0))
  (func (export "unreachable") unreachable)
  (func (export "div0") (result i32) (i32.div_u (i32.const 1) (i32.const 0)))
  (func (export "rem0") (result i64) (i64.rem_s (i64.const 1) (i64.const 0)))
  (func (export "div_overflow") (result i32) (i32.div_s (i32.const 0x80000000) (i32.const -1)))
  (func (export "trunc_nan") (result i32) (i32.trunc_f32_s (f32.const nan)))
  (func (export "trunc_big") (result i64) (i64.trunc_f64_u (f64.const 1e30)))
  (func (export "load_oob") (result i32) (i32.load (i32.const 65535)))
  (func (export "fill_oob") (memory.fill (i32.const 65000) (i32.const 0) (i32.const 1000)))
  (func (export "call_null") (call_indirect (type $v) (i32.const 1)))
  (func (export "call_wrong_type") (result i32) (call_indirect (type $i) (i32.const 0)))
  (func (export "call_out_of_table") (call_indirect (type $v) (i32.const 7)))
  (data $bytes "abc")
  (func (export "init_dropped")
    (data.drop $bytes) (memory.init $bytes (i32.const 0) (i32.const 0) (i32.const 1)))
  (func (export "copy_oob") (memory.copy (i32.const 65535) (i32.const 0) (i32.const 2)))
  (func (export "table_get_oob") (result funcref) (table.get $t (i32.const 2)))
  (func (export "after_traps") (result f32) (f32.const 1.5)))
)";

TEST(HarnessTest, BothRunnersPrintEveryValueAndTrapAlike) {
  const SeedReport report = compare_wat(harness_config(), "every_event", kEveryEvent);
  EXPECT_EQ(report.comparison.outcome, Outcome::Match) << report.failure;
  const std::vector<std::string> expected = {
      "module ok",
      "instantiate ok",
      "call values",
      "log i32 -5",
      "log i64 -9223372036854775808",
      "log f32 0x80000000",
      "log f32 nan",
      "log f32 nan",
      "log f64 0x0000000000000001",
      "log f64 nan",
      "return i32 0 i64 0 f32 0x00000000 f64 0x0000000000000000",
      "call refs",
      "return funcref func externref null funcref null",
      "call unreachable",
      "trap unreachable",
      "call div0",
      "trap divide-by-zero",
      "call rem0",
      "trap divide-by-zero",
      "call div_overflow",
      "trap overflow",
      "call trunc_nan",
      "trap overflow",
      "call trunc_big",
      "trap overflow",
      "call load_oob",
      "trap bad-access",
      "call fill_oob",
      "trap bad-access",
      "call call_null",
      "trap bad-access",
      "call call_wrong_type",
      "trap bad-access",
      "call call_out_of_table",
      "trap bad-access",
      "call init_dropped",
      "trap bad-access",
      "call copy_oob",
      "trap bad-access",
      "call table_get_oob",
      "trap bad-access",
      "call after_traps",
      "return f32 0x3fc00000"};
  EXPECT_EQ(report.ours_events, expected);
}

TEST(HarnessTest, StackExhaustedAtDifferentDepthsIsNotAMismatch) {
  // Logs every 1000 frames and leaves the depth it reached in a global: both differ between
  // engines, and neither is compared.
  const SeedReport report = compare_wat(harness_config(), "recursion", R"((module
    (import "fuzzing-support" "log-i32" (func $log (param i32)))
    (global $depth (mut i32) (i32.const 0))
    (func (export "before") (result i32) (i32.const 7))
    (func $down (export "recurse")
      (global.set $depth (i32.add (global.get $depth) (i32.const 1)))
      (if (i32.eqz (i32.rem_u (global.get $depth) (i32.const 1000)))
        (then (call $log (global.get $depth))))
      (call $down))
    (func (export "depth") (result i32) (global.get $depth))))");
  EXPECT_EQ(report.comparison.outcome, Outcome::StackExhausted) << report.failure;
}

TEST(HarnessTest, AHangIsATimeout) {
  DifftestConfig config = harness_config();
  config.timeout_seconds = 1;
  const SeedReport report = compare_wat(config, "hang", R"((module
    (func (export "first") (result i32) (i32.const 1))
    (func (export "spin") (loop (br 0)))))");
  EXPECT_EQ(report.comparison.outcome, Outcome::Timeout) << report.failure;
  if (report.comparison.outcome == Outcome::Timeout) {  // kept as a timeout; expected here
    for (const char* file : {"hang.wasm", "hang.ours.txt", "hang.v8.txt"}) {
      std::filesystem::remove(config.workdir / file);
    }
  }
  EXPECT_EQ(report.ours_events,
            (std::vector<std::string>{"module ok", "instantiate ok", "call first", "return i32 1",
                                      "call spin", "timeout"}));
}

}  // namespace
}  // namespace wasm_sandbox::difftest
