// The normalized event lines of a differential run. wasm-sandbox-difftest (our engine) and
// run_v8.mjs (V8) each print one line per event, and the driver compares the two outputs as
// text, so both must spell every line identically. run_v8.mjs repeats this format; change both.
//
//   module ok | module invalid | module error <what>
//   instantiate ok | instantiate trap <category> | instantiate error <what>
//   call <export name>              before each exported function is called
//   log <value>                     each value passed to a fuzzing-support log-* import
//   return [<value> ...]            the call's results, in order
//   trap <category>                 the call trapped
//
// Values: "i32 -5" and "i64 7" in signed decimal; "f32 0x3f800000" and "f64 0x3ff0000000000000"
// as raw bits, so no float printing is involved; "f32 nan" / "f64 nan" for every NaN, because
// the spec lets NaN sign and payload differ between engines; "funcref null", "funcref func",
// "externref null", "externref value".
//
// Trap categories are the finest split both engines can report alike (see README.md):
//   unreachable      `unreachable` executed
//   divide-by-zero   integer division or remainder by zero
//   overflow         signed division overflow, or float-to-int of NaN or out of range (V8 has
//                    one message for both float-to-int cases; we have two kinds)
//   bad-access       memory or table out of bounds, null or mismatched indirect call (we report
//                    an out-of-table call_indirect as IndirectCall, V8 as a table bound)
//   stack-exhausted  call stack exhausted (the driver compares nothing after it)
#pragma once

#include <string>

#include "wasm_sandbox/result.h"
#include "wasm_sandbox/value.h"

namespace wasm_sandbox::difftest {

// "i32 -5", "f64 nan", "funcref null".
std::string value_text(const Value& value);

// The category of a trap kind, as listed above; "other <kind name>" for kinds outside them.
std::string trap_category(TrapKind trap);

}  // namespace wasm_sandbox::difftest
