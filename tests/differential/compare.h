// Comparing the event lines of two runs of one module (ours and V8's), line by line.
//
// Stack exhaustion is the one place where two correct engines differ: how deep a guest may
// recurse depends on each engine's frame sizes and stack (V8: about 1 MB; ours: 8 MiB), and the
// spec leaves it open. So when either side exhausts the stack, nothing from the call that did so
// onwards is compared: that call may have logged a different number of lines before failing,
// and it leaves globals (binaryen's hang limit among them) and memory in states that differ, so
// later calls may legitimately differ too. The lines before that call must still match.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace wasm_sandbox::difftest {

enum class Outcome {
  Match,           // identical
  StackExhausted,  // identical up to the call in which one side exhausted the stack
  Timeout,         // identical, and both ended with "timeout"
  Mismatch,        // a line differs (or one side has more)
};

// "match", "stack-exhausted", "timeout", "mismatch".
const char* to_string(Outcome outcome);
inline std::ostream& operator<<(std::ostream& out, Outcome outcome) {
  return out << to_string(outcome);
}

struct Comparison {
  Outcome outcome = Outcome::Match;
  size_t line = 0;       // Mismatch: the first differing line, from 1
  std::string ours, v8;  // Mismatch: that line on each side, or "<end of output>"
};

// Splits output into lines (a missing final newline is tolerated).
std::vector<std::string> split_lines(std::string_view text);

Comparison compare_runs(const std::vector<std::string>& ours, const std::vector<std::string>& v8);

}  // namespace wasm_sandbox::difftest
