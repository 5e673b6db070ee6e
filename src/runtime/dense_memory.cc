// Dense memories: slots of shared read-write slabs (dense_memory.h).
#include "runtime/dense_memory.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "runtime/memory.h"
#include "runtime/runtime.h"

namespace wasm_sandbox::runtime {
namespace {

// Slots per slab: enough that a slab is a sizeable mapping, few enough that a process with
// a handful of memories does not reserve terabytes (and that valgrind, which maps at most
// a few GiB at once, runs it).
constexpr uint64_t kSlabTargetBytes = 4ull << 30;
constexpr uint32_t kMinSlotsPerSlab = 1;
constexpr uint32_t kMaxSlotsPerSlab = 4096;

struct Slab {
  uint8_t* base;
  uint64_t slot_bytes;
  uint32_t slots;
  uint32_t used = 0;                   // slots [0, used) have been handed out at least once
  std::vector<MemoryBudget*> budgets;  // per slot, while it holds a memory
};

struct Slot {
  Slab* slab;
  uint32_t index;
  uint8_t* data() const { return slab->base + slab->slot_bytes * index; }
};

// Every slab, by size class and by address. Slabs live as long as the process.
class Arena {
 public:
  // A reset slot of the class, or nullopt if no address space is left.
  std::optional<Slot> take(uint32_t max_pages) {
    std::lock_guard lock(mutex_);
    SizeClass& c = classes_[max_pages];
    if (!c.free.empty()) {
      const Slot slot = c.free.back();
      c.free.pop_back();
      return slot;
    }
    if (!c.current || c.current->used == c.current->slots) {
      Slab* slab = map_slab(dense_slot_bytes(max_pages));
      if (!slab) return std::nullopt;
      c.current = slab;
    }
    return Slot{c.current, c.current->used++};
  }

  void give(Slot slot, uint32_t max_pages) {
    std::lock_guard lock(mutex_);
    slot.slab->budgets[slot.index] = nullptr;
    classes_[max_pages].free.push_back(slot);
  }

  // The slot whose memory starts at `data`, if any.
  std::optional<Slot> find(const uint8_t* data) {
    if (!any_.load(std::memory_order_acquire)) return std::nullopt;
    std::lock_guard lock(mutex_);
    auto it = by_address_.upper_bound(data);
    if (it == by_address_.begin()) return std::nullopt;
    Slab* slab = (--it)->second;
    const uint64_t offset = static_cast<uint64_t>(data - slab->base);
    if (offset >= slab->slot_bytes * slab->slots || offset % slab->slot_bytes != 0) {
      return std::nullopt;
    }
    return Slot{slab, static_cast<uint32_t>(offset / slab->slot_bytes)};
  }

  MemoryBudget*& budget_of(Slot slot) {
    // Written only by the memory's owner (allocate, grow and free of one memory are never
    // concurrent); the vector itself never resizes after the slab is made.
    return slot.slab->budgets[slot.index];
  }

 private:
  struct SizeClass {
    Slab* current = nullptr;  // the slab handing out never-used slots
    std::vector<Slot> free;   // reset slots, ready for reuse
  };

  // REQUIRES: mutex_ held.
  Slab* map_slab(uint64_t slot_bytes) {
    const uint32_t slots = static_cast<uint32_t>(
        std::clamp<uint64_t>(kSlabTargetBytes / slot_bytes, kMinSlotsPerSlab, kMaxSlotsPerSlab));
    void* base = mmap(nullptr, slot_bytes * slots, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) return nullptr;
    auto* slab = new Slab{static_cast<uint8_t*>(base), slot_bytes, slots, 0, {}};  // never freed
    slab->budgets.assign(slots, nullptr);
    by_address_.emplace(slab->base, slab);
    any_.store(true, std::memory_order_release);
    return slab;
  }

  std::mutex mutex_;
  std::map<uint32_t, SizeClass> classes_;
  std::map<const uint8_t*, Slab*> by_address_;
  std::atomic<bool> any_{false};  // whether by_address_ has a slab: spares guard-page frees a lock
};

Arena& arena() {
  static auto* a = new Arena;  // never destroyed: memories may outlive statics
  return *a;
}

}  // namespace

uint64_t dense_slot_bytes(uint32_t max_pages) {
  return uint64_t{std::max<uint32_t>(max_pages, 1)} * kPageSize;
}

bool allocate_dense_memory(wasm_rt_memory_t* memory, uint32_t initial_pages, uint32_t max_pages,
                           MemoryBudget* budget) {
  *memory = {};
  if (max_pages > kMaxPages || initial_pages > max_pages) return false;
  const uint64_t bytes = uint64_t{initial_pages} * kPageSize;
  if (budget && !budget->reserve(bytes)) return false;
  const std::optional<Slot> slot = arena().take(max_pages);
  if (!slot) {
    if (budget) budget->release(bytes);
    return false;
  }
  arena().budget_of(*slot) = budget;
  memory->data = slot->data();
  memory->pages = initial_pages;
  memory->max_pages = max_pages;
  memory->size = static_cast<uint32_t>(bytes);
  return true;
}

bool is_dense_memory(const uint8_t* data) { return arena().find(data).has_value(); }

uint32_t grow_dense_memory(wasm_rt_memory_t* memory, uint32_t delta) {
  const uint32_t old_pages = memory->pages;
  const uint64_t new_pages = uint64_t{old_pages} + delta;
  if (new_pages > memory->max_pages) return UINT32_MAX;
  if (delta == 0) return old_pages;
  const std::optional<Slot> slot = arena().find(memory->data);
  if (!slot) return UINT32_MAX;
  MemoryBudget* budget = arena().budget_of(*slot);
  if (budget && !budget->reserve(uint64_t{delta} * kPageSize)) return UINT32_MAX;
  // The pages are mapped read-write already, and zero: they were never touched, or were
  // reset when the slot's previous memory was freed.
  memory->pages = static_cast<uint32_t>(new_pages);
  memory->size = static_cast<uint32_t>(new_pages * kPageSize);
  return old_pages;
}

void free_dense_memory(wasm_rt_memory_t* memory) {
  const std::optional<Slot> slot = arena().find(memory->data);
  if (slot) {
    if (MemoryBudget* budget = arena().budget_of(*slot)) budget->release(memory->size);
    // Only the first `size` bytes can have been written: generated code checks every access,
    // and the host reaches memory through bounds-checked views. If the reset fails the slot
    // is not reused: it would not be zero.
    if (madvise(memory->data, memory->size, MADV_DONTNEED) == 0) {
      arena().give(*slot, memory->max_pages);
    }
  }
  *memory = {};
}

}  // namespace wasm_sandbox::runtime
