// The order of JSON values (store_query.h: compare_values): by type, then within the type.
//
// Numbers are compared exactly across nlohmann's three representations (int64, uint64,
// double): converting an int64 above 2^53 to double would make 2^53 == 2^53 + 1 as doubles
// while the integers differ, and the order would not be transitive (sorting with it is
// undefined behaviour).
#include "store/value_order.h"

#include <cmath>

#include "wasm_sandbox/store_query.h"

namespace wasm_sandbox::store {
namespace {

using json = nlohmann::json;

template <class T>
int three_way(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// A signed magnitude: how an int64, a uint64 or a truncated double all fit, exactly.
struct Magnitude {
  bool negative;
  uint64_t value;
};

int compare(Magnitude a, Magnitude b) {
  if (a.negative != b.negative) return a.negative ? -1 : 1;
  const int c = three_way(a.value, b.value);
  return a.negative ? -c : c;
}

Magnitude integer(const json& i) {
  if (i.is_number_unsigned()) return {false, i.get<uint64_t>()};
  const int64_t v = i.get<int64_t>();
  return v < 0 ? Magnitude{true, 0 - static_cast<uint64_t>(v)}
               : Magnitude{false, static_cast<uint64_t>(v)};
}

// An integer against a double, exactly. NaN is below every number.
int compare_int_double(Magnitude i, double d) {
  if (std::isnan(d)) return 1;
  if (d < -9223372036854775808.0) return 1;    // below every int64
  if (d >= 18446744073709551616.0) return -1;  // above every uint64
  const double t = std::trunc(d);
  const Magnitude whole = t < 0 ? Magnitude{true, static_cast<uint64_t>(-t)}
                                : Magnitude{false, static_cast<uint64_t>(t)};
  if (int c = compare(i, whole)) return c;
  return d > t ? -1 : (d < t ? 1 : 0);
}

int compare_numbers(const json& a, const json& b) {
  const bool af = a.is_number_float(), bf = b.is_number_float();
  if (af && bf) {
    double x = a.get<double>(), y = b.get<double>();
    if (std::isnan(x) || std::isnan(y)) return three_way(!std::isnan(x), !std::isnan(y));
    return three_way(x, y);
  }
  if (!af && !bf) {
    return compare(integer(a), integer(b));
  }
  const json& i = af ? b : a;
  const double d = af ? a.get<double>() : b.get<double>();
  const int r = compare_int_double(integer(i), d);
  return af ? -r : r;
}

}  // namespace

namespace value_order {

int rank(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return 0;
    case json::value_t::boolean:
      return 1;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return 2;
    case json::value_t::string:
      return 3;
    case json::value_t::array:
      return 4;
    case json::value_t::object:
      return 5;
    case json::value_t::binary:
      return 6;
    case json::value_t::discarded:
      break;
  }
  return 7;
}

}  // namespace value_order

int compare_values(const json& a, const json& b) {
  const int ra = value_order::rank(a), rb = value_order::rank(b);
  if (ra != rb) return three_way(ra, rb);
  switch (ra) {
    case 1:
      return three_way(a.get<bool>(), b.get<bool>());
    case 2:
      return compare_numbers(a, b);
    case 3:
      return three_way(a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>()), 0);
    case 4: {
      const auto& x = a.get_ref<const json::array_t&>();
      const auto& y = b.get_ref<const json::array_t&>();
      for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
        if (int c = compare_values(x[i], y[i])) return c;
      }
      return three_way(x.size(), y.size());
    }
    case 5: {
      const auto& x = a.get_ref<const json::object_t&>();
      const auto& y = b.get_ref<const json::object_t&>();
      auto i = x.begin();
      auto j = y.begin();
      for (; i != x.end() && j != y.end(); ++i, ++j) {
        if (int c = i->first.compare(j->first)) return c < 0 ? -1 : 1;
        if (int c = compare_values(i->second, j->second)) return c;
      }
      return three_way(x.size(), y.size());
    }
    case 6: {
      const auto& x = a.get_binary();
      const auto& y = b.get_binary();
      if (int c = three_way<std::vector<uint8_t>>(x, y)) return c;
      return three_way(x.has_subtype() ? int(x.subtype()) : -1,
                       y.has_subtype() ? int(y.subtype()) : -1);
    }
    default:
      return 0;
  }
}

const char* to_string(Op op) {
  switch (op) {
    case Op::Eq:
      return "=";
    case Op::Ne:
      return "!=";
    case Op::Lt:
      return "<";
    case Op::Le:
      return "<=";
    case Op::Gt:
      return ">";
    case Op::Ge:
      return ">=";
    case Op::Exists:
      return "exists";
    case Op::NotExists:
      return "not exists";
    case Op::Contains:
      return "contains";
    case Op::Prefix:
      return "prefix";
  }
  return "?";
}

namespace value_order {

bool matches(const Condition& condition, const json* value) {
  if (condition.op == Op::NotExists) return value == nullptr;
  if (value == nullptr) return false;
  const json& v = *value;
  const json& operand = condition.value;
  switch (condition.op) {
    case Op::Exists:
      return true;
    case Op::Eq:
      return compare_values(v, operand) == 0;
    case Op::Ne:
      return compare_values(v, operand) != 0;
    case Op::Lt:
      return rank(v) == rank(operand) && compare_values(v, operand) < 0;
    case Op::Le:
      return rank(v) == rank(operand) && compare_values(v, operand) <= 0;
    case Op::Gt:
      return rank(v) == rank(operand) && compare_values(v, operand) > 0;
    case Op::Ge:
      return rank(v) == rank(operand) && compare_values(v, operand) >= 0;
    case Op::Contains:
      if (v.is_array()) {
        for (const json& element : v) {
          if (compare_values(element, operand) == 0) return true;
        }
        return false;
      }
      return v.is_string() && operand.is_string() &&
             v.get_ref<const std::string&>().find(operand.get_ref<const std::string&>()) !=
                 std::string::npos;
    case Op::Prefix:
      return v.is_string() && operand.is_string() &&
             v.get_ref<const std::string&>().starts_with(operand.get_ref<const std::string&>());
    case Op::NotExists:
      break;
  }
  return false;
}

}  // namespace value_order
}  // namespace wasm_sandbox::store
