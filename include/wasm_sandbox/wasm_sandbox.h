// Everything: include this, or only the header of the concept you use.
#pragma once

#include "wasm_sandbox/engine.h"      // IWYU pragma: export
#include "wasm_sandbox/externs.h"     // IWYU pragma: export
#include "wasm_sandbox/guest_data.h"  // IWYU pragma: export
#include "wasm_sandbox/host.h"        // IWYU pragma: export
#include "wasm_sandbox/metrics.h"     // IWYU pragma: export
#include "wasm_sandbox/result.h"      // IWYU pragma: export
#include "wasm_sandbox/sandbox.h"     // IWYU pragma: export
#include "wasm_sandbox/typed_func.h"  // IWYU pragma: export
#include "wasm_sandbox/value.h"       // IWYU pragma: export
#include "wasm_sandbox/wasi.h"        // IWYU pragma: export
