// Stage 1a: the module limits (Limits: functions, locals, instructions per function, nesting,
// br_table size), checked by streaming through the binary before any IR is built, so that a
// hostile module costs neither memory nor recursion; and freeing the IR without recursion.
// Everything downstream that does recurse (wasm2c's writer, tcc's parser) only sees modules
// that passed.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "wasm_sandbox/limits.h"
#include "wasm_sandbox/result.h"

namespace wabt {
struct Module;
struct Error;
}  // namespace wabt

namespace wasm_sandbox::engine {

// ErrorKind::LimitExceeded naming the function, the measure and the limit, e.g.
// "m.wasm: function 3 nests blocks deeper than the limit of 1000 (Limits::nesting_depth)".
// Also refuses a function whose stack frame could outgrow the guard below the guest stack
// (runtime.h), which only raised limits allow.
// Returns false, with the reader's first error in `*malformed`, for bytes that are not a
// well-formed module: those never reach WABT's IR builder, which asserts (aborting the
// process) on some malformed inputs that the plain reader rejects cleanly.
Result<bool> prescan(std::span<const uint8_t> bytes, const Limits& limits, std::string_view name,
                     wabt::Error* malformed);

// Parameters and locals together, per function (the scan sees only the locals).
Status check_locals(const wabt::Module& ir, const Limits& limits, std::string_view name);

// Deletes a module of any nesting depth with bounded stack use.
void release_ir(std::unique_ptr<wabt::Module> ir);

}  // namespace wasm_sandbox::engine
