// `wasm-sandbox run [--dir HOST[::GUEST][:ro]]... [--env K=V]... [--inherit-env K]...
//                   [--stdin FILE] [--fuel N] [--timeout MS] [--memory-limit SIZE]
//                   MODULE [-- ARGS...]`
#include <filesystem>

#include "cli/commands.h"
#include "wasm_sandbox/engine.h"
#include "wasm_sandbox/wasi.h"

namespace wasm_sandbox::cli {
namespace {

// A trap ends the process the way abort() would be reported by a shell; a limit that stops
// the program (fuel, timeout, interrupt) the way a shell reports SIGXCPU (128 + 24); a
// module or instance over a limit like any other failure.
constexpr int kExitTrap = 134;
constexpr int kExitStopped = 152;
constexpr int kExitLimit = 1;

int exit_code_for(const Error& error) {
  if (error.kind() == ErrorKind::LimitExceeded) return kExitLimit;
  if (error.kind() != ErrorKind::Trap) return kExitUsage;
  switch (error.trap()) {
    case TrapKind::OutOfFuel:
    case TrapKind::Timeout:
    case TrapKind::Interrupted:
      return kExitStopped;
    default:
      return kExitTrap;
  }
}

// HOST[::GUEST][:ro]; GUEST defaults to HOST.
bool parse_dir(std::string spec, WasiConfig& config) {
  DirAccess access = DirAccess::ReadWrite;
  if (spec.size() > 3 && spec.ends_with(":ro")) {
    access = DirAccess::ReadOnly;
    spec.resize(spec.size() - 3);
  }
  std::string host = spec, guest = spec;
  if (const size_t sep = spec.find("::"); sep != std::string::npos) {
    host = spec.substr(0, sep);
    guest = spec.substr(sep + 2);
  }
  if (host.empty() || guest.empty()) return false;
  config.preopen(host, guest, access);
  return true;
}

}  // namespace

int run_run(const RunOptions& options) {
  WasiConfig config;
  std::vector<std::string> argv{std::filesystem::path(options.module).filename().string()};
  argv.insert(argv.end(), options.args.begin(), options.args.end());
  config.args(std::move(argv)).inherit_stdout().inherit_stderr().real_clocks().real_random();
  if (options.stdin_file.empty()) {
    config.inherit_stdin();
  } else {
    config.stdin_file(options.stdin_file);
  }
  for (const auto& dir : options.dirs) {
    if (!parse_dir(dir, config)) {
      print_error("--dir " + dir + ": expected HOST[::GUEST][:ro]");
      return kExitUsage;
    }
  }
  for (const auto& pair : options.env) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      print_error("--env " + pair + ": expected KEY=VALUE");
      return kExitUsage;
    }
    config.env(pair.substr(0, eq), pair.substr(eq + 1));
  }
  for (const auto& key : options.inherit_env) config.inherit_env(key);

  auto wasi = Wasi::create(config);
  if (!wasi) {
    print_error(wasi.error().message());
    return kExitUsage;
  }
  auto engine_settings = engine_config(options.safety);
  if (!engine_settings) {
    print_error(engine_settings.error());
    return kExitUsage;
  }
  Engine engine(*engine_settings);
  auto module = engine.load_file(options.module);
  if (!module) {
    print_error(module.error());
    return module.error().kind() == ErrorKind::LimitExceeded ? kExitLimit : kExitUsage;
  }
  if (!module->stats().cache_error.empty()) {
    print_error("note: no artifact cache: " + module->stats().cache_error);
  }
  Imports imports;
  wasi->add_to(imports);
  auto instance = module->instantiate(imports);
  if (!instance) {
    print_error(instance.error());
    return exit_code_for(instance.error());
  }
  auto status = wasi->run(*instance);
  if (!status) {
    print_error(status.error());
    note_memory_limit(*instance, options.safety);
    return exit_code_for(status.error());
  }
  if (*status != 0) note_memory_limit(*instance, options.safety);
  return *status;
}

}  // namespace wasm_sandbox::cli
