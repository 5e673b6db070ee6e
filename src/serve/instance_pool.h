// A module's idle instances for `serve`: a request takes one, calls it, and gives it back
// unless the call trapped (an instance a trap stopped may be midway through an update, see
// engine.h after Instance::interrupt(), so it is dropped and a fresh one made later).
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "wasm_sandbox/engine.h"

namespace wasm_sandbox::serve {

// An instance and handles of its exported functions, looked up once.
struct PooledInstance {
  Instance instance;
  std::map<std::string, Func, std::less<>> functions;
};

// Thread-safe. Owns its idle instances; the Module (and with it the engine) outlives the pool
// because the pool holds it.
class InstancePool {
 public:
  // Keeps up to `max_idle` idle instances. Each is made with `limits`.
  InstancePool(Module module, Limits limits, size_t max_idle);

  const Module& module() const { return module_; }
  // The type of exported function `name`, or null if the module exports no such function.
  const FuncType* function_type(std::string_view name) const;
  // An idle instance, or a new one: instantiation errors pass through (LimitExceeded when the
  // engine holds Limits::instances already).
  Result<PooledInstance> take();
  // Back to the idle list, with its fuel refilled to Limits::fuel when the engine meters fuel
  // (so every request gets the same budget); dropped if max_idle are idle already.
  void give_back(PooledInstance instance);
  size_t idle() const;

 private:
  Result<PooledInstance> make() const;

  const Module module_;
  const Limits limits_;
  std::map<std::string, FuncType, std::less<>> function_types_;  // constant after construction
  const size_t max_idle_;
  mutable std::mutex mutex_;
  std::vector<PooledInstance> idle_;  // guarded by mutex_
};

}  // namespace wasm_sandbox::serve
