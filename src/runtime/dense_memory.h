// Linear memories for code that checks its own bounds (EngineConfig::memory_mode ==
// MemoryMode::Dense): no guard region, so a memory takes only the address space it may grow
// to, and thousands share one mapping.
//
// Memories of one size class (their maximum, in pages) are slots of a slab: one read-write
// anonymous mapping, reserved without commitment (MAP_NORESERVE), of which a slot's pages
// take memory only once touched. Generated code never touches past a memory's current size
// (every access is checked), so growth only changes the size, with no system call; a freed
// slot is reset (MADV_DONTNEED: zero pages again) and kept for the next memory of its class.
// A slab is one kernel mapping whatever its slot count, which is what lets a process hold
// 100,000 memories (the kernel's vm.max_map_count is 65,530 by default, and a guard-page
// memory takes two).
//
// Slabs are never unmapped: their address space stays reserved for reuse, their memory is
// returned. Thread-safe.
#pragma once

#include <wasm-rt.h>

#include <cstdint>

namespace wasm_sandbox::runtime {

class MemoryBudget;

// A memory of `initial_pages`, growable to `max_pages`, in a slot of that size class. Every
// page counts against `budget` (may be null) from commit until free. False if the budget is
// short, initial_pages > max_pages or max_pages > kMaxPages, or no address space is left.
bool allocate_dense_memory(wasm_rt_memory_t* memory, uint32_t initial_pages, uint32_t max_pages,
                           MemoryBudget* budget);
// Whether `data` is the base of a dense memory.
bool is_dense_memory(const uint8_t* data);
// REQUIRES: is_dense_memory(memory->data). Returns the old page count, or UINT32_MAX.
uint32_t grow_dense_memory(wasm_rt_memory_t* memory, uint32_t delta);
// REQUIRES: is_dense_memory(memory->data). Resets the slot and keeps it for reuse.
void free_dense_memory(wasm_rt_memory_t* memory);

// The address space a dense memory growable to `max_pages` takes.
uint64_t dense_slot_bytes(uint32_t max_pages);

}  // namespace wasm_sandbox::runtime
