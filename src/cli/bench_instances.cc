// `wasm-sandbox bench instances --count N [--dense] MODULE`: how many live instances one process
// holds and what each costs. Makes N instances of MODULE, keeps them all alive, calls a function
// once in each, and prints the median time to instantiate and the resident memory each adds.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "wasm_sandbox/engine.h"

namespace wasm_sandbox::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Resident bytes of this process (/proc/self/statm), or 0 if unknown.
uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// The function to call in each instance: --function, else the first export without
// parameters, else the first function export (called with zeros).
std::string function_to_call(const Module& module, const std::string& requested) {
  if (!requested.empty()) return requested;
  for (const ExportDesc& e : module.exports()) {
    if (e.type.kind == ExternKind::Func && e.type.func.params.empty()) return e.name;
  }
  for (const ExportDesc& e : module.exports()) {
    if (e.type.kind == ExternKind::Func) return e.name;
  }
  return "";
}

}  // namespace

int run_bench_instances(const BenchOptions& options) {
  EngineConfig config;
  config.tier = Tier::Baseline;  // instantiation costs the same on every tier
  if (options.dense) config.memory_mode = MemoryMode::Dense;
  config.limits.instances = std::max<uint32_t>(config.limits.instances, options.count);
  // What is measured is how many instances fit: no budget stops them first.
  config.limits.total_memory_bytes = UINT64_MAX;
  Engine engine(config);
  auto module = engine.load_file(options.module);
  if (!module) {
    print_error(module.error().message());
    return kExitUsage;
  }
  for (const ImportDesc& i : module->imports()) {
    if (i.type.kind != ExternKind::Func) {
      print_error(options.module + ": imports " + i.module + "." + i.name +
                  "; bench instances takes modules that import functions at most");
      return kExitUsage;
    }
  }
  const std::string function = function_to_call(*module, options.function);
  Imports imports;  // imported functions: a stub per import that returns zeros
  for (const ImportDesc& i : module->imports()) {
    const FuncType type = i.type.func;
    imports.add(i.module, i.name,
                Func::host(type, [](Caller&, std::span<const Value>, std::span<Value>) {
                  return Status();
                }));
  }
  const uint64_t resident_before = resident_bytes();
  std::vector<Instance> instances;
  instances.reserve(options.count);
  std::vector<double> nanos;
  nanos.reserve(options.count);
  for (uint32_t k = 0; k < options.count; ++k) {
    const auto start = Clock::now();
    auto instance = module->instantiate(imports);
    nanos.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count());
    if (!instance) {
      print_error("instance " + std::to_string(k) + ": " + instance.error().message());
      return kExitFailure;
    }
    instances.push_back(std::move(*instance));
  }
  if (!function.empty()) {
    auto func = instances.front().func(function);
    if (!func) {
      print_error(func.error().message());
      return kExitUsage;
    }
    std::vector<Value> args;
    for (ValType type : func->type().params) args.push_back(Value::zero(type));
    for (uint32_t k = 0; k < options.count; ++k) {
      auto result = instances[k].call(function, args);
      if (!result) {
        print_error("instance " + std::to_string(k) + ": " + result.error().message());
        return kExitFailure;
      }
    }
  }
  const uint64_t resident_after = resident_bytes();
  std::sort(nanos.begin(), nanos.end());
  std::printf("instances: %u\n", engine.live_instances());
  std::printf("instantiate-ns: %.0f\n", nanos[nanos.size() / 2]);
  std::printf(
      "bytes-per-instance: %llu\n",
      static_cast<unsigned long long>(resident_after > resident_before
                                          ? (resident_after - resident_before) / options.count
                                          : 0));
  return kExitOk;
}

}  // namespace wasm_sandbox::cli
