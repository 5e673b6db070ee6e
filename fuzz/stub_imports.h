// Imports that satisfy any module's import list with inert host objects, so that a fuzzed
// module can get past linking whatever it declares.
#pragma once

#include "wasm_sandbox/engine.h"

namespace wasm_sandbox::fuzz {

// One host object per import of `module`, of exactly the declared type:
//   functions return zero (or null) results and have no other effect;
//   globals hold zero (or null), with the declared mutability;
//   memories and tables have the declared minimum size and maximum.
// An import whose object the host cannot create (a memory over the page limit, a table too
// large to allocate) is left out, so instantiation then fails with a link error.
Imports stub_imports(const Module& module);

}  // namespace wasm_sandbox::fuzz
