// Sandbox: the one-line API over a shared engine.
#include "wasm_sandbox/sandbox.h"

namespace wasm_sandbox {

const Engine& Sandbox::default_engine() {
  static const Engine* engine = new Engine();  // never destroyed: modules may outlive main()
  return *engine;
}

Sandbox Sandbox::make(Result<Module> module, const Imports& imports) {
  Sandbox sandbox;
  if (!module) {
    sandbox.error_ = std::move(module).error();
    return sandbox;
  }
  auto instance = module->instantiate(imports);
  if (!instance) {
    sandbox.error_ = std::move(instance).error();
    return sandbox;
  }
  sandbox.instance_ = std::move(*instance);
  return sandbox;
}

Sandbox Sandbox::from_file(const std::filesystem::path& path, const Imports& imports) {
  return make(default_engine().load_file(path), imports);
}

Sandbox Sandbox::from_bytes(std::span<const uint8_t> wasm, std::string_view name,
                            const Imports& imports) {
  return make(default_engine().load(wasm, name), imports);
}

Sandbox Sandbox::from_wat(std::string_view text, std::string_view name, const Imports& imports) {
  return make(default_engine().load_wat(text, name), imports);
}

}  // namespace wasm_sandbox
