// Wasm values to and from JSON (json_values.h), with nlohmann::json.
#include "serve/json_values.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

namespace wasm_sandbox::serve {
namespace {

using nlohmann::json;

constexpr int64_t kExactInJson = int64_t{1} << 53;

// An integer in [-2^63, 2^64), as its 64-bit two's complement: a JSON integer or a string of
// one. Unsigned values above 2^63-1 wrap, as wasm's i64 does.
std::optional<int64_t> integer_of(const json& arg) {
  if (arg.is_number_unsigned()) return static_cast<int64_t>(arg.get<uint64_t>());
  if (arg.is_number_integer()) return arg.get<int64_t>();
  if (arg.is_string()) {
    const std::string& s = arg.get_ref<const std::string&>();
    int64_t value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) return value;
    uint64_t u = 0;
    auto [uend, uec] = std::from_chars(s.data(), s.data() + s.size(), u);
    if (uec == std::errc() && uend == s.data() + s.size() && !s.empty()) {
      return static_cast<int64_t>(u);
    }
  }
  return std::nullopt;
}

std::optional<double> float_of(const json& arg) {
  if (arg.is_number()) return arg.get<double>();
  if (arg.is_string()) {
    const std::string& s = arg.get_ref<const std::string&>();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
  }
  return std::nullopt;
}

std::optional<Value> value_of(const json& arg, ValType type) {
  switch (type) {
    case ValType::I32: {
      if (!arg.is_number_integer()) return std::nullopt;
      if (arg.is_number_unsigned() && arg.get<uint64_t>() > UINT32_MAX) return std::nullopt;
      const auto v = integer_of(arg);
      if (!v || *v < INT32_MIN || *v > static_cast<int64_t>(UINT32_MAX)) return std::nullopt;
      return Value::i32(static_cast<int32_t>(static_cast<uint32_t>(*v)));
    }
    case ValType::I64: {
      const auto v = integer_of(arg);
      if (!v) return std::nullopt;
      return Value::i64(*v);
    }
    case ValType::F32: {
      const auto v = float_of(arg);
      if (!v) return std::nullopt;
      return Value::f32(static_cast<float>(*v));
    }
    case ValType::F64: {
      const auto v = float_of(arg);
      if (!v) return std::nullopt;
      return Value::f64(*v);
    }
    case ValType::FuncRef:
    case ValType::ExternRef:
      return std::nullopt;
  }
  return std::nullopt;
}

json float_json(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

json result_json(const Value& v) {
  switch (v.type()) {
    case ValType::I32:
      return v.i32();
    case ValType::I64:
      if (v.i64() > kExactInJson || v.i64() < -kExactInJson) return std::to_string(v.i64());
      return v.i64();
    case ValType::F32:
      return float_json(v.f32());
    case ValType::F64:
      return float_json(v.f64());
    case ValType::FuncRef:
    case ValType::ExternRef:
      return nullptr;
  }
  return nullptr;
}

}  // namespace

Result<std::vector<Value>> parse_arguments(std::string_view body, const FuncType& type) {
  json args;
  try {
    args = json::parse(body);
  } catch (const json::parse_error& e) {
    return Error(ErrorKind::InvalidArgument,
                 "the body is not JSON: " + std::string(e.what()).substr(0, 300));
  }
  if (!args.is_array()) {
    return Error(
        ErrorKind::InvalidArgument,
        std::string("the body must be a JSON array of arguments, got a JSON ") + args.type_name());
  }
  if (args.size() != type.params.size()) {
    return Error(ErrorKind::InvalidArgument,
                 "expected " + std::to_string(type.params.size()) + " argument" +
                     (type.params.size() == 1 ? "" : "s") + " " + type.to_string() + ", got " +
                     std::to_string(args.size()));
  }
  std::vector<Value> values;
  values.reserve(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    auto value = value_of(args[i], type.params[i]);
    if (!value) {
      return Error(ErrorKind::InvalidArgument, "argument " + std::to_string(i + 1) + " (" +
                                                   args[i].dump() + ") is not a valid " +
                                                   to_string(type.params[i]));
    }
    values.push_back(*value);
  }
  return values;
}

std::string results_json(std::span<const Value> results) {
  json out = json::array();
  for (const Value& v : results) out.push_back(result_json(v));
  return "{\"results\":" + out.dump() + "}";
}

std::string error_json(std::string_view message, std::string_view kind) {
  json out = {{"error", std::string(message)}, {"kind", std::string(kind)}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace wasm_sandbox::serve
