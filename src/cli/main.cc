// wasm-sandbox: run, inspect and test WebAssembly modules from the command line.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string_view>

#include "cli/commands.h"

namespace wasm_sandbox::cli {

void print_error(const std::string& message) {
  std::fprintf(stderr, "wasm-sandbox: %s\n", message.c_str());
}

}  // namespace wasm_sandbox::cli

namespace {

void add_safety_options(CLI::App* command, wasm_sandbox::cli::SafetyOptions& options) {
  command->add_option("--fuel", options.fuel, "meter the guest: stop it after about N instructions")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--timeout", options.timeout_ms, "stop a call after MS milliseconds")
      ->check(CLI::PositiveNumber);
  command->add_option("--memory-limit", options.memory_limit,
                      "cap each linear memory at SIZE (65536, 640KiB, 64MiB, 1GiB)");
  command
      ->add_option("--tier", options.tier,
                   "compile with libtcc (baseline, fast to start), gcc/clang -O2 (optimized, "
                   "near-native), or baseline first and optimized once hot (auto, default)")
      ->check(CLI::IsMember({"baseline", "optimized", "auto"}));
  command->add_flag("--dense", options.dense,
                    "bounds-checked memories that reserve only what they may grow to, for very "
                    "many instances (MemoryMode::Dense)");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace wasm_sandbox::cli;
  // `store serve|sync` have their own parser (store_sync_command.cc): `store`'s positionals
  // below would take the words.
  if (argc >= 3 && std::string_view(argv[1]) == "store" &&
      (std::string_view(argv[2]) == "serve" || std::string_view(argv[2]) == "sync")) {
    return run_store_remote(argc - 1, argv + 1);
  }
  CLI::App app{"wasm-sandbox: run untrusted WebAssembly safely and fast"};
  app.require_subcommand(1);

  CallOptions call;
  auto* call_cmd = app.add_subcommand("call", "Call an exported function and print its results");
  call_cmd->add_option("module", call.module, "module file (.wasm or .wat)")->required();
  call_cmd->add_option("function", call.function, "exported function")->required();
  call_cmd->add_option("args", call.args, "arguments, parsed by the function's signature");
  add_safety_options(call_cmd, call.safety);
  call_cmd->positionals_at_end();

  RunOptions run;
  auto* run_cmd =
      app.add_subcommand("run", "Run a WASI program (its _start) and exit with its status");
  run_cmd->add_option("--dir", run.dirs, "grant a host directory: HOST[::GUEST][:ro]")
      ->allow_extra_args(false);
  run_cmd->add_option("--env", run.env, "set an environment variable: KEY=VALUE")
      ->allow_extra_args(false);
  run_cmd->add_option("--inherit-env", run.inherit_env, "pass the host's variable KEY")
      ->allow_extra_args(false);
  run_cmd->add_option("--stdin", run.stdin_file, "read stdin from FILE (default: inherited)");
  run_cmd->add_option("module", run.module, "module file (.wasm or .wat)")->required();
  run_cmd->add_option("args", run.args, "the program's arguments (after --)");
  add_safety_options(run_cmd, run.safety);
  run_cmd->positionals_at_end();

  InspectOptions inspect;
  auto* inspect_cmd = app.add_subcommand("inspect", "List a module's imports, exports and sizes");
  inspect_cmd->add_option("module", inspect.module, "module file (.wasm or .wat)")->required();

  WastOptions wast;
  auto* wast_cmd = app.add_subcommand("wast", "Run WebAssembly spec scripts");
  wast_cmd->add_option("scripts", wast.scripts, ".wast files")->required();
  wast_cmd->add_option("--expected-failures", wast.expected_failures,
                       "file listing scripts allowed to fail, one per line with its reason");
  wast_cmd->add_flag("-v,--verbose", wast.verbose, "print every failing assertion");
  add_safety_options(wast_cmd, wast.safety);

  CompileOptions compile;
  auto* compile_cmd = app.add_subcommand(
      "compile", "Compile a module ahead of time into an artifact that call and run accept");
  compile_cmd->add_option("module", compile.module, "module file (.wasm)")->required();
  compile_cmd->add_option("-o,--output", compile.output, "artifact file to write")->required();
  compile_cmd->add_flag("--fuel", compile.fuel, "meter with fuel (for call/run --fuel N)");
  compile_cmd->add_flag("--dense", compile.dense, "check memory bounds (for call/run --dense)");

  BenchOptions bench;
  auto* bench_cmd = app.add_subcommand("bench", "Measure the engine on a module");
  bench_cmd->add_option("what", bench.what, "cold-start | instances")
      ->required()
      ->check(CLI::IsMember({"cold-start", "instances"}));
  bench_cmd->add_option("module", bench.module, "module file (.wasm)")->required();
  bench_cmd->add_option("--function", bench.function,
                        "the function to call first (default: _start, else the first export "
                        "without parameters)");
  bench_cmd->add_option("--runs", bench.runs, "processes to measure (the median is printed)")
      ->check(CLI::Range(1, 1000));
  bench_cmd->add_flag("--child", bench.child, "measure once in this process")->group("");
  bench_cmd->add_option("--count", bench.count, "instances: how many to keep alive")
      ->check(CLI::Range(1u, 10'000'000u));
  bench_cmd->add_flag("--dense", bench.dense, "instances: in dense mode (MemoryMode::Dense)");

  ServeOptions serve;
  auto* serve_cmd = app.add_subcommand(
      "serve", "Serve the modules of a directory over HTTP: POST /call/MODULE/FUNCTION");
  serve_cmd->add_option("--modules", serve.modules, "directory of modules (*.wasm, *.wat)")
      ->required();
  serve_cmd->add_option("--port", serve.port, "TCP port (0: any free port, printed)")
      ->check(CLI::Range(0, 65535));
  serve_cmd->add_option("--host", serve.host, "address to listen on (default 127.0.0.1)");
  serve_cmd->add_option("--threads", serve.threads, "connections served at once (default 64)")
      ->check(CLI::Range(1, 4096));
  add_safety_options(serve_cmd, serve.safety);

  StoreCommandOptions store;
  auto* store_cmd = app.add_subcommand(
      "store",
      "The document store: put DB TREE JSON|-, get DB TREE ID, del DB TREE ID, scan DB TREE, "
      "query DB TREE EXPR, index|unindex DB TREE FIELD, indexes DB TREE, changes DB TREE, "
      "purge DB TREE; serve DB, sync DB TREE URL (see `store serve --help`, `store sync --help`)");
  store_cmd
      ->add_option("action", store.action,
                   "put, get, del, scan, query, index, unindex, indexes, changes, purge")
      ->required()
      ->check(CLI::IsMember({"put", "get", "del", "scan", "query", "index", "unindex", "indexes",
                             "changes", "purge"}));
  store_cmd->add_option("db", store.db, "the store's directory (created by put)")->required();
  store_cmd->add_option("tree", store.tree, "the tree")->required();
  store_cmd->add_option("operand", store.operand,
                        "put: the document as JSON, or - to read it from stdin; get, del: the "
                        "id; query: the expression (docs/store.md); index, unindex: the field");
  store_cmd->add_option("--id", store.id,
                        "put: the document's id (default: its \"id\" or \"key\" field)");
  store_cmd->add_option("--prefix", store.prefix, "scan: only ids starting with this");
  store_cmd
      ->add_option("--expires-in", store.expires_in_s,
                   "put: the nut expires this many seconds from now (then reads do not see it)")
      ->check(CLI::PositiveNumber);
  store_cmd->add_option("--since", store.since,
                        "changes: only the feed after this sequence number (default 0: all)");
  store_cmd->add_flag("--explain", store.explain, "query: print how it would run");
  store_cmd->add_flag("--count", store.count, "query: print how many nuts it selects");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  // `call M F -- -1 2`: the separator is optional (negative numbers parse as arguments).
  if (!call.args.empty() && call.args.front() == "--") call.args.erase(call.args.begin());
  if (!run.args.empty() && run.args.front() == "--") run.args.erase(run.args.begin());
  if (*call_cmd) return run_call(call);
  if (*run_cmd) return run_run(run);
  if (*inspect_cmd) return run_inspect(inspect);
  if (*wast_cmd) return run_wast(wast);
  if (*compile_cmd) return run_compile(compile);
  if (*store_cmd) return run_store(store);
  if (*serve_cmd) return run_serve(serve);
  if (*bench_cmd) return bench.what == "instances" ? run_bench_instances(bench) : run_bench(bench);
  return kExitUsage;
}
