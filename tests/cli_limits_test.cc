// `--fuel`, `--timeout` and `--memory-limit` on `call` and `run`: each breach is one line on
// stderr naming the flag, and a non-zero exit.
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>

#include "test_util.h"

namespace wasm_sandbox {
namespace {

using testing::cli;
using testing::CliRun;

std::string write_wat(const std::string& name, std::string_view text) {
  const std::string path = testing::temp_path(name);
  std::ofstream(path) << text;
  return path;
}

constexpr std::string_view kGuest = R"(
  (module
    (memory (export "memory") 1)
    (func (export "spin") (loop $l (br $l)))
    (func (export "count") (param i32) (result i32)
      (loop $l
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br_if $l (local.get 0)))
      (local.get 0))
    (func (export "fill") (result i32)
      (block $full (loop $l
        (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
        (br $l)))
      unreachable))
)";

// A WASI program that sleeps for ten seconds (poll_oneoff on a relative monotonic clock).
constexpr std::string_view kSleeper = R"(
  (module
    (import "wasi_snapshot_preview1" "poll_oneoff"
      (func $poll (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "_start")
      (i32.store8 (i32.const 8) (i32.const 0))              ;; tag: clock
      (i32.store (i32.const 16) (i32.const 1))              ;; monotonic
      (i64.store (i32.const 24) (i64.const 10000000000))    ;; 10 s
      (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))))
)";

TEST(CliLimitsTest, TimeoutStopsACallAndNamesTheFlag) {
  const std::string path = write_wat("limits_guest.wat", kGuest);
  CliRun r = cli("call --tier baseline --timeout 100 " + path + " spin");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out,
            "wasm-sandbox: " + path + ": `spin` trapped: timed out (after 100 ms, --timeout)\n");
  EXPECT_LT(r.ms, 2000);
}

TEST(CliLimitsTest, FuelStopsACallAndNamesTheFlag) {
  const std::string path = write_wat("limits_guest.wat", kGuest);
  CliRun r = cli("call --fuel 1000 " + path + " count 100000");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "wasm-sandbox: " + path +
                       ": `count` trapped: out of fuel (all 1000 units are spent, --fuel)\n");
  r = cli("call --fuel 10000000 " + path + " count 100000");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "0\n");
}

TEST(CliLimitsTest, MemoryLimitCapsGrowthAndIsNamedWhenTheGuestFails) {
  const std::string path = write_wat("limits_guest.wat", kGuest);
  CliRun r = cli("call --memory-limit 640KiB " + path + " fill");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "wasm-sandbox: " + path +
                       ": `fill` trapped: unreachable executed\n"
                       "wasm-sandbox: " +
                       path +
                       ": memory `memory` is at --memory-limit 640KiB (10 pages): it "
                       "could not grow further\n");
  r = cli("call --memory-limit 32KiB " + path + " fill");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--memory-limit 32KiB: expected a size of at least one 64 KiB page"),
            std::string::npos)
      << r.out;
  const std::string big = write_wat("limits_big.wat", "(module (memory 20))");
  r = cli("call --memory-limit 1MiB " + big + " f");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "wasm-sandbox: " + big +
                       ": a memory of 20 pages exceeds the limit of 16 pages (--memory-limit)\n");
}

TEST(CliLimitsTest, RunStopsABlockedWasiProgramAtItsTimeout) {
  const std::string path = write_wat("limits_sleeper.wat", kSleeper);
  CliRun r = cli("run --tier baseline --timeout 100 " + path);
  EXPECT_EQ(r.exit_code, 152);
  EXPECT_NE(r.out.find("timed out (after 100 ms, --timeout)"), std::string::npos) << r.out;
  EXPECT_LT(r.ms, 5000);  // not the ten seconds it asked to sleep (slack for sanitizer builds)
  r = cli("run --fuel 5 " + path);
  EXPECT_EQ(r.exit_code, 152);
  EXPECT_NE(r.out.find("out of fuel (all 5 units are spent, --fuel)"), std::string::npos) << r.out;
}

TEST(CliLimitsTest, BadValuesAreUsageErrors) {
  const std::string path = write_wat("limits_guest.wat", kGuest);
  EXPECT_EQ(cli("call --tier baseline --timeout 0 " + path + " spin").exit_code, 2);
  EXPECT_EQ(cli("call --fuel -3 " + path + " count 5").exit_code, 2);
  EXPECT_EQ(cli("call --tier baseline --timeout -3 " + path + " count 5").exit_code, 2);
  CliRun r = cli("call --memory-limit lots " + path + " spin");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out,
            "wasm-sandbox: --memory-limit lots: expected a size of at least one 64 KiB page, "
            "like 65536, 640KiB, 64MiB or 1GiB\n");
}

}  // namespace
}  // namespace wasm_sandbox
