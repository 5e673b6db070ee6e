// GuestData: the host side of the strings-and-bytes convention. Everything the guest hands back
// (ws_alloc's pointer, a function's packed result) is untrusted: it is checked against the
// memory's size at the moment of use, in 64-bit arithmetic, before any byte is touched.
#include "wasm_sandbox/guest_data.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <utility>

namespace wasm_sandbox {
namespace {

constexpr const char* kConvention =
    "; the data convention (guest_data.h) needs exports `memory`, `ws_alloc` and `ws_free`";

std::string hex(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, value);
  return buf;
}

// Whether [ptr, ptr + len) lies inside `memory` as it is now (Memory::view()'s check; the
// callers word their own errors).
bool inside(const Memory& memory, uint32_t ptr, uint32_t len) {
  return memory.view(ptr, len).ok();
}

Error null_handle() { return Error(ErrorKind::InvalidArgument, "use of a null GuestData"); }

template <class T>
Result<T> with_convention(Result<T> lookup) {
  if (lookup) return lookup;
  Error error = std::move(lookup).error();
  return Error(error.kind(), error.message() + kConvention);
}

}  // namespace

Result<GuestData> GuestData::of(const Instance& instance) {
  auto memory = with_convention(instance.memory("memory"));
  if (!memory) return std::move(memory).error();
  auto alloc = with_convention(instance.typed<uint32_t(uint32_t, uint32_t)>("ws_alloc"));
  if (!alloc) return std::move(alloc).error();
  auto free = with_convention(instance.typed<void(uint32_t, uint32_t, uint32_t)>("ws_free"));
  if (!free) return std::move(free).error();
  GuestData data;
  data.instance_ = instance;
  data.memory_ = std::move(*memory);
  data.alloc_ = std::move(*alloc);
  data.free_ = std::move(*free);
  return data;
}

Result<GuestSlice> GuestData::alloc(uint32_t size, uint32_t align) {
  if (is_null()) return null_handle();
  if (size == 0) return GuestSlice{};
  auto ptr = alloc_.call(size, align);
  if (!ptr) return std::move(ptr).error();
  if (*ptr != 0 && inside(memory_, *ptr, size)) [[likely]] {
    return GuestSlice{*ptr, size};
  }
  const std::string call = instance_->name() + ": ws_alloc(" + std::to_string(size) + ", " +
                           std::to_string(align) + ") returned ";
  if (*ptr == 0) return Error(ErrorKind::LimitExceeded, call + "0: the guest is out of memory");
  return Error(ErrorKind::InvalidArgument,
               call + hex(*ptr) + ", and [" + hex(*ptr) + ", " + hex(uint64_t{*ptr} + size) +
                   ") is outside its memory of " + std::to_string(memory_.size()) + " bytes");
}

Result<GuestSlice> GuestData::copy_in(std::span<const uint8_t> bytes) {
  if (bytes.size() > UINT32_MAX) {
    return Error(ErrorKind::InvalidArgument,
                 (is_null() ? std::string("GuestData") : instance_->name()) + ": " +
                     std::to_string(bytes.size()) + " bytes do not fit a 32-bit memory");
  }
  auto slice = alloc(static_cast<uint32_t>(bytes.size()));
  if (!slice) return slice;
  // alloc() checked the range against the memory's size after ws_alloc returned, and a
  // memory only grows.
  if (!bytes.empty()) std::memcpy(memory_.data() + slice->ptr, bytes.data(), bytes.size());
  return slice;
}

Result<GuestSlice> GuestData::copy_in(std::string_view text) {
  return copy_in(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

Status GuestData::free(GuestSlice slice, uint32_t align) {
  if (is_null()) return null_handle();
  if (slice.ptr == 0) return {};
  return free_.call(slice.ptr, slice.len, align);
}

Result<std::span<const uint8_t>> GuestData::view(GuestSlice slice) const {
  if (is_null()) return null_handle();
  if (!inside(memory_, slice.ptr, slice.len)) {
    return Error(ErrorKind::InvalidArgument, instance_->name() + ": (ptr " + hex(slice.ptr) +
                                                 ", len " + std::to_string(slice.len) +
                                                 ") is outside its memory of " +
                                                 std::to_string(memory_.size()) + " bytes");
  }
  return std::span<const uint8_t>(memory_.data() + slice.ptr, slice.len);
}

Result<std::string_view> GuestData::string_view(GuestSlice slice) const {
  auto bytes = view(slice);
  if (!bytes) return std::move(bytes).error();
  return std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

Result<GuestSlice> GuestData::checked_result(uint64_t packed, std::string_view function) const {
  if (is_null()) return null_handle();
  const GuestSlice slice = GuestSlice::unpack(packed);
  const bool null_with_length = slice.ptr == 0 && slice.len != 0;
  if (!null_with_length && inside(memory_, slice.ptr, slice.len)) [[likely]] {
    return slice;
  }
  const std::string who = function.empty() ? "a function" : "`" + std::string(function) + "`";
  const std::string what = instance_->name() + ": " + who + " returned (ptr " + hex(slice.ptr) +
                           ", len " + std::to_string(slice.len) + ")";
  if (null_with_length) {
    return Error(ErrorKind::InvalidArgument, what + ": a length with a null pointer");
  }
  return Error(ErrorKind::InvalidArgument,
               what + " outside its memory of " + std::to_string(memory_.size()) + " bytes");
}

Result<std::string> GuestData::take_string(uint64_t packed, std::string_view function) {
  auto slice = checked_result(packed, function);
  if (!slice) return std::move(slice).error();
  std::string out(reinterpret_cast<const char*>(memory_.data()) + slice->ptr, slice->len);
  if (Status s = free(*slice); !s) return std::move(s).error();
  return out;
}

Result<std::vector<uint8_t>> GuestData::take_bytes(uint64_t packed, std::string_view function) {
  auto slice = checked_result(packed, function);
  if (!slice) return std::move(slice).error();
  const uint8_t* begin = memory_.data() + slice->ptr;
  std::vector<uint8_t> out(begin, begin + slice->len);
  if (Status s = free(*slice); !s) return std::move(s).error();
  return out;
}

Result<const GuestData::DataFunc*> GuestData::data_func(std::string_view function) {
  if (is_null()) return null_handle();
  if (last_func_.is_null() || last_name_ != function) {
    auto func = instance_->typed<uint64_t(uint32_t, uint32_t)>(function);
    if (!func) return std::move(func).error();
    last_func_ = std::move(*func);
    last_name_ = function;
  }
  return &last_func_;
}

Result<uint64_t> GuestData::call_data(std::string_view function, std::span<const uint8_t> input) {
  auto func = data_func(function);
  if (!func) return std::move(func).error();
  auto in = copy_in(input);
  if (!in) return std::move(in).error();
  auto packed = (*func)->call(in->ptr, in->len);
  Status freed = free(*in);
  if (!packed) return packed;  // the function's error, even if the free failed too
  if (!freed) return std::move(freed).error();
  return packed;
}

Result<std::string> GuestData::call_string(std::string_view function, std::string_view input) {
  auto packed =
      call_data(function, std::span(reinterpret_cast<const uint8_t*>(input.data()), input.size()));
  if (!packed) return std::move(packed).error();
  return take_string(*packed, function);
}

Result<std::vector<uint8_t>> GuestData::call_bytes(std::string_view function,
                                                   std::span<const uint8_t> input) {
  auto packed = call_data(function, input);
  if (!packed) return std::move(packed).error();
  return take_bytes(*packed, function);
}

}  // namespace wasm_sandbox
