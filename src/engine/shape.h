// Stage 1b: the module limits that need the decoded IR (Limits: functions, locals, nesting,
// instructions per function, br_table size), and freeing the IR. Neither recurses: a hostile
// module nests blocks as deep as its size allows, and everything downstream that does recurse
// (wasm2c's writer, tcc's parser, the IR's own destructors) only sees modules that passed.
#pragma once

#include <memory>
#include <string_view>

#include "wasm_sandbox/limits.h"
#include "wasm_sandbox/result.h"

namespace wabt {
struct Module;
}

namespace wasm_sandbox::engine {

// Also refuses a function whose stack frame could outgrow the guard below the guest stack
// (runtime.h), which only raised limits allow. ErrorKind::LimitExceeded naming the function, the
// measure and the limit, e.g. "m.wasm: function 3 nests blocks 1001 deep, more than the limit of
// 1000 (Limits::nesting_depth)".
Status check_shape(const wabt::Module& ir, const Limits& limits, std::string_view name);

// Deletes a module of any nesting depth with bounded stack use.
void release_ir(std::unique_ptr<wabt::Module> ir);

}  // namespace wasm_sandbox::engine
