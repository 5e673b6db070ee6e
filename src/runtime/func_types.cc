// The process-wide function type registry: equal signatures get equal ids, whichever module
// registers them, so call_indirect through a table shared between modules checks types
// correctly. Modules register their types once, when they are loaded; lookups are rare.
#include <cstdarg>
#include <map>
#include <mutex>
#include <vector>

#include "runtime/runtime.h"

namespace {

std::mutex g_mutex;
// Key: param count, result count, then the types.
std::map<std::vector<uint32_t>, uint32_t>& registry() {
  static auto* types = new std::map<std::vector<uint32_t>, uint32_t>;
  return *types;
}

}  // namespace

namespace wasm_sandbox::runtime {

uint32_t register_func_type(uint32_t params, uint32_t results, const int* types) {
  std::vector<uint32_t> key{params, results};
  key.insert(key.end(), types, types + params + results);
  std::lock_guard lock(g_mutex);
  auto& registered = registry();
  // Ids start at 1 so that no real type equals the type field of a null funcref.
  auto [it, inserted] =
      registered.emplace(std::move(key), static_cast<uint32_t>(registered.size() + 1));
  return it->second;
}

}  // namespace wasm_sandbox::runtime

extern "C" uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  std::vector<int> types(params + results);
  va_list args;
  va_start(args, results);
  for (int& type : types) type = va_arg(args, int);
  va_end(args);
  return wasm_sandbox::runtime::register_func_type(params, results, types.data());
}
