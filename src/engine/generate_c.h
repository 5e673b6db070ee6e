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

// Consumes the IR's names (it is renamed in place). `extra` says what instrument() added.
// ErrorKind::LimitExceeded when the C would exceed `max_bytes` (WriteC is stopped there);
// ErrorKind::Unsupported if WriteC fails otherwise.
Result<std::string> generate_c(wabt::Module& ir, const ModuleInfo& info,
                               const InstrumentedExports& extra, size_t max_bytes);

}  // namespace wasm_sandbox::engine
