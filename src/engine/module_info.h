// What the engine learns about a module while decoding it: its interface and the sizes the
// sandbox checks against its limits before instantiating.
#pragma once

#include <string>
#include <vector>

#include "wasm_sandbox/value.h"

namespace wasm_sandbox::engine {

struct ModuleInfo {
  std::string name;  // for messages: usually the file name
  std::vector<ImportDesc> imports;
  std::vector<ExportDesc> exports;
  std::vector<MemoryType> memories;  // defined (not imported) by the module
  std::vector<TableType> tables;     // defined (not imported) by the module
  size_t function_count = 0;         // defined functions
  size_t wasm_size = 0;              // bytes of the binary
  // Every instance's memory starts with the same bytes, worth sharing as an image
  // (runtime/memory.h, MemoryImage): one memory, defined here, and active data segments
  // only at constant offsets, at least kImageMinBytes of them.
  bool memory_image = false;
};

inline constexpr size_t kImageMinBytes = 4096;

}  // namespace wasm_sandbox::engine
