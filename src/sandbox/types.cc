// Names and text forms of errors, types and values.
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "wasm_sandbox/result.h"
#include "wasm_sandbox/value.h"

namespace wasm_sandbox {

const char* to_string(ErrorKind kind) {
  switch (kind) {
#define WASM_SANDBOX_X(name, text) \
  case ErrorKind::name:            \
    return text;
    WASM_SANDBOX_ERROR_KINDS(WASM_SANDBOX_X)
#undef WASM_SANDBOX_X
  }
  return "unknown error";
}

const char* to_string(TrapKind kind) {
  switch (kind) {
#define WASM_SANDBOX_X(name, text) \
  case TrapKind::name:             \
    return text;
    WASM_SANDBOX_TRAP_KINDS(WASM_SANDBOX_X)
#undef WASM_SANDBOX_X
  }
  return "unknown trap";
}

const char* to_string(ValType type) {
  switch (type) {
    case ValType::I32:
      return "i32";
    case ValType::I64:
      return "i64";
    case ValType::F32:
      return "f32";
    case ValType::F64:
      return "f64";
    case ValType::FuncRef:
      return "funcref";
    case ValType::ExternRef:
      return "externref";
  }
  return "?";
}

const char* to_string(ExternKind kind) {
  switch (kind) {
    case ExternKind::Func:
      return "func";
    case ExternKind::Table:
      return "table";
    case ExternKind::Memory:
      return "memory";
    case ExternKind::Global:
      return "global";
  }
  return "?";
}

namespace {

std::string format_float(double value, int digits) {
  if (std::isnan(value)) return std::signbit(value) ? "-nan" : "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, value);
  return buf;
}

std::string type_list(const std::vector<ValType>& types) {
  std::string out = "(";
  for (size_t i = 0; i < types.size(); ++i) {
    if (i) out += ", ";
    out += to_string(types[i]);
  }
  return out + ")";
}

std::string limits(uint64_t min, const std::optional<uint32_t>& max) {
  return std::to_string(min) + ".." + (max ? std::to_string(*max) : "");
}

}  // namespace

std::string Value::to_string() const {
  std::string prefix = std::string(wasm_sandbox::to_string(type_)) + ":";
  switch (type_) {
    case ValType::I32:
      return prefix + std::to_string(i32());
    case ValType::I64:
      return prefix + std::to_string(i64());
    case ValType::F32:
      return prefix + format_float(f32(), 9);
    case ValType::F64:
      return prefix + format_float(f64(), 17);
    case ValType::FuncRef:
      return prefix + (ref_.is_null() ? "null" : "func");
    case ValType::ExternRef: {
      if (!ref_.context) return prefix + "null";
      char buf[32];
      std::snprintf(buf, sizeof buf, "%p", ref_.context);
      return prefix + buf;
    }
  }
  return prefix;
}

std::optional<Value> Value::parse(ValType type, std::string_view text) {
  const std::string s(text);
  if (s.empty()) return std::nullopt;
  const char* begin = s.c_str();
  char* end = nullptr;
  errno = 0;
  switch (type) {
    case ValType::I32:
    case ValType::I64: {
      const bool negative = s[0] == '-';
      if (negative) {
        const long long v = std::strtoll(begin, &end, 0);
        if (errno || *end) return std::nullopt;
        if (type == ValType::I32 && v < INT32_MIN) return std::nullopt;
        return type == ValType::I32 ? Value::i32(static_cast<int32_t>(v)) : Value::i64(v);
      }
      if (s[0] == '+' || std::isspace(static_cast<unsigned char>(s[0]))) return std::nullopt;
      // Unsigned spelling accepts the full range: 4294967295 is i32 -1.
      const unsigned long long v = std::strtoull(begin, &end, 0);
      if (errno || *end) return std::nullopt;
      if (type == ValType::I32) {
        if (v > UINT32_MAX) return std::nullopt;
        return Value::i32(static_cast<int32_t>(static_cast<uint32_t>(v)));
      }
      return Value::i64(static_cast<int64_t>(v));
    }
    case ValType::F32: {
      const float v = std::strtof(begin, &end);
      if (*end || end == begin) return std::nullopt;
      return Value::f32(v);
    }
    case ValType::F64: {
      const double v = std::strtod(begin, &end);
      if (*end || end == begin) return std::nullopt;
      return Value::f64(v);
    }
    case ValType::FuncRef:
    case ValType::ExternRef:
      if (s == "null") return Value::zero(type);
      return std::nullopt;
  }
  return std::nullopt;
}

std::string FuncType::to_string() const { return type_list(params) + " -> " + type_list(results); }

std::string MemoryType::to_string() const { return "pages " + limits(min_pages, max_pages); }

std::string TableType::to_string() const {
  return std::string(wasm_sandbox::to_string(element)) + " " + limits(min, max);
}

std::string GlobalType::to_string() const {
  return std::string(is_mutable ? "mut " : "") + wasm_sandbox::to_string(type);
}

std::string ExternType::to_string() const {
  std::string out = wasm_sandbox::to_string(kind);
  switch (kind) {
    case ExternKind::Func:
      return out + " " + func.to_string();
    case ExternKind::Table:
      return out + " " + table.to_string();
    case ExternKind::Memory:
      return out + " " + memory.to_string();
    case ExternKind::Global:
      return out + " " + global.to_string();
  }
  return out;
}

}  // namespace wasm_sandbox
