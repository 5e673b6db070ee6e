// `wasm-sandbox call [--fuel N] [--timeout MS] [--memory-limit SIZE] MODULE FUNC [ARGS...]`
#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "cli/commands.h"
#include "wasm_sandbox/engine.h"

namespace wasm_sandbox::cli {
namespace {

// Integers in decimal; floats with enough digits to round-trip.
std::string format_result(const Value& v) {
  char buf[64];
  switch (v.type()) {
    case ValType::I32:
      return std::to_string(v.i32());
    case ValType::I64:
      return std::to_string(v.i64());
    case ValType::F32:
      if (std::isnan(v.f32())) return std::signbit(v.f32()) ? "-nan" : "nan";
      std::snprintf(buf, sizeof buf, "%.9g", v.f32());
      return buf;
    case ValType::F64:
      if (std::isnan(v.f64())) return std::signbit(v.f64()) ? "-nan" : "nan";
      std::snprintf(buf, sizeof buf, "%.17g", v.f64());
      return buf;
    case ValType::FuncRef:
    case ValType::ExternRef:
      return v.is_null_ref() ? "null" : "ref";
  }
  return "?";
}

int exit_code_for(const Error& error) {
  switch (error.kind()) {
    case ErrorKind::Trap:
    case ErrorKind::LimitExceeded:
      return kExitFailure;
    default:
      return kExitUsage;
  }
}

}  // namespace

int run_call(const CallOptions& options) {
  auto config = engine_config(options.safety);
  if (!config) {
    print_error(config.error());
    return kExitUsage;
  }
  Engine engine(*config);
  auto module = engine.load_file(options.module);
  if (!module) {
    print_error(module.error());
    return exit_code_for(module.error()) == kExitFailure ? kExitFailure : kExitUsage;
  }
  if (!module->stats().cache_error.empty()) {
    print_error("note: no artifact cache: " + module->stats().cache_error);
  }
  auto instance = module->instantiate();
  if (!instance) {
    print_error(instance.error());
    return exit_code_for(instance.error());
  }
  auto func = instance->func(options.function);
  if (!func) {
    print_error(func.error().message());
    return kExitUsage;
  }
  const FuncType& type = func->type();
  if (options.args.size() != type.params.size()) {
    print_error(options.module + ": `" + options.function + "` takes " +
                std::to_string(type.params.size()) + " argument" +
                (type.params.size() == 1 ? "" : "s") + " " + type.to_string() + ", got " +
                std::to_string(options.args.size()));
    return kExitUsage;
  }
  std::vector<Value> args;
  for (size_t i = 0; i < options.args.size(); ++i) {
    auto value = Value::parse(type.params[i], options.args[i]);
    if (!value) {
      print_error(options.module + ": `" + options.function + "` argument " +
                  std::to_string(i + 1) + " (`" + options.args[i] + "`) is not a valid " +
                  to_string(type.params[i]));
      return kExitUsage;
    }
    args.push_back(*value);
  }
  auto results = func->call(args);
  if (!results) {
    print_error(results.error());
    note_memory_limit(*instance, options.safety);
    return exit_code_for(results.error());
  }
  for (const Value& v : *results) std::printf("%s\n", format_result(v).c_str());
  return kExitOk;
}

}  // namespace wasm_sandbox::cli
