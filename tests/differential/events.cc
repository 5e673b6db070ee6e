// Formatting of event lines; see events.h for the format.
#include "events.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>

namespace wasm_sandbox::difftest {

std::string value_text(const Value& value) {
  char buf[40];
  switch (value.type()) {
    case ValType::I32:
      return "i32 " + std::to_string(value.i32());
    case ValType::I64:
      return "i64 " + std::to_string(value.i64());
    case ValType::F32:
      if (std::isnan(value.f32())) return "f32 nan";
      std::snprintf(buf, sizeof buf, "f32 0x%08" PRIx64, value.raw_bits());
      return buf;
    case ValType::F64:
      if (std::isnan(value.f64())) return "f64 nan";
      std::snprintf(buf, sizeof buf, "f64 0x%016" PRIx64, value.raw_bits());
      return buf;
    case ValType::FuncRef:
      return value.is_null_ref() ? "funcref null" : "funcref func";
    case ValType::ExternRef:
      return value.is_null_ref() ? "externref null" : "externref value";
  }
  return "unknown";
}

std::string trap_category(TrapKind trap) {
  switch (trap) {
    case TrapKind::Unreachable:
      return "unreachable";
    case TrapKind::DivideByZero:
      return "divide-by-zero";
    case TrapKind::IntegerOverflow:
    case TrapKind::InvalidConversion:
      return "overflow";
    case TrapKind::OutOfBounds:
    case TrapKind::IndirectCall:
      return "bad-access";
    case TrapKind::StackExhausted:
      return "stack-exhausted";
    default:
      return std::string("other ") + to_string(trap);
  }
}

}  // namespace wasm_sandbox::difftest
