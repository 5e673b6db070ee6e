// Builds WebAssembly binaries byte by byte, for hostile modules too large or too malformed to
// write as text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wasm_sandbox::testing {

using Bytes = std::vector<uint8_t>;

inline void put_leb(Bytes& out, uint64_t value) {
  do {
    uint8_t byte = value & 0x7f;
    value >>= 7;
    out.push_back(value ? byte | 0x80 : byte);
  } while (value);
}

inline void put_sleb(Bytes& out, int64_t value) {
  for (;;) {
    const uint8_t byte = value & 0x7f;
    value >>= 6;
    if (value == 0 || value == -1) {
      out.push_back(byte);
      return;
    }
    value >>= 1;
    out.push_back(byte | 0x80);
  }
}

inline void append(Bytes& out, const Bytes& more) {
  out.insert(out.end(), more.begin(), more.end());
}

inline Bytes repeat(const Bytes& unit, size_t times) {
  Bytes out;
  out.reserve(unit.size() * times);
  for (size_t i = 0; i < times; ++i) append(out, unit);
  return out;
}

// Value type and opcode bytes used by the hostile tests.
inline constexpr uint8_t kI32 = 0x7f;
inline constexpr uint8_t kFuncRef = 0x70;
namespace op {
inline constexpr uint8_t kBlock = 0x02, kLoop = 0x03, kIf = 0x04, kEnd = 0x0b, kBr = 0x0c,
                         kBrTable = 0x0e, kCall = 0x10, kDrop = 0x1a, kLocalGet = 0x20,
                         kI32Const = 0x41, kI32Add = 0x6a, kI32Store8 = 0x3a, kI32Load8U = 0x2d,
                         kMemoryGrow = 0x40, kVoid = 0x40;
}

// One module: functions all share the type () -> (i32) unless `params` says otherwise.
class ModuleBuilder {
 public:
  // Functions of type (i32 x params) -> (i32).
  explicit ModuleBuilder(uint32_t params = 0) : params_(params) {}

  // A function with `locals` extra i32 locals and `body` (without the final `end`).
  ModuleBuilder& func(const Bytes& body, uint64_t locals = 0, std::string export_name = "") {
    funcs_.push_back({body, locals});
    if (!export_name.empty()) exports_.push_back({export_name, funcs_.size() - 1});
    return *this;
  }
  ModuleBuilder& memory(uint32_t min, std::optional<uint32_t> max = std::nullopt) {
    memory_ = {min, max};
    return *this;
  }
  ModuleBuilder& table(uint32_t min, std::optional<uint32_t> max = std::nullopt) {
    table_ = {min, max};
    return *this;
  }
  ModuleBuilder& data(uint32_t offset, Bytes bytes) {
    data_.push_back({offset, std::move(bytes)});
    return *this;
  }

  Bytes bytes() const {
    Bytes out = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    Bytes type = {0x01, 0x60};
    put_leb(type, params_);
    for (uint32_t i = 0; i < params_; ++i) type.push_back(kI32);
    type.insert(type.end(), {0x01, kI32});
    section(out, 1, type);
    Bytes functions;
    put_leb(functions, funcs_.size());
    for (size_t i = 0; i < funcs_.size(); ++i) functions.push_back(0);
    section(out, 3, functions);
    if (table_) section(out, 4, with_count(limits(kFuncRef, table_->first, table_->second)));
    if (memory_) section(out, 5, with_count(limits(0, memory_->first, memory_->second)));
    Bytes exports;
    put_leb(exports, exports_.size());
    for (const auto& [name, index] : exports_) {
      put_leb(exports, name.size());
      exports.insert(exports.end(), name.begin(), name.end());
      exports.push_back(0);
      put_leb(exports, index);
    }
    section(out, 7, exports);
    Bytes code;
    put_leb(code, funcs_.size());
    for (const auto& [body, locals] : funcs_) {
      Bytes entry;
      if (locals) {
        put_leb(entry, 1);
        put_leb(entry, locals);
        entry.push_back(kI32);
      } else {
        put_leb(entry, 0);
      }
      append(entry, body);
      entry.push_back(op::kEnd);
      put_leb(code, entry.size());
      append(code, entry);
    }
    section(out, 10, code);
    if (!data_.empty()) {
      Bytes data;
      put_leb(data, data_.size());
      for (const auto& [offset, bytes] : data_) {
        data.push_back(0);
        data.push_back(op::kI32Const);
        put_sleb(data, static_cast<int32_t>(offset));
        data.push_back(op::kEnd);
        put_leb(data, bytes.size());
        append(data, bytes);
      }
      section(out, 11, data);
    }
    return out;
  }

 private:
  static void section(Bytes& out, uint8_t id, const Bytes& content) {
    out.push_back(id);
    put_leb(out, content.size());
    append(out, content);
  }
  static Bytes with_count(const Bytes& one) {
    Bytes out = {0x01};
    append(out, one);
    return out;
  }
  // Table (element type first) or memory limits.
  static Bytes limits(uint8_t element, uint32_t min, std::optional<uint32_t> max) {
    Bytes out;
    if (element) out.push_back(element);
    out.push_back(max ? 0x01 : 0x00);
    put_leb(out, min);
    if (max) put_leb(out, *max);
    return out;
  }

  uint32_t params_;
  std::vector<std::pair<Bytes, uint64_t>> funcs_;
  std::vector<std::pair<std::string, size_t>> exports_;
  std::optional<std::pair<uint32_t, std::optional<uint32_t>>> memory_, table_;
  std::vector<std::pair<uint32_t, Bytes>> data_;
};

}  // namespace wasm_sandbox::testing
