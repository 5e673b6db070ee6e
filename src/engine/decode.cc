// Stage 1: decoding and validation, plus the interface description of the module.
#include "engine/decode.h"

#include <cstdio>

#include "engine/ir_walk.h"
#include "engine/shape.h"
#include "wabt/binary-reader-ir.h"
#include "wabt/binary-reader.h"
#include "wabt/binary-writer.h"
#include "wabt/cast.h"
#include "wabt/error-formatter.h"
#include "wabt/ir.h"
#include "wabt/stream.h"
#include "wabt/validator.h"
#include "wabt/wast-lexer.h"
#include "wabt/wast-parser.h"

namespace wasm_sandbox::engine {
namespace {

std::string hex(size_t value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%zx", value);
  return buf;
}

// "name: byte 0x1f: unexpected opcode" for binary input, one line per error (first only when
// there are many: the first is the cause).
std::string describe_errors(std::string_view name, const wabt::Errors& errors, bool binary) {
  if (errors.empty()) return std::string(name) + ": invalid module";
  const wabt::Error& e = errors.front();
  std::string where;
  if (binary) {
    if (e.loc.offset != wabt::kInvalidOffset) where = "byte " + hex(e.loc.offset) + ": ";
  } else if (e.loc.line > 0) {
    where = "line " + std::to_string(e.loc.line) + ", column " +
            std::to_string(e.loc.first_column) + ": ";
  }
  std::string message = std::string(name) + ": " + where + e.message;
  if (errors.size() > 1) message += " (and " + std::to_string(errors.size() - 1) + " more)";
  return message;
}

std::optional<ValType> to_val_type(wabt::Type type) {
  switch (type) {
    case wabt::Type::I32:
      return ValType::I32;
    case wabt::Type::I64:
      return ValType::I64;
    case wabt::Type::F32:
      return ValType::F32;
    case wabt::Type::F64:
      return ValType::F64;
    case wabt::Type::FuncRef:
      return ValType::FuncRef;
    case wabt::Type::ExternRef:
      return ValType::ExternRef;
    default:
      return std::nullopt;
  }
}

std::vector<ValType> to_val_types(const wabt::TypeVector& types) {
  std::vector<ValType> out;
  for (wabt::Type t : types) out.push_back(to_val_type(t).value_or(ValType::I32));
  return out;
}

FuncType func_type_of(const wabt::FuncSignature& sig) {
  return FuncType{to_val_types(sig.param_types), to_val_types(sig.result_types)};
}

MemoryType memory_type_of(const wabt::Limits& limits) {
  MemoryType type;
  type.min_pages = static_cast<uint32_t>(limits.initial);
  if (limits.has_max) type.max_pages = static_cast<uint32_t>(limits.max);
  return type;
}

TableType table_type_of(const wabt::Table& table) {
  TableType type;
  type.element = to_val_type(table.elem_type).value_or(ValType::FuncRef);
  type.min = static_cast<uint32_t>(table.elem_limits.initial);
  if (table.elem_limits.has_max) type.max = static_cast<uint32_t>(table.elem_limits.max);
  return type;
}

GlobalType global_type_of(const wabt::Global& global) {
  return GlobalType{to_val_type(global.type).value_or(ValType::I32), global.mutable_};
}

// --- SIMD detection: wasm2c 1.0.32 aborts on any v128, so such modules are refused here.

bool is_simd_opcode(wabt::Opcode opcode) {
  return opcode.GetPrefix() == 0xfd || opcode.GetResultType() == wabt::Type::V128 ||
         opcode.GetParamType1() == wabt::Type::V128 || opcode.GetParamType2() == wabt::Type::V128;
}

bool uses_simd(const wabt::ExprList& exprs);

bool uses_simd(const wabt::Expr& expr) {
  using wabt::ExprType;
  switch (expr.type()) {
    case ExprType::SimdLaneOp:
    case ExprType::SimdLoadLane:
    case ExprType::SimdStoreLane:
    case ExprType::SimdShuffleOp:
    case ExprType::LoadSplat:
    case ExprType::LoadZero:
      return true;
    case ExprType::Const:
      return wabt::cast<wabt::ConstExpr>(&expr)->const_.type() == wabt::Type::V128;
    case ExprType::Binary:
      return is_simd_opcode(wabt::cast<wabt::BinaryExpr>(&expr)->opcode);
    case ExprType::Compare:
      return is_simd_opcode(wabt::cast<wabt::CompareExpr>(&expr)->opcode);
    case ExprType::Convert:
      return is_simd_opcode(wabt::cast<wabt::ConvertExpr>(&expr)->opcode);
    case ExprType::Unary:
      return is_simd_opcode(wabt::cast<wabt::UnaryExpr>(&expr)->opcode);
    case ExprType::Ternary:
      return is_simd_opcode(wabt::cast<wabt::TernaryExpr>(&expr)->opcode);
    case ExprType::Load:
      return is_simd_opcode(wabt::cast<wabt::LoadExpr>(&expr)->opcode);
    case ExprType::Store:
      return is_simd_opcode(wabt::cast<wabt::StoreExpr>(&expr)->opcode);
    case ExprType::Block:
      return uses_simd(wabt::cast<wabt::BlockExpr>(&expr)->block.exprs);
    case ExprType::Loop:
      return uses_simd(wabt::cast<wabt::LoopExpr>(&expr)->block.exprs);
    case ExprType::If: {
      auto* e = wabt::cast<wabt::IfExpr>(&expr);
      return uses_simd(e->true_.exprs) || uses_simd(e->false_);
    }
    default:
      return false;
  }
}

bool uses_simd(const wabt::ExprList& exprs) {
  for (const wabt::Expr& expr : exprs) {
    if (uses_simd(expr)) return true;
  }
  return false;
}

bool has_v128(const wabt::TypeVector& types) {
  for (wabt::Type t : types) {
    if (t == wabt::Type::V128) return true;
  }
  return false;
}

bool uses_simd(const wabt::Module& module) {
  for (const wabt::TypeEntry* entry : module.types) {
    if (auto* f = wabt::dyn_cast<wabt::FuncType>(entry)) {
      if (has_v128(f->sig.param_types) || has_v128(f->sig.result_types)) return true;
    }
  }
  for (const wabt::Global* g : module.globals) {
    if (g->type == wabt::Type::V128 || uses_simd(g->init_expr)) return true;
  }
  for (const wabt::Func* f : module.funcs) {
    if (has_v128(f->decl.sig.param_types) || has_v128(f->decl.sig.result_types)) return true;
    for (wabt::Type t : f->local_types) {
      if (t == wabt::Type::V128) return true;
    }
    if (uses_simd(f->exprs)) return true;
  }
  return false;
}

// WABT 1.0.32 accepts an active segment whose offset is not one constant expression (the
// generated C would not compile); the spec requires exactly one i32.const or global.get.
bool valid_offset(const wabt::ExprList& offset) {
  if (offset.size() != 1) return false;
  const wabt::Expr& e = offset.front();
  if (e.type() == wabt::ExprType::GlobalGet) return true;
  return e.type() == wabt::ExprType::Const &&
         wabt::cast<wabt::ConstExpr>(&e)->const_.type() == wabt::Type::I32;
}

std::optional<std::string> check_segments(const wabt::Module& module) {
  for (size_t i = 0; i < module.data_segments.size(); ++i) {
    const wabt::DataSegment* d = module.data_segments[i];
    if (d->kind == wabt::SegmentKind::Active && !valid_offset(d->offset)) {
      return "data segment " + std::to_string(i) + ": offset is not a constant i32 expression";
    }
  }
  for (size_t i = 0; i < module.elem_segments.size(); ++i) {
    const wabt::ElemSegment* e = module.elem_segments[i];
    if (e->kind == wabt::SegmentKind::Active && !valid_offset(e->offset)) {
      return "element segment " + std::to_string(i) + ": offset is not a constant i32 expression";
    }
  }
  return std::nullopt;
}

// WABT 1.0.32 accepts call_indirect through a table of externref; the spec requires funcref
// (and the generated C would not compile).
std::optional<std::string> check_indirect_calls(wabt::Module& module) {
  std::optional<std::string> problem;
  for (size_t index = module.num_func_imports; index < module.funcs.size() && !problem; ++index) {
    for_each_expr(module.funcs[index]->exprs, [&](wabt::Expr& expr) {
      const wabt::Var* table = nullptr;
      if (expr.type() == wabt::ExprType::CallIndirect) {
        table = &wabt::cast<wabt::CallIndirectExpr>(&expr)->table;
      } else if (expr.type() == wabt::ExprType::ReturnCallIndirect) {
        table = &wabt::cast<wabt::ReturnCallIndirectExpr>(&expr)->table;
      }
      if (table && !problem && module.GetTable(*table)->elem_type != wabt::Type::FuncRef) {
        problem = "function " + std::to_string(index) +
                  ": call_indirect through a table that does not hold funcref";
      }
    });
  }
  return problem;
}

// ModuleInfo::memory_image: the bytes the data segments give every instance's memory are the
// same for all (constant offsets into the one memory the module defines) and fill a page.
bool memory_image_fits(const wabt::Module& module) {
  if (module.memories.size() != 1 || module.num_memory_imports != 0) return false;
  size_t bytes = 0;
  for (const wabt::DataSegment* d : module.data_segments) {
    if (d->kind != wabt::SegmentKind::Active) continue;
    if (d->offset.size() != 1 || d->offset.front().type() != wabt::ExprType::Const) return false;
    bytes += d->data.size();
  }
  return bytes >= kImageMinBytes;
}

ModuleInfo describe(const wabt::Module& module, std::string_view name, size_t size) {
  ModuleInfo info;
  info.name = std::string(name);
  info.wasm_size = size;
  for (const wabt::Import* import : module.imports) {
    ImportDesc desc{import->module_name, import->field_name, {}};
    switch (import->kind()) {
      case wabt::ExternalKind::Func:
        desc.type.kind = ExternKind::Func;
        desc.type.func = func_type_of(wabt::cast<wabt::FuncImport>(import)->func.decl.sig);
        break;
      case wabt::ExternalKind::Table:
        desc.type.kind = ExternKind::Table;
        desc.type.table = table_type_of(wabt::cast<wabt::TableImport>(import)->table);
        break;
      case wabt::ExternalKind::Memory:
        desc.type.kind = ExternKind::Memory;
        desc.type.memory =
            memory_type_of(wabt::cast<wabt::MemoryImport>(import)->memory.page_limits);
        break;
      case wabt::ExternalKind::Global:
        desc.type.kind = ExternKind::Global;
        desc.type.global = global_type_of(wabt::cast<wabt::GlobalImport>(import)->global);
        break;
      case wabt::ExternalKind::Tag:
        break;  // exceptions are not enabled: the reader rejects tags
    }
    info.imports.push_back(std::move(desc));
  }
  for (const wabt::Export* exp : module.exports) {
    ExportDesc desc{exp->name, {}};
    switch (exp->kind) {
      case wabt::ExternalKind::Func:
        desc.type.kind = ExternKind::Func;
        desc.type.func = func_type_of(module.GetFunc(exp->var)->decl.sig);
        break;
      case wabt::ExternalKind::Table:
        desc.type.kind = ExternKind::Table;
        desc.type.table = table_type_of(*module.GetTable(exp->var));
        break;
      case wabt::ExternalKind::Memory:
        desc.type.kind = ExternKind::Memory;
        desc.type.memory = memory_type_of(module.GetMemory(exp->var)->page_limits);
        break;
      case wabt::ExternalKind::Global:
        desc.type.kind = ExternKind::Global;
        desc.type.global = global_type_of(*module.GetGlobal(exp->var));
        break;
      case wabt::ExternalKind::Tag:
        break;
    }
    info.exports.push_back(std::move(desc));
  }
  for (size_t i = module.num_memory_imports; i < module.memories.size(); ++i) {
    info.memories.push_back(memory_type_of(module.memories[i]->page_limits));
  }
  for (size_t i = module.num_table_imports; i < module.tables.size(); ++i) {
    info.tables.push_back(table_type_of(*module.tables[i]));
  }
  info.function_count = module.funcs.size() - module.num_func_imports;
  info.memory_image = memory_image_fits(module);
  return info;
}

}  // namespace

DecodedModule::DecodedModule() = default;
DecodedModule::DecodedModule(DecodedModule&&) noexcept = default;
DecodedModule::~DecodedModule() { release_ir(std::move(ir)); }

bool looks_like_binary(std::span<const uint8_t> bytes) {
  return bytes.size() >= 4 && bytes[0] == 0 && bytes[1] == 'a' && bytes[2] == 's' &&
         bytes[3] == 'm';
}

Result<DecodedModule> decode(std::span<const uint8_t> bytes, std::string_view name,
                             const Limits& limits) {
  if (bytes.size() > limits.module_bytes) {
    return Error(ErrorKind::LimitExceeded,
                 std::string(name) + ": module of " + std::to_string(bytes.size()) +
                     " bytes, more than the limit of " + std::to_string(limits.module_bytes) +
                     " (Limits::module_bytes)");
  }
  wabt::Features features;  // WebAssembly 2.0 defaults: SIMD is read, then refused below.
  wabt::ReadBinaryOptions options(features, nullptr, /*read_debug_names=*/false,
                                  /*stop_on_first_error=*/true,
                                  /*fail_on_custom_section_error=*/true);
  wabt::Errors errors;
  wabt::Error malformed;
  auto well_formed = prescan(bytes, limits, name, &malformed);
  if (!well_formed) return std::move(well_formed).error();
  if (!*well_formed) {
    if (!malformed.message.empty()) errors.push_back(malformed);
    return Error(ErrorKind::InvalidModule, describe_errors(name, errors, true));
  }
  DecodedModule out;
  out.ir = std::make_unique<wabt::Module>();
  if (wabt::Failed(wabt::ReadBinaryIr(std::string(name).c_str(), bytes.data(), bytes.size(),
                                      options, &errors, out.ir.get()))) {
    return Error(ErrorKind::InvalidModule, describe_errors(name, errors, true));
  }
  if (Status s = check_locals(*out.ir, limits, name); !s) return std::move(s).error();
  wabt::ValidateOptions validate_options(features);
  if (wabt::Failed(wabt::ValidateModule(out.ir.get(), &errors, validate_options))) {
    return Error(ErrorKind::InvalidModule, describe_errors(name, errors, true));
  }
  if (auto problem = check_indirect_calls(*out.ir)) {
    return Error(ErrorKind::InvalidModule, std::string(name) + ": " + *problem);
  }
  if (auto problem = check_segments(*out.ir)) {
    return Error(ErrorKind::InvalidModule, std::string(name) + ": " + *problem);
  }
  if (uses_simd(*out.ir)) {
    return Error(ErrorKind::Unsupported,
                 std::string(name) + ": SIMD is not supported (the module uses v128)");
  }
  out.info = describe(*out.ir, name, bytes.size());
  return out;
}

Result<std::vector<uint8_t>> assemble_wat(std::string_view text, std::string_view name) {
  wabt::Errors errors;
  auto lexer = wabt::WastLexer::CreateBufferLexer(name, text.data(), text.size(), &errors);
  wabt::Features features;
  wabt::WastParseOptions parse_options(features);
  std::unique_ptr<wabt::Module> module;
  if (wabt::Failed(wabt::ParseWatModule(lexer.get(), &module, &errors, &parse_options))) {
    return Error(ErrorKind::InvalidModule, describe_errors(name, errors, false));
  }
  wabt::ValidateOptions validate_options(features);
  if (wabt::Failed(wabt::ValidateModule(module.get(), &errors, validate_options))) {
    return Error(ErrorKind::InvalidModule, describe_errors(name, errors, false));
  }
  wabt::MemoryStream stream;
  wabt::WriteBinaryOptions write_options;
  if (wabt::Failed(wabt::WriteBinaryModule(&stream, module.get(), write_options))) {
    return Error(ErrorKind::InvalidModule, std::string(name) + ": cannot encode the module");
  }
  return std::move(stream.output_buffer().data);
}

}  // namespace wasm_sandbox::engine
