// Index keys (index_key.h).
#include "store/index_key.h"

#include <cmath>
#include <cstdint>
#include <cstring>

#include "store/value_order.h"

namespace wasm_sandbox::store::index_key {
namespace {

using json = nlohmann::json;

// Tags in type order; a type's keys all start with its tag.
constexpr char kTypeTag[] = {'\x01', '\x02', '\x03', '\x04', '\x05', '\x06', '\x07', '\x08'};

std::string number(double d) {
  std::string key(9, '\0');
  key[0] = kTypeTag[2];
  if (std::isnan(d)) return key;
  if (d == 0) d = 0;  // -0 == 0
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  bits = (bits >> 63) ? ~bits : bits | (uint64_t{1} << 63);
  for (int i = 0; i < 8; ++i) key[1 + i] = static_cast<char>(bits >> (56 - 8 * i));
  return key;
}

}  // namespace

std::string encode(const json* value, size_t max_size) {
  if (value == nullptr) return std::string(1, '\0');
  const int rank = value_order::rank(*value);
  switch (rank) {
    case 1:
      return std::string{kTypeTag[1], value->get<bool>() ? '\1' : '\0'};
    case 2:
      return number(value->get<double>());
    case 3: {
      const std::string& s = value->get_ref<const std::string&>();
      std::string key(1, kTypeTag[3]);
      key.append(s, 0, std::min(s.size(), max_size - 1));
      return key;
    }
    default:
      return std::string(1, kTypeTag[rank]);
  }
}

bool Range::empty() const { return lo > hi && !lo.starts_with(hi); }

bool Range::contains(std::string_view key) const {
  return key >= lo && (key <= hi || key.starts_with(hi));
}

void Range::intersect(const Range& other) {
  lo = std::max(lo, other.lo);
  // The smaller upper bound: the longer of two where one is a prefix of the other, else the
  // bytewise smaller (every key starting with it is below the other).
  if (hi.starts_with(other.hi)) return;
  if (other.hi.starts_with(hi) || other.hi < hi) hi = other.hi;
}

bool range_for(const Condition& condition, size_t max_size, Range* range) {
  const json& v = condition.value;
  const std::string type(1, kTypeTag[value_order::rank(v)]);
  switch (condition.op) {
    case Op::Eq:
      range->lo = range->hi = encode(&v, max_size);
      return true;
    case Op::Lt:
    case Op::Le:
      range->lo = type;
      range->hi = encode(&v, max_size);
      return true;
    case Op::Gt:
    case Op::Ge:
      range->lo = encode(&v, max_size);
      range->hi = type;
      return true;
    case Op::Prefix:
      if (!v.is_string()) return false;
      range->lo = range->hi = encode(&v, max_size);
      return true;
    case Op::NotExists:
      range->lo = range->hi = std::string(1, '\0');
      return true;
    case Op::Ne:
    case Op::Exists:
    case Op::Contains:
      break;
  }
  return false;
}

}  // namespace wasm_sandbox::store::index_key
