// MessagePack to nlohmann::json (msgpack_reader.h). Format: github.com/msgpack/msgpack spec.md.
#include "store/msgpack_reader.h"

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/msgpack_input.h"

namespace wasm_sandbox::store::msgpack {
namespace {

using json = nlohmann::json;

enum class Outcome { Ok, Bad, TooDeep };

class Reader : private Input {
 public:
  explicit Reader(std::string_view bytes) : Input(bytes) {}

  using Input::at_end;

  Outcome value(json* out, int depth) {
    if (depth > kMaxDepth) return Outcome::TooDeep;
    uint8_t tag;
    if (!byte(&tag)) return Outcome::Bad;
    if (tag <= 0x7f) return *out = uint64_t{tag}, Outcome::Ok;
    if (tag >= 0xe0) return *out = int64_t{static_cast<int8_t>(tag)}, Outcome::Ok;
    if (tag >= 0xa0 && tag <= 0xbf) return string(tag & 0x1f, out);
    if (tag >= 0x90 && tag <= 0x9f) return array(tag & 0x0f, out, depth);
    if (tag >= 0x80 && tag <= 0x8f) return map(tag & 0x0f, out, depth);
    uint64_t n;
    switch (tag) {
      case 0xc0:
        return *out = nullptr, Outcome::Ok;
      case 0xc2:
        return *out = false, Outcome::Ok;
      case 0xc3:
        return *out = true, Outcome::Ok;
      case 0xca: {
        uint32_t bits;
        if (!uint(4, &n)) return Outcome::Bad;
        bits = static_cast<uint32_t>(n);
        float f;
        std::memcpy(&f, &bits, 4);
        return *out = static_cast<double>(f), Outcome::Ok;
      }
      case 0xcb: {
        if (!uint(8, &n)) return Outcome::Bad;
        double d;
        std::memcpy(&d, &n, 8);
        return *out = d, Outcome::Ok;
      }
      case 0xcc:
      case 0xcd:
      case 0xce:
      case 0xcf:
        if (!uint(size_t{1} << (tag - 0xcc), &n)) return Outcome::Bad;
        return *out = n, Outcome::Ok;
      case 0xd0:
        if (!uint(1, &n)) return Outcome::Bad;
        return *out = int64_t{static_cast<int8_t>(n)}, Outcome::Ok;
      case 0xd1:
        if (!uint(2, &n)) return Outcome::Bad;
        return *out = int64_t{static_cast<int16_t>(n)}, Outcome::Ok;
      case 0xd2:
        if (!uint(4, &n)) return Outcome::Bad;
        return *out = int64_t{static_cast<int32_t>(n)}, Outcome::Ok;
      case 0xd3:
        if (!uint(8, &n)) return Outcome::Bad;
        return *out = static_cast<int64_t>(n), Outcome::Ok;
      case 0xd9:
      case 0xda:
      case 0xdb:
        if (!uint(size_t{1} << (tag - 0xd9), &n)) return Outcome::Bad;
        return string(n, out);
      case 0xdc:
      case 0xdd:
        if (!uint(tag == 0xdc ? 2 : 4, &n)) return Outcome::Bad;
        return array(n, out, depth);
      case 0xde:
      case 0xdf:
        if (!uint(tag == 0xde ? 2 : 4, &n)) return Outcome::Bad;
        return map(n, out, depth);
      case 0xc4:
      case 0xc5:
      case 0xc6:
        if (!uint(size_t{1} << (tag - 0xc4), &n)) return Outcome::Bad;
        return binary(n, std::nullopt, out);
      default:  // ext types: nlohmann keeps them as binary with a subtype
        return extension(tag, out);
    }
  }

 private:
  Outcome string(uint64_t size, json* out) {
    const uint8_t* data;
    if (!take(size, &data)) return Outcome::Bad;
    *out = std::string(reinterpret_cast<const char*>(data), size);
    return Outcome::Ok;
  }
  Outcome binary(uint64_t size, std::optional<uint8_t> subtype, json* out) {
    const uint8_t* data;
    if (!take(size, &data)) return Outcome::Bad;
    std::vector<uint8_t> bytes(data, data + size);
    *out = subtype ? json::binary(std::move(bytes), *subtype) : json::binary(std::move(bytes));
    return Outcome::Ok;
  }
  Outcome extension(uint8_t tag, json* out) {
    uint64_t size;
    uint8_t subtype;
    if (!Input::extension(tag, &size, &subtype)) return Outcome::Bad;
    return binary(size, subtype, out);
  }
  Outcome array(uint64_t count, json* out, int depth) {
    // Each element takes at least one byte: a count beyond the bytes left is corrupt.
    if (count > static_cast<uint64_t>(end_ - p_)) return Outcome::Bad;
    *out = json::array();
    auto& elements = out->get_ref<json::array_t&>();
    elements.resize(count);
    for (json& element : elements) {
      Outcome outcome = value(&element, depth + 1);
      if (outcome != Outcome::Ok) return outcome;
    }
    return Outcome::Ok;
  }
  Outcome map(uint64_t count, json* out, int depth) {
    if (count > static_cast<uint64_t>(end_ - p_) / 2) return Outcome::Bad;
    *out = json::object();
    auto& members = out->get_ref<json::object_t&>();
    for (uint64_t i = 0; i < count; ++i) {
      // Keys must be strings (as nlohmann requires); a repeated key keeps the last value.
      // Read straight into the member's key: no json wrapper allocated and freed per key.
      if (depth + 1 > kMaxDepth) return Outcome::TooDeep;
      std::string_view name;
      if (!key(&name)) return Outcome::Bad;
      // nlohmann writes keys in order: appending at the end then costs no search.
      json& slot = members.empty() || members.rbegin()->first < name
                       ? members.emplace_hint(members.end(), name, json())->second
                       : members[std::string(name)];
      Outcome outcome = value(&slot, depth + 1);
      if (outcome != Outcome::Ok) return outcome;
    }
    return Outcome::Ok;
  }
  // A map key: a MessagePack string (any other type is corrupt), pointing into the input.
  bool key(std::string_view* name) {
    uint8_t tag;
    if (!byte(&tag)) return false;
    uint64_t size;
    if (tag >= 0xa0 && tag <= 0xbf) {
      size = tag & 0x1f;
    } else if (tag >= 0xd9 && tag <= 0xdb) {
      if (!uint(size_t{1} << (tag - 0xd9), &size)) return false;
    } else {
      return false;
    }
    const uint8_t* data;
    if (!take(size, &data)) return false;
    *name = std::string_view(reinterpret_cast<const char*>(data), size);
    return true;
  }
};

}  // namespace

bool decode(std::string_view bytes, json* out) {
  Reader reader(bytes);
  switch (reader.value(out, 0)) {
    case Outcome::Ok:
      return reader.at_end();
    case Outcome::Bad:
      return false;
    case Outcome::TooDeep:
      break;
  }
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  json parsed = json::from_msgpack(data, data + bytes.size(), /*strict=*/true,
                                   /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return false;
  *out = std::move(parsed);
  return true;
}

}  // namespace wasm_sandbox::store::msgpack
