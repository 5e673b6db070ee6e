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

extern "C" uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  std::vector<uint32_t> key{params, results};
  va_list args;
  va_start(args, results);
  for (uint32_t i = 0; i < params + results; ++i) key.push_back(va_arg(args, int));
  va_end(args);
  std::lock_guard lock(g_mutex);
  auto& types = registry();
  // Ids start at 1 so that no real type equals the type field of a null funcref.
  auto [it, inserted] = types.emplace(std::move(key), static_cast<uint32_t>(types.size() + 1));
  return it->second;
}
