/* The guest side of wasm-sandbox's data convention (docs/calls.md, "Strings and bytes";
 * the host side is include/wasm_sandbox/guest_data.h).
 *
 * The convention:
 *   - the module exports its memory as "memory" (clang and wasm-ld do by default);
 *   - it exports ws_alloc(size, align) -> ptr, 0 on failure, and ws_free(ptr, size, align),
 *     through which the host places input and releases output;
 *   - a function taking data takes (ptr, len) pairs of i32: the host allocates and fills the
 *     buffer before the call and frees it after, so the guest only borrows it for the call;
 *   - a function returning data returns an i64, ws_pack(ptr, len), of a buffer allocated with
 *     ws_alloc(len, 1) (or ptr 0 for an empty result), which the host frees with
 *     ws_free(ptr, len, 1) once it has read it.
 *
 *   #include "wasm_sandbox_guest.h"
 *   WS_EXPORT(upper) uint64_t upper(const char* text, uint32_t len) {
 *     char* out = ws_result_buffer(len);
 *     for (uint32_t i = 0; i < len; ++i) out[i] = ...;
 *     return ws_pack(out, len);
 *   }
 *
 * Freestanding: needs only clang's own <stdint.h> and <stddef.h>, so it builds with
 * `--target=wasm32 -nostdlib` as well as on wasi-libc.
 *
 * The allocator: by default a bump allocator for request-scoped data, over
 * __builtin_wasm_memory_grow from wasm-ld's __heap_base. Freeing the most recent allocation
 * gives its bytes back, and once every allocation is freed the whole heap is reused; memory
 * is never returned to the system (wasm cannot shrink a memory). That is exactly the host's
 * pattern (input in, output out, both freed), but a guest that keeps allocations across calls
 * only ever grows. Such a guest, and any guest that also calls malloc (which claims the same
 * memory after __heap_base), is built on wasi-libc and defines WS_GUEST_MALLOC before
 * including this header: ws_alloc/ws_free then become malloc/aligned_alloc and free.
 *
 * ws_alloc and ws_free are defined (and exported) where this header is included; in a guest of
 * several translation units, every one but one defines WS_GUEST_DECLARATIONS_ONLY first. */
#ifndef WASM_SANDBOX_GUEST_H
#define WASM_SANDBOX_GUEST_H

#include <stddef.h>
#include <stdint.h>

/* Exports the function that follows under `name`: WS_EXPORT(upper) uint64_t upper(...). */
#define WS_EXPORT(name) __attribute__((export_name(#name)))

#ifdef __cplusplus
extern "C" {
#endif

/* `size` bytes aligned to `align` (a power of two), or 0 if they cannot be had. */
void* ws_alloc(uint32_t size, uint32_t align);
/* Releases what ws_alloc(size, align) returned; ptr 0 is ignored. */
void ws_free(void* ptr, uint32_t size, uint32_t align);

/* The i64 a function returns for `len` bytes at `ptr`: ptr in the high half, len in the low. */
static inline uint64_t ws_pack(const void* ptr, uint32_t len) {
  return ((uint64_t)(uintptr_t)ptr << 32) | len;
}

/* A buffer of `len` bytes for a result, to fill and return with ws_pack(buffer, len). Traps if
 * memory is exhausted: an empty result would be mistaken for a real one. */
static inline void* ws_result_buffer(uint32_t len) {
  if (len == 0) return 0;
  void* buffer = ws_alloc(len, 1);
  if (!buffer) __builtin_trap();
  return buffer;
}

/* Returns a copy of [data, data + len) as a result: `return ws_return_bytes(p, n);`. */
static inline uint64_t ws_return_bytes(const void* data, uint32_t len) {
  unsigned char* out = (unsigned char*)ws_result_buffer(len);
  for (uint32_t i = 0; i < len; ++i) out[i] = ((const unsigned char*)data)[i];
  return ws_pack(out, len);
}

/* Returns a copy of the NUL-terminated `text`, without the NUL. */
static inline uint64_t ws_return_string(const char* text) {
  uint32_t len = 0;
  while (text[len]) ++len;
  return ws_return_bytes(text, len);
}

#ifdef __cplusplus
}
#endif

#ifndef WS_GUEST_DECLARATIONS_ONLY
#ifdef WS_GUEST_MALLOC
#include <stdlib.h>

WS_EXPORT(ws_alloc) void* ws_alloc(uint32_t size, uint32_t align) {
  if (align == 0 || (align & (align - 1)) != 0) return 0;
  if (size == 0) size = 1; /* a distinct pointer, never 0 */
  if (align <= _Alignof(max_align_t)) return malloc(size);
  return aligned_alloc(align, (size + align - 1) & ~(align - 1));
}

WS_EXPORT(ws_free) void ws_free(void* ptr, uint32_t size, uint32_t align) {
  (void)size;
  (void)align;
  free(ptr);
}

#else /* the bump allocator */

extern unsigned char __heap_base; /* the first byte after the stack and data (wasm-ld) */
static uintptr_t ws_heap_top_;    /* the next free byte; 0 before the first allocation */
static uint32_t ws_heap_live_;    /* allocations not yet freed */

WS_EXPORT(ws_alloc) void* ws_alloc(uint32_t size, uint32_t align) {
  if (align == 0 || (align & (align - 1)) != 0) return 0;
  if (ws_heap_live_ == 0) ws_heap_top_ = (uintptr_t)&__heap_base;
  const uint64_t start = ((uint64_t)ws_heap_top_ + align - 1) & ~(uint64_t)(align - 1);
  const uint64_t end = start + size; /* both below 2^33: no overflow in 64 bits */
  if (end >= (uint64_t)1 << 32) return 0;
  const uint64_t have = (uint64_t)__builtin_wasm_memory_size(0) * 65536;
  if (end > have &&
      __builtin_wasm_memory_grow(0, (size_t)((end - have + 65535) / 65536)) == (size_t)-1) {
    return 0;
  }
  ws_heap_top_ = (uintptr_t)end;
  ++ws_heap_live_;
  return (void*)(uintptr_t)start;
}

WS_EXPORT(ws_free) void ws_free(void* ptr, uint32_t size, uint32_t align) {
  (void)align;
  if (!ptr || ws_heap_live_ == 0) return;
  if ((uintptr_t)ptr + size == ws_heap_top_) ws_heap_top_ = (uintptr_t)ptr;
  --ws_heap_live_;
}

#endif /* WS_GUEST_MALLOC */
#endif /* WS_GUEST_DECLARATIONS_ONLY */

#endif /* WASM_SANDBOX_GUEST_H */
