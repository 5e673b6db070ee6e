// Stage 3: validated IR -> one C translation unit: a prelude for the C compiler, wasm2c's
// header and code (libwabt's WriteC), and our glue (glue_abi.h) after it.
//
// Before WriteC, imports are renamed to module "i", fields "f0".."fN" and exports to
// "e0".."eN", so that every generated symbol name is known without reproducing wasm2c's
// name mangling, and duplicate import names (legal in wasm) cannot collide in C. The
// original names stay in ModuleInfo.
#pragma once

#include <string>

#include "engine/instrument.h"
#include "engine/module_info.h"
#include "wasm_sandbox/result.h"

namespace wabt {
struct Module;
}

namespace wasm_sandbox::engine {

// How generated code keeps loads and stores inside their memory.
enum class BoundsChecks {
  // None in the code: every memory reserves 8 GiB of address space (runtime.h,
  // kMemoryReservation), of which what is past its size is inaccessible, and the fault an
  // out-of-bounds access raises becomes a trap.
  GuardPages,
  // A compare against the memory's size before every access (dense memories,
  // runtime/dense_memory.h). Such code never relies on a fault, so it runs on memories of
  // either kind.
  Explicit,
};

// Consumes the IR's names (it is renamed in place). `extra` says what instrument() added.
// ErrorKind::LimitExceeded when the C would exceed `max_bytes` (WriteC is stopped there);
// ErrorKind::Unsupported if WriteC fails otherwise.
Result<std::string> generate_c(wabt::Module& ir, const ModuleInfo& info,
                               const InstrumentedExports& extra, BoundsChecks checks,
                               size_t max_bytes);

}  // namespace wasm_sandbox::engine
