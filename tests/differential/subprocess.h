// Running a tool (wasm-opt, node, wasm-sandbox-difftest) with a time limit, capturing its output.
//
// Safe to call from several threads at once: the child only calls async-signal-safe functions
// between fork and exec, and every pipe is close-on-exec so one child never holds another's.
#pragma once

#include <string>
#include <vector>

namespace wasm_sandbox::difftest {

struct ProcessResult {
  std::string out;         // everything written to stdout before it ended or was killed
  std::string err;         // stderr, likewise
  bool started = false;    // false: fork or exec failed (err says why)
  bool timed_out = false;  // killed (SIGKILL) after the time limit
  int exit_code = -1;      // when it exited
  int signal = 0;          // when a signal ended it (SIGKILL after a timeout included)

  bool ok() const { return started && !timed_out && signal == 0 && exit_code == 0; }
  // "exit 3", "signal 11", "timeout", "not started: ...".
  std::string status_text() const;
};

// Runs argv[0] (an absolute path; no PATH search) with argv, stdin from /dev/null, for at most
// `timeout_seconds`; then kills it.
ProcessResult run_process(const std::vector<std::string>& argv, double timeout_seconds);

}  // namespace wasm_sandbox::difftest
