// Tables: a heap array of elements that is reallocated on growth. Generated code reloads
// `data` on every access, so moving it is safe between any two guest instructions.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "runtime/memory.h"
#include "runtime/runtime.h"

namespace wasm_sandbox::runtime {

template <class Table>
bool allocate_table(Table* table, uint32_t elements, uint32_t max_elements) {
  *table = {};
  if (elements > kMaxTableElements) return false;
  if (elements != 0) {
    table->data = static_cast<decltype(table->data)>(std::calloc(elements, sizeof(*table->data)));
    if (!table->data) return false;
  }
  table->size = elements;
  table->max_size = max_elements;
  return true;
}

template <class Table, class Elem>
uint32_t grow_table(Table* table, uint32_t delta, Elem init) {
  const uint32_t old_size = table->size;
  const uint64_t new_size = uint64_t{old_size} + delta;
  if (new_size > table->max_size || new_size > kMaxTableElements) return UINT32_MAX;
  if (delta == 0) return old_size;
  auto* data = static_cast<decltype(table->data)>(
      std::realloc(table->data, new_size * sizeof(*table->data)));
  if (!data) return UINT32_MAX;
  std::fill(data + old_size, data + new_size, init);
  table->data = data;
  table->size = static_cast<uint32_t>(new_size);
  return old_size;
}

template <class Table>
void free_table(Table* table) {
  std::free(table->data);
  *table = {};
}

template bool allocate_table(wasm_rt_funcref_table_t*, uint32_t, uint32_t);
template bool allocate_table(wasm_rt_externref_table_t*, uint32_t, uint32_t);
template uint32_t grow_table(wasm_rt_funcref_table_t*, uint32_t, wasm_rt_funcref_t);
template uint32_t grow_table(wasm_rt_externref_table_t*, uint32_t, wasm_rt_externref_t);
template void free_table(wasm_rt_funcref_table_t*);
template void free_table(wasm_rt_externref_table_t*);

}  // namespace wasm_sandbox::runtime

namespace {
template <class Table>
void allocate_or_trap(Table* table, uint32_t elements, uint32_t max_elements) {
  using namespace wasm_sandbox::runtime;
  if (AllocationLimits* limits = active_allocation_limits()) {
    if (elements > limits->max_table_elements) {
      limits->failure = "a table of " + std::to_string(elements) +
                        " elements exceeds the limit of " +
                        std::to_string(limits->max_table_elements) + " (Limits::table_elements)";
      trap(wasm_sandbox::TrapKind::HostError, limits->failure);
    }
    max_elements = std::min(max_elements, limits->max_table_elements);
  }
  if (!allocate_table(table, elements, max_elements)) {
    wasm_sandbox::runtime::trap(wasm_sandbox::TrapKind::HostError, "cannot allocate a table");
  }
}
}  // namespace

extern "C" {

void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t* table, uint32_t elements,
                                    uint32_t max_elements) {
  allocate_or_trap(table, elements, max_elements);
}
void wasm_rt_allocate_externref_table(wasm_rt_externref_table_t* table, uint32_t elements,
                                      uint32_t max_elements) {
  allocate_or_trap(table, elements, max_elements);
}
void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t* table) {
  wasm_sandbox::runtime::free_table(table);
}
void wasm_rt_free_externref_table(wasm_rt_externref_table_t* table) {
  wasm_sandbox::runtime::free_table(table);
}
uint32_t wasm_rt_grow_funcref_table(wasm_rt_funcref_table_t* table, uint32_t delta,
                                    wasm_rt_funcref_t init) {
  return wasm_sandbox::runtime::grow_table(table, delta, init);
}
uint32_t wasm_rt_grow_externref_table(wasm_rt_externref_table_t* table, uint32_t delta,
                                      wasm_rt_externref_t init) {
  return wasm_sandbox::runtime::grow_table(table, delta, init);
}

}  // extern "C"
