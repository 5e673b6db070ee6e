// `wasm-sandbox inspect MODULE`
#include <cstdio>

#include "cli/commands.h"
#include "wasm_sandbox/engine.h"

namespace wasm_sandbox::cli {

int run_inspect(const InspectOptions& options) {
  Engine engine;
  auto module = engine.load_file(options.module);
  if (!module) {
    print_error(module.error().message());
    return kExitUsage;
  }
  std::printf("module %s: %zu bytes, %zu functions\n", module->name().c_str(), module->wasm_size(),
              module->function_count());
  std::printf("imports: %zu\n", module->imports().size());
  for (const ImportDesc& i : module->imports()) {
    std::printf("  %s.%s: %s\n", i.module.c_str(), i.name.c_str(), i.type.to_string().c_str());
  }
  std::printf("exports: %zu\n", module->exports().size());
  for (const ExportDesc& e : module->exports()) {
    std::printf("  %s: %s\n", e.name.c_str(), e.type.to_string().c_str());
  }
  std::printf("memories: %zu\n", module->memories().size());
  for (const MemoryType& m : module->memories()) std::printf("  %s\n", m.to_string().c_str());
  std::printf("tables: %zu\n", module->tables().size());
  for (const TableType& t : module->tables()) std::printf("  %s\n", t.to_string().c_str());
  const CompileStats& s = module->stats();
  std::printf("compile: decode %.2f ms, generate C %.2f ms (%zu bytes), tcc %.2f ms (%zu bytes)\n",
              s.decode_ms, s.generate_ms, s.c_bytes, s.compile_ms, s.code_bytes);
  return kExitOk;
}

}  // namespace wasm_sandbox::cli
