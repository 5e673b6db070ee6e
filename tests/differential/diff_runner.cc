// wasm-sandbox-difftest [--tier baseline|optimized|auto] MODULE.wasm
//
// Runs a module made by `wasm-opt --translate-to-fuzz` (binaryen 108) on our engine the way
// run_v8.mjs runs it on V8, printing the event lines of events.h on stdout: load, instantiate
// with binaryen's "fuzzing-support" logging imports, then call every exported function in export
// order with zero arguments (null for references), each after resetting the hang limit. Each line
// is flushed as it is written, so a driver that kills a run which hangs still has everything
// printed before the hang.
//
// --tier picks the code the module runs on (EngineConfig::tier; default: the engine's default,
// auto). The disk cache is off in every run: each module runs once, and under auto a cached
// artifact would make a run start optimized depending on what earlier runs left in ~/.cache.
//
// Exit status: 0 whatever the module did (traps and invalid modules are events, not failures);
// 2 on bad usage or an unreadable file.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events.h"
#include "wasm_sandbox/engine.h"

namespace wasm_sandbox::difftest {
namespace {

void emit(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

constexpr char kHangLimitInitializer[] = "hangLimitInitializer";

// How a failed load, instantiation or call reads in the output.
std::string failure_text(const Error& error) {
  if (error.kind() == ErrorKind::Trap) return "trap " + trap_category(error.trap());
  return std::string("error ") + to_string(error.kind());
}

// binaryen 108's logging imports: log-i64 takes a whole i64 (translate-to-fuzz legalizes
// nothing unless asked), log-f32/log-f64 take floats.
Imports fuzzing_support() {
  Imports imports;
  auto log = [](Value v) { emit("log " + value_text(v)); };
  imports.add("fuzzing-support", "log-i32", Func::wrap([log](int32_t v) { log(Value::i32(v)); }));
  imports.add("fuzzing-support", "log-i64", Func::wrap([log](int64_t v) { log(Value::i64(v)); }));
  imports.add("fuzzing-support", "log-f32", Func::wrap([log](float v) { log(Value::f32(v)); }));
  imports.add("fuzzing-support", "log-f64", Func::wrap([log](double v) { log(Value::f64(v)); }));
  return imports;
}

void call_export(const Instance& instance, const ExportDesc& desc) {
  // Every export starts with binaryen's full hang-limit budget, as binaryen's own harnesses
  // do it (execution-results.h and the wasm2c/JS wrappers): otherwise the first few calls use
  // it up and every later function bails out at entry, testing nothing. Not an event.
  if (auto reset = instance.call(kHangLimitInitializer, {});
      !reset && reset.error().kind() != ErrorKind::NotFound) {
    emit("hang limit reset failed: " + failure_text(reset.error()));
  }
  emit("call " + desc.name);
  std::vector<Value> args;
  for (ValType type : desc.type.func.params) args.push_back(Value::zero(type));
  auto results = instance.call(desc.name, args);
  if (!results) {
    std::fprintf(stderr, "%s\n", results.error().message().c_str());
    emit(failure_text(results.error()));
    return;
  }
  std::string line = "return";
  for (const Value& v : *results) line += " " + value_text(v);
  emit(line);
}

std::optional<Tier> parse_tier(std::string_view name) {
  for (Tier tier : {Tier::Baseline, Tier::Optimized, Tier::Auto}) {
    if (name == to_string(tier)) return tier;
  }
  return std::nullopt;
}

int run(const char* path, Tier tier) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "wasm-sandbox-difftest: cannot read %s\n", path);
    return 2;
  }
  const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
  // DIFFTEST_METERED=1: the module runs metered with fuel (more than it can spend), which must
  // change nothing it computes. Interrupt checks are on either way (the engine's default).
  EngineConfig config;
  config.tier = tier;
  config.cache.disk = false;
  if (const char* metered = std::getenv("DIFFTEST_METERED"); metered && *metered == '1') {
    config.fuel = true;
    config.limits.fuel = uint64_t{1} << 62;
  }
  Engine engine(config);
  auto module = engine.load(bytes, path);
  if (!module) {
    std::fprintf(stderr, "%s\n", module.error().message().c_str());
    emit(module.error().kind() == ErrorKind::InvalidModule
             ? "module invalid"
             : "module " + failure_text(module.error()));
    return 0;
  }
  emit("module ok");
  if (tier != Tier::Auto && module->tier() != tier) {
    // A silent fallback would make a run on the optimized tier test the baseline.
    emit(std::string("module on the ") + to_string(module->tier()) + " tier, not " +
         to_string(tier));
    return 0;
  }
  auto instance = module->instantiate(fuzzing_support());
  if (!instance) {
    std::fprintf(stderr, "%s\n", instance.error().message().c_str());
    emit("instantiate " + failure_text(instance.error()));
    return 0;
  }
  emit("instantiate ok");
  for (const ExportDesc& desc : instance->exports()) {
    if (desc.type.kind == ExternKind::Func) call_export(*instance, desc);
  }
  return 0;
}

}  // namespace
}  // namespace wasm_sandbox::difftest

int main(int argc, char** argv) {
  using wasm_sandbox::Tier;
  std::optional<Tier> tier = wasm_sandbox::EngineConfig().tier;
  if (argc == 4 && std::string_view(argv[1]) == "--tier") {
    tier = wasm_sandbox::difftest::parse_tier(argv[2]);
    argv += 2;
    argc -= 2;
  }
  if (argc != 2 || !tier) {
    std::fprintf(stderr,
                 "usage: wasm-sandbox-difftest [--tier baseline|optimized|auto] MODULE.wasm\n");
    return 2;
  }
  return wasm_sandbox::difftest::run(argv[1], *tier);
}
