// Line comparison with the stack-exhaustion cut described in compare.h.
#include "compare.h"

#include <algorithm>

namespace wasm_sandbox::difftest {
namespace {

constexpr std::string_view kStackExhausted = "stack-exhausted";
constexpr std::string_view kEnd = "<end of output>";

// The index of the first line of the call that exhausted the stack (its "call" line), or of the
// exhausting line itself outside any call (instantiation); lines.size() if there is none.
size_t stack_cut(const std::vector<std::string>& lines) {
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.size() < kStackExhausted.size() ||
        line.compare(line.size() - kStackExhausted.size(), kStackExhausted.size(),
                     kStackExhausted) != 0 ||
        line.find("trap ") == std::string::npos) {
      continue;
    }
    for (size_t j = i + 1; j-- > 0;) {
      if (lines[j].rfind("call ", 0) == 0) return j;
    }
    return i;
  }
  return lines.size();
}

}  // namespace

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::Match:
      return "match";
    case Outcome::StackExhausted:
      return "stack-exhausted";
    case Outcome::Timeout:
      return "timeout";
    case Outcome::Mismatch:
      return "mismatch";
  }
  return "?";
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    lines.emplace_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

Comparison compare_runs(const std::vector<std::string>& ours, const std::vector<std::string>& v8) {
  // Compare up to the earliest cut of a side that did exhaust its stack; the other side must
  // have at least as many lines, all equal.
  const size_t ours_cut = stack_cut(ours), v8_cut = stack_cut(v8);
  const bool exhausted = ours_cut < ours.size() || v8_cut < v8.size();
  size_t cut = std::max(ours.size(), v8.size());
  if (ours_cut < ours.size()) cut = std::min(cut, ours_cut);
  if (v8_cut < v8.size()) cut = std::min(cut, v8_cut);
  const size_t ours_end = std::min(cut, ours.size()), v8_end = std::min(cut, v8.size());
  Comparison result;
  for (size_t i = 0; i < std::max(ours_end, v8_end); ++i) {
    const bool have_ours = i < ours_end, have_v8 = i < v8_end;
    if (have_ours && have_v8 && ours[i] == v8[i]) continue;
    result.outcome = Outcome::Mismatch;
    result.line = i + 1;
    result.ours = have_ours ? ours[i] : std::string(kEnd);
    result.v8 = have_v8 ? v8[i] : std::string(kEnd);
    return result;
  }
  if (exhausted) {
    result.outcome = Outcome::StackExhausted;
  } else if (!ours.empty() && ours.back() == "timeout") {
    result.outcome = Outcome::Timeout;
  }
  return result;
}

}  // namespace wasm_sandbox::difftest
