// Compiled machine code for one module, from any tier, exposing the glue (glue_abi.h).
#pragma once

#include <wasm-rt.h>

#include <cstddef>

extern "C" {
#include "engine/glue_abi.h"
}

namespace wasm_sandbox::engine {

// Owns the code; the glue and every pointer reached through it live as long as this object.
// Thread-safe: immutable after construction.
class NativeCode {
 public:
  virtual ~NativeCode() = default;
  // Not virtual: read on every call from the host.
  const ws_glue& glue() const { return *glue_; }
  // Bytes of code and data the compiler produced.
  virtual size_t code_size() const = 0;

 protected:
  explicit NativeCode(const ws_glue* glue) : glue_(glue) {}

 private:
  const ws_glue* glue_;
};

}  // namespace wasm_sandbox::engine
