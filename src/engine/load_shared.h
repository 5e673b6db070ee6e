// Loading the optimized tier's code: a shared object's bytes -> NativeCode, with dlopen.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "engine/native_code.h"
#include "wasm_sandbox/result.h"

namespace wasm_sandbox::engine {

// Loads a shared object produced by compile_shared_object() from memory: the bytes go into a
// sealed anonymous file (memfd) that dlopen maps, so nothing on disk can change the code
// between any check of the bytes and their loading. Binds the runtime (glue_abi.h,
// ws_runtime_api) before returning. ErrorKind::InvalidModule when the bytes are not a
// loadable object or hold no glue of this ABI version; `name` names them in messages.
// The caller must have checked where the bytes come from: loading runs their code.
Result<std::unique_ptr<NativeCode>> load_shared_object(std::span<const uint8_t> bytes,
                                                       std::string_view name);

}  // namespace wasm_sandbox::engine
