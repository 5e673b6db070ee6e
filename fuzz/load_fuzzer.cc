// libFuzzer entry point for the load path: bytes -> Engine::load (decode, validate, generate
// C, compile) -> instantiate with stub imports -> call the exports, under fuel.
//
// Contract under test: whatever the bytes, every stage returns a value or an Error. A crash,
// a sanitizer report, a leak or a hang is a finding; an Error at any stage is not.
//
// Built two ways (fuzz/CMakeLists.txt): linked with libFuzzer (-fsanitize=fuzzer) as
// load_fuzzer, and linked with run_corpus.cc as the fuzz_corpus regression test.
//
// Every guest call is bounded by fuel (the start function included) and, as a safety net, a
// timeout; memories by a cap that keeps the fuzzer within its RSS limit. Each export that
// takes only numeric parameters is called with zeros, on a fresh fuel budget.
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "fuzz/stub_imports.h"
#include "wasm_sandbox/engine.h"

namespace wasm_sandbox::fuzz {
namespace {

bool all_numeric(const std::vector<ValType>& types) {
  for (ValType t : types) {
    if (t == ValType::FuncRef || t == ValType::ExternRef) return false;
  }
  return true;
}

// Reads every export back through the handle API (exercises the export getters).
void touch_exports(const Instance& instance) {
  for (const ExportDesc& desc : instance.exports()) {
    auto value = instance.get_export(desc.name);
    if (!value) continue;
    if (auto* g = std::get_if<Global>(&*value)) {
      (void)g->get();
    } else if (auto* m = std::get_if<Memory>(&*value)) {
      (void)m->size();
    } else if (auto* t = std::get_if<Table>(&*value)) {
      if (t->size() > 0) (void)t->get(t->size() - 1);
    }
  }
}

// Instructions a call may execute: a fraction of a second of guest time.
constexpr uint64_t kFuel = uint64_t{1} << 24;

// Calls, with zero arguments, each exported function that takes only numeric parameters.
// Traps, fuel and timeouts included, are expected outcomes.
void call_exports(const Instance& instance) {
  for (const ExportDesc& desc : instance.exports()) {
    if (desc.type.kind != ExternKind::Func || !all_numeric(desc.type.func.params)) continue;
    std::vector<Value> args;
    for (ValType t : desc.type.func.params) args.push_back(Value::zero(t));
    (void)instance.set_fuel(kFuel);
    (void)instance.call(desc.name, args);
  }
}

const Engine& engine() {
  static const Engine kEngine = [] {  // one per process, as a host would have
    EngineConfig config;
    config.fuel = true;
    config.limits.fuel = kFuel;
    config.limits.call_timeout = std::chrono::seconds(2);
    config.limits.memory_bytes = 64u << 20;
    config.limits.total_memory_bytes = 256u << 20;
    return Engine(config);
  }();
  return kEngine;
}

}  // namespace
}  // namespace wasm_sandbox::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wasm_sandbox;
  const std::span<const uint8_t> wasm(data, size);
  auto module = fuzz::engine().load(wasm, "fuzz.wasm");
  if (!module) return 0;
  auto instance = module->instantiate(fuzz::stub_imports(*module));
  if (!instance) return 0;
  fuzz::touch_exports(*instance);
  fuzz::call_exports(*instance);
  return 0;
}
