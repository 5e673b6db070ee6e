// Stage 4, baseline tier: C -> machine code in memory with libtcc, in milliseconds.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "engine/native_code.h"
#include "wasm_sandbox/result.h"

namespace wasm_sandbox::engine {

// Compiles one translation unit from generate_c(). libtcc 0.9.27 keeps global state, so calls
// are serialized process-wide. The code may call only the runtime (wasm_rt_*), libm and libc.
Result<std::unique_ptr<NativeCode>> compile_with_tcc(const std::string& source,
                                                     std::string_view name);

}  // namespace wasm_sandbox::engine
