// compare_runs: exact matching, the first differing line, the stack-exhaustion cut, timeouts.
#include "compare.h"

#include <gtest/gtest.h>

namespace wasm_sandbox::difftest {
namespace {

using Lines = std::vector<std::string>;

TEST(CompareTest, IdenticalOutputsMatch) {
  const Lines run = {"module ok", "instantiate ok", "call f", "return i32 1"};
  EXPECT_EQ(compare_runs(run, run).outcome, Outcome::Match);
}

TEST(CompareTest, NamesTheFirstDifferingLine) {
  const Comparison c = compare_runs({"module ok", "call f", "log i32 1", "return"},
                                    {"module ok", "call f", "log i32 2", "return"});
  EXPECT_EQ(c.outcome, Outcome::Mismatch);
  EXPECT_EQ(c.line, 3u);
  EXPECT_EQ(c.ours, "log i32 1");
  EXPECT_EQ(c.v8, "log i32 2");
}

TEST(CompareTest, ALongerOutputIsAMismatch) {
  const Comparison c = compare_runs({"module ok", "call f"}, {"module ok"});
  EXPECT_EQ(c.outcome, Outcome::Mismatch);
  EXPECT_EQ(c.line, 2u);
  EXPECT_EQ(c.v8, "<end of output>");
}

TEST(CompareTest, NothingFromTheCallThatExhaustedTheStackOnIsCompared) {
  const Lines ours = {"module ok",
                      "call f",
                      "return",
                      "call g",
                      "log i32 1",
                      "log i32 1",
                      "trap stack-exhausted",
                      "call h",
                      "return i32 1"};
  const Lines v8 = {"module ok", "call f", "return", "call g",
                    "log i32 1", "return", "call h", "return i32 2"};
  EXPECT_EQ(compare_runs(ours, v8).outcome, Outcome::StackExhausted);
  EXPECT_EQ(compare_runs(v8, ours).outcome, Outcome::StackExhausted);
}

TEST(CompareTest, LinesBeforeTheExhaustingCallMustStillMatch) {
  const Comparison c =
      compare_runs({"module ok", "call f", "return i32 1", "call g", "trap stack-exhausted"},
                   {"module ok", "call f", "return i32 2", "call g", "return"});
  EXPECT_EQ(c.outcome, Outcome::Mismatch);
  EXPECT_EQ(c.line, 3u);
  // The other side must get as far as the exhausting call.
  EXPECT_EQ(compare_runs({"module ok", "call f", "return", "call g", "trap stack-exhausted"},
                         {"module ok", "call f"})
                .outcome,
            Outcome::Mismatch);
}

TEST(CompareTest, ExhaustionDuringInstantiationCutsThere) {
  EXPECT_EQ(compare_runs({"module ok", "instantiate trap stack-exhausted"},
                         {"module ok", "instantiate ok", "call f", "return"})
                .outcome,
            Outcome::StackExhausted);
}

TEST(CompareTest, TimeoutsOnBothSidesAreTheirOwnOutcome) {
  EXPECT_EQ(
      compare_runs({"module ok", "call f", "timeout"}, {"module ok", "call f", "timeout"}).outcome,
      Outcome::Timeout);
  // One side hanging where the other returns is a mismatch.
  EXPECT_EQ(
      compare_runs({"module ok", "call f", "timeout"}, {"module ok", "call f", "return"}).outcome,
      Outcome::Mismatch);
}

TEST(CompareTest, SplitsLinesWithOrWithoutAFinalNewline) {
  EXPECT_EQ(split_lines("a\nb\n"), (Lines{"a", "b"}));
  EXPECT_EQ(split_lines("a\nb"), (Lines{"a", "b"}));
  EXPECT_EQ(split_lines(""), Lines{});
}

}  // namespace
}  // namespace wasm_sandbox::difftest
