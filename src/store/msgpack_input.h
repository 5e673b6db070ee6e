// The bytes a MessagePack reader consumes, every read checked against what is left: the base of
// the store's decoder (msgpack_reader.cc) and its text renderer (msgpack_text.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wasm_sandbox::store::msgpack {

class Input {
 protected:
  explicit Input(std::string_view bytes)
      : p_(reinterpret_cast<const uint8_t*>(bytes.data())), end_(p_ + bytes.size()) {}

  bool at_end() const { return p_ == end_; }
  size_t left() const { return static_cast<size_t>(end_ - p_); }
  bool byte(uint8_t* b) {
    if (p_ == end_) return false;
    *b = *p_++;
    return true;
  }
  // A big-endian unsigned integer of `size` bytes.
  bool uint(size_t size, uint64_t* n) {
    if (left() < size) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < size; ++i) v = (v << 8) | p_[i];
    p_ += size;
    *n = v;
    return true;
  }
  // The next `size` bytes, in place.
  bool take(uint64_t size, const uint8_t** data) {
    if (left() < size) return false;
    *data = p_;
    p_ += size;
    return true;
  }

  // The size and subtype of an ext value whose tag is `tag` (fixext 0xd4-0xd8, ext 0xc7-0xc9);
  // false for any other tag (0xc1, never used) or too few bytes.
  bool extension(uint8_t tag, uint64_t* size, uint8_t* subtype) {
    if (tag >= 0xd4 && tag <= 0xd8) {
      *size = uint64_t{1} << (tag - 0xd4);
    } else if (tag < 0xc7 || tag > 0xc9 || !uint(size_t{1} << (tag - 0xc7), size)) {
      return false;
    }
    return byte(subtype);
  }

  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace wasm_sandbox::store::msgpack
