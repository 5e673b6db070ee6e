// Linear memories: a fixed address-space reservation per memory (runtime.h, kMemoryReservation)
// of which the first `pages` pages are accessible; growth only changes page protections, so
// `data` never moves and generated code needs no bounds checks for loads and stores.
//
// One page below `data` holds the memory's header (its budget): wasm_rt_memory_t has no room
// for it, and addresses below `data` are never computed by generated code (addresses and
// offsets are unsigned). Freed reservations are reset and reused (ReservationPool).
//
// Memories for code that checks its own bounds are laid out otherwise (dense_memory.h);
// grow_memory() and free_memory() tell them apart by address.
#include "runtime/memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <optional>
#include <vector>

#include "runtime/dense_memory.h"
#include "runtime/runtime.h"

namespace wasm_sandbox::runtime {
namespace {

constexpr size_t kHeaderSize = 4096;

struct MemoryHeader {
  MemoryBudget* budget;
  MemoryPool* pool;          // where it goes back to when freed, or null
  size_t initial_bytes;      // accessible when taken from the pool: what a reset restores
  const MemoryImage* image;  // mapped over the initial bytes (kept across resets), or null
};

// The word generated code reads at data - 8 (WS_MEMORY_IMAGED): nonzero when the memory
// starts from its module's image, so that its data segments are written already.
uint64_t& imaged_word(const wasm_rt_memory_t* memory) {
  return *reinterpret_cast<uint64_t*>(memory->data - sizeof(uint64_t));
}

MemoryHeader* header_of(const wasm_rt_memory_t* memory) {
  return reinterpret_cast<MemoryHeader*>(memory->data - kHeaderSize);
}

constinit thread_local AllocationLimits* t_limits = nullptr;

void unmap_reservation(uint8_t* base) { munmap(base, kHeaderSize + kMemoryReservation); }

// Reservations of freed memories, kept for the next ones: mapping and unmapping 8 GiB of
// address space costs more than resetting what was used of it. An entry's header page and its
// first `accessible` bytes of data are read-write and all zero (MADV_DONTNEED on a private
// anonymous mapping gives zero-filled pages on the next touch); the rest is inaccessible.
struct Reservation {
  uint8_t* base;  // the header page
  size_t accessible;
};

class ReservationPool {
 public:
  static constexpr size_t kCapacity = 32;

  std::optional<Reservation> take() {
    std::lock_guard lock(mutex_);
    if (free_.empty()) return std::nullopt;
    Reservation r = free_.back();
    free_.pop_back();
    return r;
  }
  // False if the pool is full (the caller unmaps).
  bool give(Reservation r) {
    std::lock_guard lock(mutex_);
    if (free_.size() >= kCapacity) return false;
    free_.push_back(r);
    return true;
  }

 private:
  std::mutex mutex_;
  std::vector<Reservation> free_;
};

ReservationPool& pool() {
  static auto* p = new ReservationPool;  // never destroyed: memories may outlive statics
  return *p;
}

// The header page and `bytes` of data read-write, the rest of the reservation not accessible.
uint8_t* reserve(size_t bytes) {
  if (auto r = pool().take()) {
    uint8_t* data = r->base + kHeaderSize;
    const bool ok =
        r->accessible == bytes ||
        (r->accessible > bytes
             ? mprotect(data + bytes, r->accessible - bytes, PROT_NONE) == 0
             : mprotect(data + r->accessible, bytes - r->accessible, PROT_READ | PROT_WRITE) == 0);
    if (ok) return r->base;
    unmap_reservation(r->base);
  }
  void* base = mmap(nullptr, kHeaderSize + kMemoryReservation, PROT_NONE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return nullptr;
  // The header page and the initial pages are contiguous: one mprotect for both.
  if (mprotect(base, kHeaderSize + bytes, PROT_READ | PROT_WRITE) != 0) {
    unmap_reservation(static_cast<uint8_t*>(base));
    return nullptr;
  }
  return static_cast<uint8_t*>(base);
}

void release(uint8_t* base, size_t accessible) {
  if (madvise(base, kHeaderSize + accessible, MADV_DONTNEED) == 0 &&
      pool().give({base, accessible})) {
    return;
  }
  unmap_reservation(base);
}

}  // namespace

// MemoryPool's internals, for the allocation functions below.
struct PoolAccess {
  // A reset reservation with `bytes` accessible, or null.
  static uint8_t* take(MemoryPool& pool, size_t bytes) {
    std::lock_guard lock(pool.mutex_);
    if (pool.free_.empty() || pool.size_ != bytes) return nullptr;
    uint8_t* base = pool.free_.back();
    pool.free_.pop_back();
    return base;
  }
  // Resets the memory (pages discarded, growth undone) and keeps it; false if it cannot
  // (the pool is full, or holds another size), and then the caller releases it.
  static bool give(MemoryPool& pool, uint8_t* base, size_t accessible, size_t initial) {
    {
      std::lock_guard lock(pool.mutex_);
      if (pool.free_.size() >= pool.capacity_ || (!pool.free_.empty() && pool.size_ != initial)) {
        return false;
      }
    }
    // The header page stays: the next allocation writes it at once.
    if (madvise(base + kHeaderSize, accessible, MADV_DONTNEED) != 0) return false;
    if (accessible > initial &&
        mprotect(base + kHeaderSize + initial, accessible - initial, PROT_NONE) != 0) {
      return false;
    }
    std::lock_guard lock(pool.mutex_);
    if (pool.free_.size() >= pool.capacity_ || (!pool.free_.empty() && pool.size_ != initial)) {
      return false;
    }
    pool.size_ = initial;
    pool.free_.push_back(base);
    return true;
  }
};

MemoryPool::~MemoryPool() {
  for (uint8_t* base : free_) unmap_reservation(base);
}

size_t MemoryPool::idle() const {
  std::lock_guard lock(mutex_);
  return free_.size();
}

bool MemoryBudget::reserve(uint64_t bytes) {
  uint64_t used = used_.load(std::memory_order_relaxed);
  do {
    if (bytes > limit_ - std::min(used, limit_)) return false;
  } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
  return true;
}

std::unique_ptr<MemoryImage> MemoryImage::create(const uint8_t* data, size_t bytes) {
  const int fd = memfd_create("wasm-sandbox-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return nullptr;
  bool ok = ftruncate(fd, static_cast<off_t>(bytes)) == 0;
  // Only the pages with data: the rest stay holes, which read as zeros and take no memory.
  constexpr size_t kPage = 4096;
  static const uint8_t kZeros[kPage] = {};
  for (size_t at = 0; ok && at < bytes; at += kPage) {
    const size_t n = std::min(kPage, bytes - at);
    if (std::memcmp(data + at, kZeros, n) == 0) continue;
    ok = pwrite(fd, data + at, n, static_cast<off_t>(at)) == static_cast<ssize_t>(n);
  }
  ok = ok && fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0;
  if (!ok) {
    close(fd);
    return nullptr;
  }
  return std::unique_ptr<MemoryImage>(new MemoryImage(fd, bytes));
}

MemoryImage::~MemoryImage() { close(fd_); }

bool allocate_memory(wasm_rt_memory_t* memory, uint32_t initial_pages, uint32_t max_pages,
                     MemoryBudget* budget, MemoryPool* pool, const MemoryImage* image) {
  *memory = {};
  if (initial_pages > kMaxPages) return false;
  const size_t bytes = size_t{initial_pages} * kPageSize;
  if (budget && !budget->reserve(bytes)) return false;
  uint8_t* header_page = pool ? PoolAccess::take(*pool, bytes) : nullptr;
  if (!header_page) header_page = reserve(bytes);
  if (!header_page) {
    if (budget) budget->release(bytes);
    return false;
  }
  memory->data = header_page + kHeaderSize;
  memory->pages = initial_pages;
  memory->max_pages = std::min(max_pages, kMaxPages);
  memory->size = static_cast<uint32_t>(bytes);
  MemoryHeader* header = header_of(memory);
  // What the memory maps: a memory from the module's pool keeps the image it was given (its
  // header survives the reset); a new one, or one from before the image existed, maps it
  // now. (One that maps the image while the caller has none, having looked before it was
  // made, gets its data segments written over it; `image` stays recorded, so that the memory
  // never reaches another module's pool.)
  const MemoryImage* mapped = pool && header->pool == pool ? header->image : nullptr;
  if (image && image->bytes() == bytes && mapped != image &&
      mmap(memory->data, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, image->fd(), 0) !=
          MAP_FAILED) {
    mapped = image;
  }
  *header = {budget, pool, bytes, mapped};
  imaged_word(memory) = image && mapped == image ? 1 : 0;
  return true;
}

uint32_t grow_memory(wasm_rt_memory_t* memory, uint32_t delta) {
  if (is_dense_memory(memory->data)) return grow_dense_memory(memory, delta);
  const uint32_t old_pages = memory->pages;
  const uint64_t new_pages = uint64_t{old_pages} + delta;
  if (new_pages > memory->max_pages) return UINT32_MAX;
  if (delta == 0) return old_pages;
  const size_t bytes = size_t{delta} * kPageSize;
  MemoryBudget* budget = header_of(memory)->budget;
  if (budget && !budget->reserve(bytes)) return UINT32_MAX;
  if (mprotect(memory->data + size_t{old_pages} * kPageSize, bytes, PROT_READ | PROT_WRITE) != 0) {
    if (budget) budget->release(bytes);
    return UINT32_MAX;
  }
  memory->pages = static_cast<uint32_t>(new_pages);
  memory->size = static_cast<uint32_t>(new_pages * kPageSize);
  return old_pages;
}

void free_memory(wasm_rt_memory_t* memory) {
  if (memory->data && is_dense_memory(memory->data)) {
    free_dense_memory(memory);
  } else if (memory->data) {
    const MemoryHeader header = *header_of(memory);
    if (header.budget) header.budget->release(memory->size);
    uint8_t* base = memory->data - kHeaderSize;
    if (!header.pool || !PoolAccess::give(*header.pool, base, memory->size, header.initial_bytes)) {
      // One that maps an image goes back to the system: another module must not see it.
      if (header.image) {
        unmap_reservation(base);
      } else {
        release(base, memory->size);
      }
    }
  }
  *memory = {};
}

AllocationLimits* active_allocation_limits() { return t_limits; }

ScopedAllocationLimits::ScopedAllocationLimits(AllocationLimits* limits) : previous_(t_limits) {
  t_limits = limits;
}
ScopedAllocationLimits::~ScopedAllocationLimits() { t_limits = previous_; }

}  // namespace wasm_sandbox::runtime

extern "C" {

void wasm_rt_allocate_memory(wasm_rt_memory_t* memory, uint32_t initial_pages, uint32_t max_pages) {
  using namespace wasm_sandbox::runtime;
  AllocationLimits* limits = active_allocation_limits();
  MemoryBudget* budget = nullptr;
  MemoryPool* pool = nullptr;
  const MemoryImage* image = nullptr;
  if (limits) {
    budget = limits->budget;
    pool = limits->pool;
    if (!limits->first_memory) image = limits->image;
    if (initial_pages > limits->max_pages) {
      limits->failure = "a memory of " + std::to_string(initial_pages) +
                        " pages exceeds the limit of " + std::to_string(limits->max_pages) +
                        " pages (Limits::memory_bytes)";
      trap(wasm_sandbox::TrapKind::HostError, limits->failure);
    }
    max_pages = std::min(max_pages, limits->max_pages);
  }
  const bool dense = limits && limits->dense;
  const bool allocated =
      dense ? allocate_dense_memory(memory, initial_pages, std::min(max_pages, kMaxPages), budget)
            : allocate_memory(memory, initial_pages, max_pages, budget, pool, image);
  if (!allocated) {
    if (limits && budget &&
        budget->used() + uint64_t{initial_pages} * kPageSize > budget->limit()) {
      limits->failure = "a memory of " + std::to_string(initial_pages) +
                        " pages does not fit in what is left of the engine's " +
                        std::to_string(budget->limit() >> 20) + " MiB (Limits::total_memory_bytes)";
      trap(wasm_sandbox::TrapKind::HostError, limits->failure);
    }
    const std::string message =
        dense ? "cannot reserve address space for a dense linear memory of up to " +
                    std::to_string(dense_slot_bytes(std::min(max_pages, kMaxPages)) >> 10) +
                    " KiB (its maximum, or Limits::memory_bytes; the process's address space "
                    "is exhausted)"
              : "cannot reserve address space for a linear memory (each reserves " +
                    std::to_string(kMemoryReservation >> 30) +
                    " GiB; the process's address space is exhausted)";
    if (limits) limits->failure = message;
    trap(wasm_sandbox::TrapKind::HostError, message);
  }
  if (limits && !limits->first_memory) limits->first_memory = memory;
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t* memory, uint32_t delta) {
  return wasm_sandbox::runtime::grow_memory(memory, delta);
}

void wasm_rt_free_memory(wasm_rt_memory_t* memory) { wasm_sandbox::runtime::free_memory(memory); }

}  // extern "C"
