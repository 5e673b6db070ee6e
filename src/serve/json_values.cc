// Wasm values to and from JSON (json_values.h), with nlohmann::json.
#include "serve/json_values.h"

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

namespace wasm_sandbox::serve {
namespace {

using nlohmann::json;

constexpr int64_t kExactInJson = int64_t{1} << 53;

// A JSON argument of a wasm number type: a JSON number, or a string spelled as on the command
// line (Value::parse: decimal or 0x-hex integers, "nan", "inf", "-inf"), for i64 values that
// JSON numbers cannot hold exactly and for floats JSON cannot spell. i32 takes numbers only.
std::optional<Value> value_of(const json& arg, ValType type) {
  if (arg.is_string() && type != ValType::I32 && type != ValType::FuncRef &&
      type != ValType::ExternRef) {
    return Value::parse(type, arg.get_ref<const std::string&>());
  }
  switch (type) {
    case ValType::I32:
    case ValType::I64: {
      if (!arg.is_number_integer()) return std::nullopt;
      // Unsigned spellings wrap into the signed range, as wasm's integers do.
      const int64_t v =
          arg.is_number_unsigned() ? static_cast<int64_t>(arg.get<uint64_t>()) : arg.get<int64_t>();
      if (type == ValType::I64) return Value::i64(v);
      if ((arg.is_number_unsigned() && arg.get<uint64_t>() > UINT32_MAX) || v < INT32_MIN ||
          v > static_cast<int64_t>(UINT32_MAX)) {
        return std::nullopt;
      }
      return Value::i32(static_cast<int32_t>(static_cast<uint32_t>(v)));
    }
    case ValType::F32:
      if (!arg.is_number()) return std::nullopt;
      return Value::f32(static_cast<float>(arg.get<double>()));
    case ValType::F64:
      if (!arg.is_number()) return std::nullopt;
      return Value::f64(arg.get<double>());
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
