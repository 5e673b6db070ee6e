// Strings and bytes in and out of a guest, through an allocator the guest exports.
//
// The convention (docs/calls.md, "Strings and bytes"; the guest side is
// guests/sdk/wasm_sandbox_guest.h): the guest exports its memory as "memory",
// `ws_alloc(size: i32, align: i32) -> i32` (0 on failure) and
// `ws_free(ptr: i32, size: i32, align: i32)`. A function taking data takes (ptr, len) pairs of
// i32, borrowed for the call: the host allocates and fills them before and frees them after.
// A function returning data returns an i64 packing ptr << 32 | len of a buffer the guest got
// from ws_alloc(len, 1), or 0 for nothing; the host frees it with ws_free(ptr, len, 1) once
// read.
//
//   auto data = wasm_sandbox::GuestData::of(instance);     // Result<GuestData>
//   auto upper = data->call_string("upper", "hello");       // Result<std::string>: "HELLO"
//
// Every pointer and length a guest hands back is checked against its memory before the host
// touches a byte: a guest returning garbage gets an error, never a host crash. Errors:
// a guest trap (in the function, ws_alloc or ws_free) is ErrorKind::Trap, with the message of
// that call; ws_alloc returning 0 is LimitExceeded; a pointer or length outside the guest's
// memory is InvalidArgument; all name the module and the function.
//
// Thread safety: a GuestData, and the views it gives, follow the instance's rule: one call at
// a time. Every method counts as a call, since all but view() and string_view() call into the
// guest and those two read memory the guest writes. A GuestData also caches a function
// handle, so one object is never used from two threads at once; copies are independent. It
// keeps the instance alive, like a Func.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wasm_sandbox/engine.h"
#include "wasm_sandbox/externs.h"
#include "wasm_sandbox/result.h"
#include "wasm_sandbox/typed_func.h"

namespace wasm_sandbox {

// `len` bytes at offset `ptr` of a guest's memory. Ptr 0 means no buffer (then len is 0).
struct GuestSlice {
  uint32_t ptr = 0;
  uint32_t len = 0;

  // The i64 a guest function returns for this buffer.
  uint64_t packed() const { return uint64_t{ptr} << 32 | len; }
  static GuestSlice unpack(uint64_t packed) {
    return {static_cast<uint32_t>(packed >> 32), static_cast<uint32_t>(packed)};
  }
  bool operator==(const GuestSlice&) const = default;
};

class GuestData {
 public:
  // The types of the convention's functions.
  using AllocFunc = TypedFunc<uint32_t(uint32_t size, uint32_t align)>;
  using FreeFunc = TypedFunc<void(uint32_t ptr, uint32_t size, uint32_t align)>;
  using DataFunc = TypedFunc<uint64_t(uint32_t ptr, uint32_t len)>;  // bytes in, bytes out

  GuestData() = default;  // a null handle: every call fails

  // Looks up `memory`, `ws_alloc` and `ws_free` once. NotFound naming a missing export;
  // InvalidArgument naming an export of the wrong kind or type.
  static Result<GuestData> of(const Instance& instance);

  bool is_null() const { return memory_.is_null(); }
  // The guest's memory, e.g. to fill a buffer from alloc() in place:
  // memory().view(slice.ptr, slice.len).
  const Memory& memory() const { return memory_; }

  // --- Buffers the host owns until it frees them (or hands them to the guest for good).

  // ws_alloc(size, align), checked: [ptr, ptr + size) lies inside the memory. Size 0 gives
  // {0, 0} without calling the guest. Errors: the guest trapped, returned 0 (LimitExceeded)
  // or a range outside its memory (InvalidArgument).
  Result<GuestSlice> alloc(uint32_t size, uint32_t align = 1);
  // alloc(bytes.size()) and a copy of `bytes` into it. InvalidArgument past 4 GiB.
  Result<GuestSlice> copy_in(std::span<const uint8_t> bytes);
  Result<GuestSlice> copy_in(std::string_view text);
  // ws_free(slice.ptr, slice.len, align); nothing for ptr 0. `align` must be what the slice
  // was allocated with. Errors: the guest trapped.
  Status free(GuestSlice slice, uint32_t align = 1);

  // --- Zero-copy views of guest memory.
  //
  // A view of `slice`, bounds-checked now (InvalidArgument if outside the memory).
  // Lifetime: the memory never moves (growth maps pages in place), so the pointer stays
  // inside it while the instance lives, which this GuestData ensures while it lives; after the
  // instance is freed its pooled memory may belong to another instance. The bytes, though, are
  // the guest's: any call into the instance (any method here but view() and string_view(),
  // the slice's own free() included) may overwrite or reuse them. Read or copy them before the
  // next call. A view is never invalidated by memory.grow.
  Result<std::span<const uint8_t>> view(GuestSlice slice) const;
  Result<std::string_view> string_view(GuestSlice slice) const;

  // --- Results returned by guest functions.
  //
  // Unpacks a packed (ptr, len) a guest function returned, checks it, copies the bytes out and
  // frees the buffer with ws_free(ptr, len, 1). 0 (and any ptr 0, len 0) is an empty result,
  // with nothing to free. A result outside the memory, or ptr 0 with a length, is
  // InvalidArgument and is not freed; a trap in ws_free is returned (the copy is dropped).
  // `function`, the name of the function that returned it, is for error messages.
  Result<std::string> take_string(uint64_t packed, std::string_view function = {});
  Result<std::vector<uint8_t>> take_bytes(uint64_t packed, std::string_view function = {});

  // --- The common case in one call: copies `input` in, calls exported `function` (i32 ptr,
  // i32 len) -> i64 with it, takes the result and frees the input. The function's handle is
  // kept between calls of the same name. Each call into the guest (ws_alloc, the function,
  // two ws_free) is a call from the host for the safety controls: a timeout covers each.
  // After the function traps the input is still freed if ws_free allows, and the trap is
  // returned.
  Result<std::string> call_string(std::string_view function, std::string_view input);
  Result<std::vector<uint8_t>> call_bytes(std::string_view function,
                                          std::span<const uint8_t> input);

 private:
  // Copies `input` in, calls `function` and frees the input: the packed result.
  Result<uint64_t> call_data(std::string_view function, std::span<const uint8_t> input);
  // The result `packed` of `function`, checked (ptr 0 for none).
  Result<GuestSlice> checked_result(uint64_t packed, std::string_view function) const;
  Result<const DataFunc*> data_func(std::string_view function);

  std::optional<Instance> instance_;  // set unless null
  Memory memory_;
  AllocFunc alloc_;
  FreeFunc free_;
  // The last function call_string() and call_bytes() called.
  std::string last_name_;
  DataFunc last_func_;
};

}  // namespace wasm_sandbox
