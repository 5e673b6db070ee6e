// The `spectest` host module the official spec scripts import: print functions (silent),
// global_i32/i64 = 666, global_f32/f64 = 666.6, a table of 10..20 funcrefs and a memory of
// 1..2 pages.
#pragma once

#include "wasm_sandbox/engine.h"

namespace wasm_sandbox::wast {

// Adds a fresh spectest module (new table, memory and globals) to `imports`.
Status add_spectest(Imports& imports);

}  // namespace wasm_sandbox::wast
