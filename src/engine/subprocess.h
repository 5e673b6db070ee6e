// Child processes for the optimized tier: the C compiler runs as a subprocess, several at once
// for a module split into several translation units, and is killed when its time is up or
// the compile is no longer wanted.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "wasm_sandbox/result.h"

namespace wasm_sandbox::engine {

struct ProcessOutcome {
  bool ok = false;          // exited with status 0
  std::string error;        // otherwise: "exit status 1", "killed by signal 9", ...
  std::string diagnostics;  // what it wrote to stderr (at most 64 KiB)
};

// Runs each of `commands` (argv vectors; argv[0] a path) as a child with stdin and stdout on
// /dev/null and stderr captured, at most `parallel` at a time, and waits for all of them.
// Children still running at `deadline`, or when `*cancel` becomes true, are killed; the
// result then says so (ErrorKind::LimitExceeded for the deadline, Internal for a cancel).
// Spawn failures are ErrorKind::Unsupported, naming the program. Outcomes in command order.
// Thread-safe; `cancel` may be null and is read, never written.
Result<std::vector<ProcessOutcome>> run_processes(
    const std::vector<std::vector<std::string>>& commands, unsigned parallel,
    std::chrono::steady_clock::time_point deadline, const std::atomic<bool>* cancel);

}  // namespace wasm_sandbox::engine
