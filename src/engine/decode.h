// Stage 1: bytes -> validated IR (libwabt's ReadBinaryIr + ValidateModule).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "engine/module_info.h"
#include "wasm_sandbox/limits.h"
#include "wasm_sandbox/result.h"

namespace wabt {
struct Module;
}

namespace wasm_sandbox::engine {

struct DecodedModule {
  std::unique_ptr<wabt::Module> ir;
  ModuleInfo info;
  DecodedModule();
  DecodedModule(DecodedModule&&) noexcept;
  ~DecodedModule();
};

// Reads and validates a binary module. Malformed or invalid bytes give ErrorKind::InvalidModule
// with the reader's or validator's message and the byte offset; a module that uses SIMD gives
// ErrorKind::Unsupported; a module over one of the module limits gives
// ErrorKind::LimitExceeded. `name` is only used in messages.
Result<DecodedModule> decode(std::span<const uint8_t> bytes, std::string_view name,
                             const Limits& limits);

// Assembles WebAssembly text to a binary. Errors (ErrorKind::InvalidModule) carry line and
// column.
Result<std::vector<uint8_t>> assemble_wat(std::string_view text, std::string_view name);

// True if the bytes start with the binary magic "\0asm".
bool looks_like_binary(std::span<const uint8_t> bytes);

}  // namespace wasm_sandbox::engine
