// The subcommands of `wasm-sandbox`. Each returns the process exit code:
// 0 success, 1 the guest trapped or a check failed, 2 bad usage or a bad module.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wasm_sandbox/engine.h"

namespace wasm_sandbox::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// --fuel, --timeout, --memory-limit and --tier, shared by `call`, `run` and `wast`.
struct SafetyOptions {
  std::optional<uint64_t> fuel;
  std::optional<uint64_t> timeout_ms;
  std::string memory_limit;  // SIZE: 65536, 64KiB, 64MiB, 1GiB
  std::string tier;          // baseline, optimized, auto (empty: the engine's default)
  bool dense = false;        // MemoryMode::Dense
};
// The engine settings the flags ask for, or a usage error naming the flag.
Result<EngineConfig> engine_config(const SafetyOptions& options);
// Prints `error` as one line, naming a breached limit by its flag.
void print_error(const Error& error);
// After a failed run: a note when an exported memory of `instance` stopped at --memory-limit
// (the guest sees only memory.grow failing).
void note_memory_limit(const Instance& instance, const SafetyOptions& options);

struct CallOptions {
  std::string module;
  std::string function;
  std::vector<std::string> args;
  SafetyOptions safety;
};
int run_call(const CallOptions& options);

struct InspectOptions {
  std::string module;
};
int run_inspect(const InspectOptions& options);

struct WastOptions {
  std::vector<std::string> scripts;
  std::string expected_failures;  // file: "script.wast  reason" per line
  bool verbose = false;           // print every failing assertion
  SafetyOptions safety;           // e.g. --fuel: run the suite on metered code
};
int run_wast(const WastOptions& options);

struct RunOptions {
  std::string module;
  std::vector<std::string> args;         // after the program name
  std::vector<std::string> dirs;         // HOST[::GUEST][:ro]
  std::vector<std::string> env;          // KEY=VALUE
  std::vector<std::string> inherit_env;  // KEY
  std::string stdin_file;
  SafetyOptions safety;
};
// Runs a WASI program's _start; returns its exit status (134 if it trapped).
int run_run(const RunOptions& options);

struct CompileOptions {
  std::string module;
  std::string output;
  bool fuel = false;   // metered code, for `call`/`run` with --fuel
  bool dense = false;  // bounds-checked code, for `call`/`run` with --dense
};
// Writes the optimized tier's artifact for a module (Engine::compile_artifact).
int run_compile(const CompileOptions& options);

struct BenchOptions {
  std::string what;  // "cold-start" or "instances"
  std::string module;
  std::string function;  // the call; empty: _start, else the first export without params
  unsigned runs = 20;
  bool child = false;       // one measurement, in this process (the parent spawns these)
  uint32_t count = 10'000;  // instances: how many to keep alive
  bool dense = false;       // instances: in MemoryMode::Dense
};
// `bench cold-start`: load from the artifact cache + instantiate + first call, each in a new
// process; prints the median as `cold-start-us: N`.
int run_bench(const BenchOptions& options);
// `bench instances`: `count` live instances, each called once; prints `instances: N`,
// `instantiate-ns: N` (median) and `bytes-per-instance: N` (resident memory added).
int run_bench_instances(const BenchOptions& options);

struct ServeOptions {
  std::string modules;  // directory of *.wasm / *.wat
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  size_t threads = 64;
  SafetyOptions safety;  // --timeout defaults to 1000 ms here
};
// Serves the modules over HTTP until SIGINT/SIGTERM (docs/serve.md). Prints
// `listening on http://HOST:PORT (N modules)` once it accepts connections.
int run_serve(const ServeOptions& options);

struct StoreCommandOptions {
  std::string action;  // put, get, del, scan, query, index, unindex, indexes
  std::string db;      // the store's directory
  std::string tree;
  // put: the document's JSON text, or "-" for stdin; get, del: the id; query: the expression;
  // index, unindex: the field
  std::string operand;
  std::string id;           // put --id: the id (else the document's "id" or "key" field)
  std::string prefix;       // scan --prefix
  double expires_in_s = 0;  // put --expires-in: seconds until the nut expires (0: never)
  uint64_t since = 0;       // changes --since: the feed after this sequence number
  bool explain = false;     // query --explain: print the plan instead
  bool count = false;       // query --count: print the number of nuts instead
};
// The store from the shell (docs/store.md): put prints {"id","version"}; get prints the nut
// as one line of JSON (id, version, timestamp, expiry, payload); del prints nothing; scan
// prints one nut per line, in id order; query prints the nuts it selects, one per line, in its
// order (or the plan, or the count); index and unindex print nothing, indexes one field per
// line; changes prints the feed, one change per line (seq, deleted, then get's fields); purge
// removes expired nuts and prints {"purged": n}. Exit 1 when a nut or index is not found, 2 for
// bad input.
int run_store(const StoreCommandOptions& options);

// `store serve DB [--port P] [--judge J] [--tree T]...` and `store sync DB TREE URL
// [--remote-tree T] [--judge J] [--push-only|--pull-only]` (docs/store.md, "Sync"), parsed from
// `argv` = {"store", "serve"|"sync", ...}. serve prints `listening on http://HOST:PORT (store
// ID)` and serves until SIGINT/SIGTERM; sync prints {"pushed":{...},"pulled":{...}} (sent,
// taken, kept, duplicate). Exit 1 when the server or the store fails, 2 for bad input.
int run_store_remote(int argc, char** argv);

// Prints "wasm-sandbox: MESSAGE" on stderr.
void print_error(const std::string& message);

}  // namespace wasm_sandbox::cli
