// MessagePack encoding (msgpack_writer.h); format:
// https://github.com/msgpack/msgpack/blob/master/spec.md
#include "store/msgpack_writer.h"

#include <cstring>
#include <limits>

namespace wasm_sandbox::store::msgpack {
namespace {

using json = nlohmann::json;

class Writer {
 public:
  explicit Writer(std::vector<uint8_t>* out) : out_(*out) {}

  void value(const json& v) {
    switch (v.type()) {
      case json::value_t::null:
        byte(0xc0);
        break;
      case json::value_t::boolean:
        byte(v.get_ref<const json::boolean_t&>() ? 0xc3 : 0xc2);
        break;
      case json::value_t::number_integer: {
        const int64_t n = v.get_ref<const json::number_integer_t&>();
        if (n >= 0) {
          unsigned_integer(static_cast<uint64_t>(n));
        } else {
          signed_integer(n);
        }
        break;
      }
      case json::value_t::number_unsigned:
        unsigned_integer(v.get_ref<const json::number_unsigned_t&>());
        break;
      case json::value_t::number_float:
        floating(v.get_ref<const json::number_float_t&>());
        break;
      case json::value_t::string: {
        const std::string& s = v.get_ref<const std::string&>();
        sized(s.size(), 0xa0, 31, 0xd9, 0xda, 0xdb);
        append(s.data(), s.size());
        break;
      }
      case json::value_t::array: {
        const auto& array = v.get_ref<const json::array_t&>();
        sized(array.size(), 0x90, 15, 0, 0xdc, 0xdd);
        for (const json& element : array) value(element);
        break;
      }
      case json::value_t::object: {
        const auto& object = v.get_ref<const json::object_t&>();
        sized(object.size(), 0x80, 15, 0, 0xde, 0xdf);
        for (const auto& [key, element] : object) {
          sized(key.size(), 0xa0, 31, 0xd9, 0xda, 0xdb);
          append(key.data(), key.size());
          value(element);
        }
        break;
      }
      case json::value_t::binary:
      case json::value_t::discarded:
        json::to_msgpack(v, out_);
        break;
    }
  }

 private:
  void byte(uint8_t b) { out_.push_back(b); }
  void append(const char* data, size_t size) {
    out_.insert(out_.end(), reinterpret_cast<const uint8_t*>(data),
                reinterpret_cast<const uint8_t*>(data) + size);
  }
  // `tag` then `v`'s low `bytes` bytes, big-endian.
  void tagged(uint8_t tag, uint64_t v, int bytes) {
    uint8_t buffer[9];
    buffer[0] = tag;
    for (int i = 0; i < bytes; ++i)
      buffer[1 + i] = static_cast<uint8_t>(v >> (8 * (bytes - 1 - i)));
    out_.insert(out_.end(), buffer, buffer + 1 + bytes);
  }
  void unsigned_integer(uint64_t n) {
    if (n < 128) return byte(static_cast<uint8_t>(n));
    if (n <= 0xff) return tagged(0xcc, n, 1);
    if (n <= 0xffff) return tagged(0xcd, n, 2);
    if (n <= 0xffffffff) return tagged(0xce, n, 4);
    tagged(0xcf, n, 8);
  }
  void signed_integer(int64_t n) {  // n < 0
    if (n >= -32) return byte(static_cast<uint8_t>(n));
    const auto bits = static_cast<uint64_t>(n);
    if (n >= std::numeric_limits<int8_t>::min()) return tagged(0xd0, bits, 1);
    if (n >= std::numeric_limits<int16_t>::min()) return tagged(0xd1, bits, 2);
    if (n >= std::numeric_limits<int32_t>::min()) return tagged(0xd2, bits, 4);
    tagged(0xd3, bits, 8);
  }
  void floating(double d) {
    // As nlohmann: float32 when the value survives the round trip through float (NaN never
    // compares equal, so it goes as float64).
    if (d >= static_cast<double>(std::numeric_limits<float>::lowest()) &&
        d <= static_cast<double>(std::numeric_limits<float>::max()) &&
        static_cast<double>(static_cast<float>(d)) == d) {
      const float f = static_cast<float>(d);
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      return tagged(0xca, bits, 4);
    }
    uint64_t bits;
    std::memcpy(&bits, &d, 8);
    tagged(0xcb, bits, 8);
  }
  // A length: `fix_tag | n` up to `fix_max`, else the 8- (if `tag8`), 16- or 32-bit form.
  void sized(size_t n, uint8_t fix_tag, size_t fix_max, uint8_t tag8, uint8_t tag16,
             uint8_t tag32) {
    if (n <= fix_max) return byte(static_cast<uint8_t>(fix_tag | n));
    if (tag8 != 0 && n <= 0xff) return tagged(tag8, n, 1);
    if (n <= 0xffff) return tagged(tag16, n, 2);
    tagged(tag32, n, 4);
  }

  std::vector<uint8_t>& out_;
};

}  // namespace

void encode(const nlohmann::json& value, std::vector<uint8_t>* out) { Writer(out).value(value); }

std::string_view encode_scratch(const nlohmann::json& value) {
  thread_local std::vector<uint8_t> bytes;
  bytes.clear();
  if (bytes.capacity() > (size_t{1} << 20)) bytes.shrink_to_fit();
  encode(value, &bytes);
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace wasm_sandbox::store::msgpack
