// Linear memory and table allocation, callable from the host outside guarded calls (they
// report failure instead of trapping). The wasm_rt_* entry points generated code calls wrap
// these and trap on failure; while an instance is being instantiated they apply the limits
// of the innermost ScopedAllocationLimits on the calling thread.
#pragma once

#include <wasm-rt.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace wasm_sandbox::runtime {

// Committed linear-memory bytes shared by many memories (an engine's
// Limits::total_memory_bytes). Thread-safe.
class MemoryBudget {
 public:
  explicit MemoryBudget(uint64_t limit) : limit_(limit) {}
  // False (and nothing reserved) if `bytes` more would pass the limit.
  bool reserve(uint64_t bytes);
  void release(uint64_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }
  uint64_t used() const { return used_.load(std::memory_order_relaxed); }
  uint64_t limit() const { return limit_; }

 private:
  std::atomic<uint64_t> used_{0};
  const uint64_t limit_;
};

// The bytes every instance of a module starts its memory with (its data segments at
// constant offsets; engine ModuleInfo::memory_image), in a sealed memfd. A memory allocated
// with an image maps it copy-on-write in place of zero pages, so instantiation copies
// nothing, instances share the pages they only read, and a pooled memory's reset (madvise)
// brings the image back by itself. The generated code then skips the data segments
// (WS_MEMORY_IMAGED). Thread-safe; immutable.
class MemoryImage {
 public:
  // From the first `bytes` of `data` (a memory its module's instantiation just filled). Null
  // if the system refuses (no memfd).
  static std::unique_ptr<MemoryImage> create(const uint8_t* data, size_t bytes);
  ~MemoryImage();
  MemoryImage(const MemoryImage&) = delete;
  MemoryImage& operator=(const MemoryImage&) = delete;

  size_t bytes() const { return bytes_; }
  int fd() const { return fd_; }

 private:
  MemoryImage(int fd, size_t bytes) : fd_(fd), bytes_(bytes) {}
  int fd_;
  size_t bytes_;
};

// Linear memories of one kind (one module's), kept for reuse: a freed memory taken from a
// pool is reset (its pages discarded, growth undone) and kept, so that the next memory of
// the same size is taken from it with no system call. Holds address space only, no memory.
// Thread-safe. REQUIRES: outlives every memory allocated from it.
class MemoryPool {
 public:
  // Keeps at most `capacity` freed memories; more are unmapped.
  explicit MemoryPool(size_t capacity) : capacity_(capacity) {}
  ~MemoryPool();
  MemoryPool(const MemoryPool&) = delete;
  MemoryPool& operator=(const MemoryPool&) = delete;

  size_t idle() const;  // memories kept, ready for reuse

 private:
  friend struct PoolAccess;
  mutable std::mutex mutex_;
  std::vector<uint8_t*> free_;  // header pages of reset reservations, all of one size
  size_t size_ = 0;             // their accessible bytes
  const size_t capacity_;
};

// Reserves address space and commits `initial_pages`; growth is capped at max_pages (and
// kMaxPages). Every page counts against `budget` (may be null) from commit until free.
// With a `pool`, the memory comes from it when it has one of this size, and goes back to it
// when freed. False if the address space cannot be reserved, initial_pages is over kMaxPages
// or the budget is short.
// With an `image` of exactly the initial size, the memory starts with it (MemoryImage).
bool allocate_memory(wasm_rt_memory_t* memory, uint32_t initial_pages, uint32_t max_pages,
                     MemoryBudget* budget = nullptr, MemoryPool* pool = nullptr,
                     const MemoryImage* image = nullptr);
// Returns the old page count, or UINT32_MAX when the memory cannot grow by `delta`.
// Dense memories (dense_memory.h) too, as free_memory().
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

// Limits for the memories and tables generated code allocates on this thread while the
// object lives (an instantiation). Declared maximums are lowered to them; an initial size
// over them, or a budget that is short, fails the allocation, with `failure` set to a
// message naming the limit. Nests; not shared between threads.
struct AllocationLimits {
  uint32_t max_pages;
  uint32_t max_table_elements;
  MemoryBudget* budget;
  std::string failure;
  MemoryPool* pool = nullptr;                // where the memories come from and go back to, if any
  const MemoryImage* image = nullptr;        // what the first memory starts with, if any
  wasm_rt_memory_t* first_memory = nullptr;  // set by the first allocation
  // Memories for code that checks its own bounds (dense_memory.h): no pool, no image.
  bool dense = false;
};
// The innermost limits on this thread, or null.
AllocationLimits* active_allocation_limits();

class ScopedAllocationLimits {
 public:
  explicit ScopedAllocationLimits(AllocationLimits* limits);
  ~ScopedAllocationLimits();
  ScopedAllocationLimits(const ScopedAllocationLimits&) = delete;
  ScopedAllocationLimits& operator=(const ScopedAllocationLimits&) = delete;

 private:
  AllocationLimits* previous_;
};

}  // namespace wasm_sandbox::runtime
