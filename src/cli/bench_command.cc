// `wasm-sandbox bench cold-start MODULE`: how long a new process takes from nothing to the
// result of its first call, when the module's optimized code is in the artifact cache. Each
// run is a new process (this program, with --child), which measures from before it makes its
// engine to after the call returns: loading the artifact (read, verify, dlopen),
// instantiating and calling. The process's own start (exec, dynamic linking) is not counted.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "wasm_sandbox/engine.h"
#include "wasm_sandbox/wasi.h"

namespace wasm_sandbox::cli {
namespace {

using Clock = std::chrono::steady_clock;

double us_since(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

EngineConfig optimized_config() {
  EngineConfig config;
  config.tier = Tier::Optimized;
  return config;
}

// The function to call first, with zeros for arguments: --function, else _start, else the
// first exported function without parameters, else the first.
std::string first_function(const Module& module, const std::string& requested) {
  if (!requested.empty()) return requested;
  for (const ExportDesc& e : module.exports()) {
    if (e.type.kind == ExternKind::Func && e.name == "_start") return e.name;
  }
  for (const ExportDesc& e : module.exports()) {
    if (e.type.kind == ExternKind::Func && e.type.func.params.empty()) return e.name;
  }
  for (const ExportDesc& e : module.exports()) {
    if (e.type.kind == ExternKind::Func) return e.name;
  }
  return "";
}

// One measurement: prints "load instantiate call" in microseconds.
int measure_once(const BenchOptions& options) {
  const auto start = Clock::now();
  Engine engine(optimized_config());
  auto module = engine.load_file(options.module);
  if (!module) {
    print_error(module.error().message());
    return kExitFailure;
  }
  const double load = us_since(start);
  const auto instantiated = Clock::now();
  Imports imports;
  std::optional<Wasi> wasi;
  for (const ImportDesc& i : module->imports()) {
    if (i.module != "wasi_snapshot_preview1" || wasi) continue;
    WasiConfig config;
    auto created = Wasi::create(config);
    if (!created) {
      print_error(created.error().message());
      return kExitFailure;
    }
    wasi.emplace(std::move(*created));
    wasi->add_to(imports);
  }
  auto instance = module->instantiate(imports);
  if (!instance) {
    print_error(instance.error().message());
    return kExitFailure;
  }
  const double instantiate = us_since(instantiated);
  const std::string function = first_function(*module, options.function);
  if (function.empty()) {
    print_error(options.module + ": no function to call: name one with --function");
    return kExitUsage;
  }
  auto func = instance->func(function);
  if (!func) {
    print_error(func.error().message());
    return kExitUsage;
  }
  std::vector<Value> args;  // zeros of the parameters' types
  for (ValType type : func->type().params) args.push_back(Value::zero(type));
  const auto called = Clock::now();
  auto result = func->call(args);
  const double call = us_since(called);
  if (!result && !(result.error().trap() == TrapKind::Exit && result.error().exit_code() == 0)) {
    print_error(result.error().message());
    return kExitFailure;
  }
  if (module->stats().cache != CacheHit::Disk) {
    print_error(options.module + ": the module was not in the artifact cache");
    return kExitFailure;
  }
  std::printf("%.1f %.1f %.1f\n", load, instantiate, call);
  return kExitOk;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int run_bench(const BenchOptions& options) {
  if (options.child) return measure_once(options);
  // Fill the cache (a compile, the first time).
  {
    Engine engine(optimized_config());
    auto module = engine.load_file(options.module);
    if (!module) {
      print_error(module.error().message());
      return kExitFailure;
    }
  }
  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) {
    print_error("cannot find this program's path: " + ec.message());
    return kExitFailure;
  }
  std::string command = "'" + self + "' bench cold-start --child '" + options.module + "'";
  if (!options.function.empty()) command += " --function '" + options.function + "'";
  std::vector<double> loads, instantiates, calls, totals;
  for (unsigned i = 0; i < options.runs; ++i) {
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) {
      print_error("cannot start a measuring process");
      return kExitFailure;
    }
    std::array<char, 256> line{};
    double load = 0, instantiate = 0, call = 0;
    const bool read = fgets(line.data(), line.size(), pipe) &&
                      std::sscanf(line.data(), "%lf %lf %lf", &load, &instantiate, &call) == 3;
    if (pclose(pipe) != 0 || !read) {
      print_error(options.module + ": a measuring process failed");  // and said why
      return kExitFailure;
    }
    loads.push_back(load);
    instantiates.push_back(instantiate);
    calls.push_back(call);
    totals.push_back(load + instantiate + call);
  }
  std::printf("load-us: %.0f\ninstantiate-us: %.0f\nfirst-call-us: %.0f\n", median(loads),
              median(instantiates), median(calls));
  std::printf("cold-start-us: %.0f\n", median(totals));
  return kExitOk;
}

}  // namespace wasm_sandbox::cli
