// See stub_imports.h.
#include "fuzz/stub_imports.h"

#include <optional>

namespace wasm_sandbox::fuzz {
namespace {

std::optional<Extern> stub_for(const ExternType& type) {
  switch (type.kind) {
    case ExternKind::Func:
      // The sandbox zero-initializes `results` with the right types: nothing to do.
      return Func::host(type.func,
                        [](Caller&, std::span<const Value>, std::span<Value>) { return Status(); });
    case ExternKind::Global: {
      auto global = Global::create(type.global, Value::zero(type.global.type));
      if (!global) return std::nullopt;
      return *global;
    }
    case ExternKind::Memory: {
      auto memory = Memory::create(type.memory);
      if (!memory) return std::nullopt;
      return *memory;
    }
    case ExternKind::Table: {
      auto table = Table::create(type.table);
      if (!table) return std::nullopt;
      return *table;
    }
  }
  return std::nullopt;
}

}  // namespace

Imports stub_imports(const Module& module) {
  Imports imports;
  for (const ImportDesc& import : module.imports()) {
    if (auto stub = stub_for(import.type)) imports.add(import.module, import.name, *stub);
  }
  return imports;
}

}  // namespace wasm_sandbox::fuzz
