// Linear memories: a fixed address-space reservation per memory (runtime.h, kMemoryReservation)
// of which the first `pages` pages are accessible; growth only changes page protections, so
// `data` never moves and generated code needs no bounds checks for loads and stores.
#include "runtime/memory.h"

#include <sys/mman.h>

#include <algorithm>

#include "runtime/runtime.h"

namespace wasm_sandbox::runtime {

bool allocate_memory(wasm_rt_memory_t* memory, uint32_t initial_pages, uint32_t max_pages) {
  *memory = {};
  if (initial_pages > kMaxPages) return false;
  void* base = mmap(nullptr, kMemoryReservation, PROT_NONE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return false;
  const size_t bytes = size_t{initial_pages} * kPageSize;
  if (bytes != 0 && mprotect(base, bytes, PROT_READ | PROT_WRITE) != 0) {
    munmap(base, kMemoryReservation);
    return false;
  }
  memory->data = static_cast<uint8_t*>(base);
  memory->pages = initial_pages;
  memory->max_pages = std::min(max_pages, kMaxPages);
  memory->size = static_cast<uint32_t>(bytes);
  return true;
}

uint32_t grow_memory(wasm_rt_memory_t* memory, uint32_t delta) {
  const uint32_t old_pages = memory->pages;
  const uint64_t new_pages = uint64_t{old_pages} + delta;
  if (new_pages > memory->max_pages) return UINT32_MAX;
  if (delta == 0) return old_pages;
  if (mprotect(memory->data + size_t{old_pages} * kPageSize, size_t{delta} * kPageSize,
               PROT_READ | PROT_WRITE) != 0) {
    return UINT32_MAX;
  }
  memory->pages = static_cast<uint32_t>(new_pages);
  memory->size = static_cast<uint32_t>(new_pages * kPageSize);
  return old_pages;
}

void free_memory(wasm_rt_memory_t* memory) {
  if (memory->data) munmap(memory->data, kMemoryReservation);
  *memory = {};
}

}  // namespace wasm_sandbox::runtime

extern "C" {

void wasm_rt_allocate_memory(wasm_rt_memory_t* memory, uint32_t initial_pages, uint32_t max_pages) {
  if (!wasm_sandbox::runtime::allocate_memory(memory, initial_pages, max_pages)) {
    wasm_sandbox::runtime::trap(wasm_sandbox::TrapKind::HostError,
                                "cannot allocate a linear memory");
  }
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t* memory, uint32_t delta) {
  return wasm_sandbox::runtime::grow_memory(memory, delta);
}

void wasm_rt_free_memory(wasm_rt_memory_t* memory) { wasm_sandbox::runtime::free_memory(memory); }

}  // extern "C"
