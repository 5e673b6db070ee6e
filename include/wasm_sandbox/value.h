// WebAssembly values and types as the host sees them.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wasm_sandbox {

enum class ValType : uint8_t { I32, I64, F32, F64, FuncRef, ExternRef };

// "i32", "i64", "f32", "f64", "funcref", "externref".
const char* to_string(ValType type);

// A reference to a function, as stored in a table: opaque to the host, which may pass it back
// to the guest or test it for null. It stays callable only while the instance that made it lives.
struct FuncRef {
  uint32_t type_id = 0;
  void (*code)() = nullptr;
  void* context = nullptr;
  bool is_null() const { return code == nullptr; }
};

// An externref is any pointer-sized host value; the guest can only pass it around.
using ExternRef = void*;

// One typed value. Cheap to copy; floats keep their exact bits (NaN payloads included).
class Value {
 public:
  Value() : Value(ValType::I32) {}

  static Value i32(int32_t v) { return bits(ValType::I32, static_cast<uint32_t>(v)); }
  static Value i64(int64_t v) { return bits(ValType::I64, static_cast<uint64_t>(v)); }
  static Value f32(float v) {
    uint32_t b;
    std::memcpy(&b, &v, 4);
    return bits(ValType::F32, b);
  }
  static Value f64(double v) {
    uint64_t b;
    std::memcpy(&b, &v, 8);
    return bits(ValType::F64, b);
  }
  static Value funcref(FuncRef ref) {
    Value v(ValType::FuncRef);
    v.ref_ = ref;
    return v;
  }
  static Value externref(ExternRef ref) {
    Value v(ValType::ExternRef);
    v.ref_.context = ref;
    return v;
  }
  // The zero (or null) value of a type.
  static Value zero(ValType type) { return Value(type); }
  // A value of `type` from its raw bits (the low 32 bits for i32/f32).
  static Value bits(ValType type, uint64_t raw) {
    Value v(type);
    v.bits_ = raw;
    return v;
  }

  ValType type() const { return type_; }
  int32_t i32() const { return static_cast<int32_t>(static_cast<uint32_t>(bits_)); }
  int64_t i64() const { return static_cast<int64_t>(bits_); }
  float f32() const {
    float f;
    uint32_t b = static_cast<uint32_t>(bits_);
    std::memcpy(&f, &b, 4);
    return f;
  }
  double f64() const {
    double d;
    std::memcpy(&d, &bits_, 8);
    return d;
  }
  // The raw bits of a numeric value (i32/f32 zero-extended).
  uint64_t raw_bits() const { return bits_; }
  FuncRef funcref() const { return ref_; }
  ExternRef externref() const { return ref_.context; }
  bool is_null_ref() const {
    return type_ == ValType::FuncRef ? ref_.is_null() : ref_.context == nullptr;
  }

  // "i32:5", "f64:1.5", "funcref:null".
  std::string to_string() const;

  // Parses a number for a parameter of `type` as a user would type it on a command line:
  // decimal or 0x-hex integers (negative allowed), floats in C syntax, "nan", "inf".
  static std::optional<Value> parse(ValType type, std::string_view text);

 private:
  explicit Value(ValType type) : type_(type) {}

  ValType type_;
  uint64_t bits_ = 0;
  FuncRef ref_{};
};

struct FuncType {
  std::vector<ValType> params;
  std::vector<ValType> results;

  // "(i32, i32) -> (i32)".
  std::string to_string() const;
  bool operator==(const FuncType&) const = default;
};

enum class ExternKind : uint8_t { Func, Table, Memory, Global };
const char* to_string(ExternKind kind);

struct MemoryType {
  uint32_t min_pages = 0;
  std::optional<uint32_t> max_pages;
  std::string to_string() const;  // "pages 1..2", "pages 1.."
  bool operator==(const MemoryType&) const = default;
};

struct TableType {
  ValType element = ValType::FuncRef;
  uint32_t min = 0;
  std::optional<uint32_t> max;
  std::string to_string() const;  // "funcref 10..20"
  bool operator==(const TableType&) const = default;
};

struct GlobalType {
  ValType type = ValType::I32;
  bool is_mutable = false;
  std::string to_string() const;  // "mut i32", "i64"
  bool operator==(const GlobalType&) const = default;
};

// What one import or export of a module is, with its type.
struct ExternType {
  ExternKind kind = ExternKind::Func;
  FuncType func;                  // kind == Func
  TableType table;                // kind == Table
  MemoryType memory;              // kind == Memory
  GlobalType global;              // kind == Global
  std::string to_string() const;  // "func (i32) -> (i32)", "memory pages 1..2"
};

struct ImportDesc {
  std::string module;
  std::string name;
  ExternType type;
};

struct ExportDesc {
  std::string name;
  ExternType type;
};

}  // namespace wasm_sandbox
