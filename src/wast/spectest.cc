#include "wast/spectest.h"

namespace wasm_sandbox::wast {
namespace {

Func print_of(std::vector<ValType> params) {
  return Func::host(FuncType{std::move(params), {}},
                    [](Caller&, std::span<const Value>, std::span<Value>) -> Status { return {}; });
}

}  // namespace

Status add_spectest(Imports& imports) {
  using enum ValType;
  imports.add("spectest", "print", print_of({}));
  imports.add("spectest", "print_i32", print_of({I32}));
  imports.add("spectest", "print_i64", print_of({I64}));
  imports.add("spectest", "print_f32", print_of({F32}));
  imports.add("spectest", "print_f64", print_of({F64}));
  imports.add("spectest", "print_i32_f32", print_of({I32, F32}));
  imports.add("spectest", "print_f64_f64", print_of({F64, F64}));
  struct GlobalSpec {
    const char* name;
    Value value;
  };
  for (const GlobalSpec& g :
       {GlobalSpec{"global_i32", Value::i32(666)}, GlobalSpec{"global_i64", Value::i64(666)},
        GlobalSpec{"global_f32", Value::f32(666.6f)},
        GlobalSpec{"global_f64", Value::f64(666.6)}}) {
    auto global = Global::create(GlobalType{g.value.type(), false}, g.value);
    if (!global) return global.error();
    imports.add("spectest", g.name, *global);
  }
  auto table = Table::create(TableType{FuncRef, 10, 20});
  if (!table) return table.error();
  imports.add("spectest", "table", *table);
  auto memory = Memory::create(MemoryType{1, 2});
  if (!memory) return memory.error();
  imports.add("spectest", "memory", *memory);
  return {};
}

}  // namespace wasm_sandbox::wast
