// The one-line case: load a module, instantiate it, call it.
//
//   auto sb = wasm_sandbox::Sandbox::from_file("add.wasm");
//   wasm_sandbox::Result<int32_t> sum = sb.call<int32_t>("add", 5, 3);
//
// A Sandbox that failed to load still exists: ok() is false, error() says why, and every call
// returns that error. Sandboxes share one process-wide Engine.
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string_view>

#include "wasm_sandbox/engine.h"

namespace wasm_sandbox {

class Sandbox {
 public:
  static Sandbox from_file(const std::filesystem::path& path, const Imports& imports = {});
  static Sandbox from_bytes(std::span<const uint8_t> wasm, std::string_view name = "module.wasm",
                            const Imports& imports = {});
  static Sandbox from_wat(std::string_view text, std::string_view name = "module.wat",
                          const Imports& imports = {});

  bool ok() const { return instance_.has_value(); }
  // REQUIRES: !ok().
  const Error& error() const { return *error_; }
  // REQUIRES: ok().
  const Instance& instance() const { return *instance_; }

  template <class R = void, class... Args>
  requires(std::is_arithmetic_v<Args>&&...) Result<R> call(std::string_view name, Args... args)
  const {
    if (!instance_) return *error_;
    return instance_->call<R>(name, args...);
  }
  Result<std::vector<Value>> call(std::string_view name, std::span<const Value> args) const {
    if (!instance_) return *error_;
    return instance_->call(name, args);
  }

  // The engine the one-liners use.
  static const Engine& default_engine();

 private:
  static Sandbox make(Result<Module> module, const Imports& imports);
  std::optional<Instance> instance_;
  std::optional<Error> error_;
};

}  // namespace wasm_sandbox
