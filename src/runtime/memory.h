// Linear memory and table allocation, callable from the host outside guarded calls (they
// report failure instead of trapping). The wasm_rt_* entry points generated code calls wrap
// these and trap on failure.
#pragma once

#include <wasm-rt.h>

#include <cstdint>

namespace wasm_sandbox::runtime {

// Reserves and commits `initial_pages`; growth is capped at max_pages (and kMaxPages).
// False if the address space cannot be reserved or initial_pages is over kMaxPages.
bool allocate_memory(wasm_rt_memory_t* memory, uint32_t initial_pages, uint32_t max_pages);
// Returns the old page count, or UINT32_MAX when the memory cannot grow by `delta`.
uint32_t grow_memory(wasm_rt_memory_t* memory, uint32_t delta);
void free_memory(wasm_rt_memory_t* memory);

// Tables of funcref or externref (T is wasm_rt_funcref_table_t or wasm_rt_externref_table_t).
// Elements start null. False if `elements` is over kMaxTableElements or memory is short.
template <class Table>
bool allocate_table(Table* table, uint32_t elements, uint32_t max_elements);
template <class Table, class Elem>
uint32_t grow_table(Table* table, uint32_t delta, Elem init);
template <class Table>
void free_table(Table* table);

}  // namespace wasm_sandbox::runtime
