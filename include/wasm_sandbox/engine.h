// Engine, Module, Instance and Imports: the full API. For the one-line case see sandbox.h.
//
//   wasm_sandbox::Engine engine;
//   auto module = engine.load_file("plugin.wasm");          // Result<Module>
//   if (!module) { puts(module.error().message().c_str()); return 1; }
//   wasm_sandbox::Imports imports;
//   imports.add("env", "log", wasm_sandbox::Func::wrap([](int32_t x) { printf("%d\n", x); }));
//   auto instance = module->instantiate(imports);           // Result<Instance>
//   auto sum = instance->call<int32_t>("add", 5, 3);        // Result<int32_t>
//
// Thread safety: Engine and Module are thread-safe (load and instantiate from any thread).
// An Instance runs one call at a time: calls on the same instance from two threads must be
// serialized by the host; different instances run in parallel freely. Instance::interrupt()
// and Engine::interrupt_all() may be called from any thread at any time (but not from a
// signal handler). The library handles SIGURG in every thread that runs guest code
// (docs/limits.md).
//
// Safety controls (limits.h, docs/limits.md): every load and instance is bounded by the
// engine's Limits; calls can be metered with fuel, given a timeout and interrupted.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "wasm_sandbox/externs.h"
#include "wasm_sandbox/host.h"
#include "wasm_sandbox/limits.h"
#include "wasm_sandbox/metrics.h"
#include "wasm_sandbox/result.h"
#include "wasm_sandbox/typed_func.h"
#include "wasm_sandbox/value.h"

namespace wasm_sandbox {

namespace detail {
struct EngineState;
struct ModuleState;
}  // namespace detail

class Instance;

// Which compiler makes a module's machine code (docs/tiers.md).
enum class Tier {
  // libtcc, in process: a module is ready in milliseconds and runs ~8x slower than native.
  Baseline,
  // gcc or clang -O2 as a subprocess (OptimizerConfig): loading waits for it, seconds for a
  // large module, unless the artifact cache has the code; runs near native speed.
  Optimized,
  // Baseline at once; optimized in the background once the module is hot
  // (OptimizerConfig::hot_calls, hot_time), and each instance moves to the optimized code
  // between two calls, keeping its memories, globals and tables. A module whose optimized
  // code is in the artifact cache starts optimized.
  Auto,
};

// The optimized tier's compiler.
struct OptimizerConfig {
  // "gcc", "clang" or a path; empty: $CC, then gcc, then clang from PATH.
  std::string compiler;
  std::vector<std::string> flags = {"-O2"};
  // Compiler processes at once for a module split into several translation units, and
  // background compiles at once for Tier::Auto; 0: one per core.
  unsigned jobs = 0;
  // Tier::Auto: a module is hot after this many calls from the host, or this much time spent
  // in them, summed over all its instances.
  uint64_t hot_calls = 1000;
  std::chrono::milliseconds hot_time{50};
};

// Reuse of instances' resources. A linear memory freed with its instance is reset (its pages
// returned to the system, any growth undone) and kept for the next instance of the same
// module, so that instantiating takes no system call for it.
struct PoolConfig {
  // Freed memories kept per module. Each holds address space (8 GiB), not memory.
  size_t idle_memories = 256;
  // A module whose data segments give every instance the same starting bytes (one memory,
  // constant offsets, at least 4 KiB of data) keeps them as an image, made from its first
  // instance, that later instances map copy-on-write instead of copying (docs/calls.md).
  bool memory_images = true;
};

// Where compiled modules are kept for reuse.
struct CacheConfig {
  // In process: loading the same bytes again, with the same engine, gives a module sharing
  // the first one's machine code (while any module from those bytes is alive).
  bool memory = true;
  // On disk, the optimized tier's artifacts: content-addressed by the module's hash, the
  // engine's version, the compiler's identity and flags and the instrumentation; created
  // 0700; least recently used entries evicted beyond max_bytes; an entry whose bytes do not
  // match its recorded hash is deleted, never loaded.
  bool disk = true;
  // Empty: $XDG_CACHE_HOME/wasm-sandbox, or ~/.cache/wasm-sandbox.
  std::filesystem::path directory;
  uint64_t max_bytes = 1ull << 30;
};

// How an engine lays out linear memories and keeps guest accesses inside them
// (docs/limits.md, "Memory modes").
enum class MemoryMode {
  // Each memory reserves 8 GiB of address space, of which what lies past its size is
  // inaccessible: guest code needs no bounds checks, an out-of-bounds access faults and
  // becomes a trap. The fastest code; a process fits about 16,000 memories (x86-64's 128 TiB
  // of user address space).
  GuardPages,
  // Each memory takes only the address space it may grow to (its declared maximum, at most
  // Limits::memory_bytes), from slabs shared by many memories; guest code compares every
  // address with the memory's size. For hosts that need very many instances (100,000 and
  // more); code runs about 10-30% slower. Memories never move in either mode. PoolConfig's
  // memory images are not used (data segments are copied).
  Dense,
};

// Settings fixed when an engine is made. The defaults are the safe ones.
struct EngineConfig {
  Limits limits;
  // Meter guest code with fuel: each instance starts with Limits::fuel and traps with
  // TrapKind::OutOfFuel when it is spent. Deterministic: the same module, inputs and fuel give
  // the same result or stop at the same point. Costs run time (see docs/limits.md).
  bool fuel = false;
  // Let calls be stopped: timeouts (Limits::call_timeout, Instance::set_timeout),
  // Instance::interrupt() and Engine::interrupt_all(). Costs guest code nothing: a running
  // call is stopped by a signal to its thread (SIGURG; docs/limits.md); each call from the
  // host records its thread with two plain stores. Off, guest code runs until it returns or
  // traps.
  bool interruptible = true;
  MemoryMode memory_mode = MemoryMode::GuardPages;
  Tier tier = Tier::Auto;
  OptimizerConfig optimizer;
  CacheConfig cache;
  PoolConfig pool;
};

// "baseline", "optimized", "auto"
const char* to_string(Tier tier);

// Where a module's code came from.
enum class CacheHit {
  None,    // compiled now
  Memory,  // the in-process cache: a module loaded from the same bytes is alive
  Disk,    // the artifact cache on disk
};

// Time spent loading a module, by stage, and the sizes involved.
struct CompileStats {
  CacheHit cache = CacheHit::None;  // on a hit, only compile_ms (loading) and code_bytes count
  // Why the disk cache is not in use, if it is enabled but could not be opened (e.g. its
  // directory is writable by others): one line naming the directory.
  std::string cache_error;
  double decode_ms = 0;    // read + validate
  double generate_ms = 0;  // wasm -> C
  double compile_ms = 0;   // C -> machine code (by the tier the module was loaded with)
  size_t c_bytes = 0;      // generated C
  size_t code_bytes = 0;   // machine code and data
  // Optimized tier: the translation units the C was split into and compiled in parallel
  // (several for a large module, docs/tiers.md); 0 for the baseline tier.
  size_t translation_units = 0;
};

// The imports an instantiation draws from, by (module, name).
class Imports {
 public:
  Imports& add(std::string module, std::string name, Extern value);
  // Every export of `instance`, under `module` (how one instance's exports become another's
  // imports).
  Imports& add_instance(const std::string& module, const Instance& instance);
  const Extern* find(std::string_view module, std::string_view name) const;

 private:
  std::map<std::pair<std::string, std::string>, Extern, std::less<>> entries_;
};

// A compiled module: immutable, shareable, instantiable any number of times.
class Module {
 public:
  const std::string& name() const;
  std::span<const ImportDesc> imports() const;
  std::span<const ExportDesc> exports() const;
  std::span<const MemoryType> memories() const;  // defined by the module, not imported
  std::span<const TableType> tables() const;     // defined by the module, not imported
  size_t function_count() const;                 // defined functions
  size_t wasm_size() const;
  const CompileStats& stats() const;
  // The tier of the best code the module has now (Baseline or Optimized), which new
  // instances start on and running ones move to at their next call from the host.
  Tier tier() const;
  // Compiles the optimized tier now, unless the module has it, and waits for it (under
  // Tier::Auto, also for a background compile already running). Errors: no C compiler
  // (NotFound), the compile failed or ran out of time (Limits::compile_time).
  Status optimize() const;

  // Links `imports` and runs the module's start function. Link errors name the import and the
  // expected and given types (an import given an empty, default-constructed handle is one); a trap
  // in the start function or in segment initialization is an ErrorKind::Trap error; a memory or
  // table over the limits, or an engine at its limit of instances or memory, is
  // ErrorKind::LimitExceeded.
  Result<Instance> instantiate(const Imports& imports = {}) const;
  // With the instance limits of `limits` (memory_bytes, table_elements, stack_bytes,
  // call_timeout, fuel) in place of the engine's: e.g. a memory cap per tenant.
  Result<Instance> instantiate(const Imports& imports, const Limits& limits) const;

 private:
  friend class Engine;
  explicit Module(std::shared_ptr<const detail::ModuleState> state) : state_(std::move(state)) {}
  std::shared_ptr<const detail::ModuleState> state_;
};

class Engine {
 public:
  Engine();
  explicit Engine(EngineConfig config);

  // Validates and compiles a binary module. `name` is used in every message about it.
  Result<Module> load(std::span<const uint8_t> wasm, std::string_view name = "module.wasm") const;
  // WebAssembly text.
  Result<Module> load_wat(std::string_view text, std::string_view name = "module.wat") const;
  // A file holding a binary module, an artifact (compile_artifact()), or text (anything not
  // starting with "\0asm" or "\0wsa").
  Result<Module> load_file(const std::filesystem::path& path) const;

  // Ahead of time: compiles `wasm` with the optimized tier into an artifact, bytes that
  // load_artifact() turns into a Module without a compiler, on a machine with the same engine
  // version and a CPU with the features of this one. The artifact carries this engine's
  // instrumentation (EngineConfig::fuel, interruptible); an engine with other settings
  // refuses it.
  Result<std::vector<uint8_t>> compile_artifact(std::span<const uint8_t> wasm,
                                                std::string_view name = "module.wasm") const;
  // Errors name `name`: a malformed or corrupt artifact (InvalidModule), one from another
  // engine version or for a CPU lacking features (Unsupported), or compiled with other
  // instrumentation (InvalidArgument).
  Result<Module> load_artifact(std::span<const uint8_t> artifact,
                               std::string_view name = "module.wsa") const;

  const EngineConfig& config() const;
  // Makes every call running in the engine's instances stop with TrapKind::Interrupted;
  // calls that start afterwards are not affected (a call starting at the same moment may or
  // may not be). No effect unless the engine is interruptible. Thread-safe, but not
  // async-signal-safe (it takes locks): not from a signal handler.
  void interrupt_all() const;
  // Instances alive, and bytes of linear memory they hold, now.
  uint32_t live_instances() const;
  uint64_t memory_in_use() const;
  // What the engine has done so far: calls, latencies, traps, loads, instantiations (see
  // metrics.h, docs/metrics.md). Thread-safe; takes a lock that instantiation and instance
  // destruction also take, never one that a call takes.
  EngineMetrics metrics() const;

 private:
  std::shared_ptr<detail::EngineState> state_;
};

// A running module: its memories, globals and tables, and its exports to call.
class Instance {
 public:
  const std::string& name() const;  // the module's name
  std::span<const ExportDesc> exports() const;
  // The tier of the code the instance runs on (Module::tier() after its next call).
  Tier tier() const;

  Result<Extern> get_export(std::string_view name) const;
  Result<Func> func(std::string_view name) const;
  Result<Global> global(std::string_view name) const;
  Result<Memory> memory(std::string_view name = "memory") const;
  Result<Table> table(std::string_view name) const;

  // --- Safety controls. Call these between calls (from the thread that calls the instance),
  // except interrupt(), which any thread may call at any time.

  // Fuel left, when the engine meters fuel (EngineConfig::fuel); else 0.
  uint64_t fuel() const;
  // Fuel used since instantiation (the start function included).
  uint64_t fuel_consumed() const;
  // Replaces or adds to the fuel left. InvalidArgument unless the engine meters fuel. A call
  // made with no fuel left traps with OutOfFuel at once.
  Status set_fuel(uint64_t fuel) const;
  Status add_fuel(uint64_t fuel) const;
  // Limits every later call from the host to `timeout` of wall-clock time (zero: none);
  // an expired call returns TrapKind::Timeout within about twice its deadline plus 10 ms.
  // InvalidArgument unless the engine is interruptible.
  Status set_timeout(std::chrono::milliseconds timeout) const;
  // Makes the call running on this instance stop with TrapKind::Interrupted (at once in guest
  // code; when a host function it is in returns, or checks Caller::check_interrupt()) or,
  // if none is running, the next call stop before it starts. Consumed by that trap. No effect
  // unless the engine is interruptible. Any thread, but not a signal handler (it takes a lock).
  void interrupt() const;
  // After any trap, fuel, timeout and interrupt traps included, the instance stays usable:
  // its memory, globals and tables are as the trap left them, which may be midway through
  // an update the guest meant to be atomic. Hosts that cannot accept that drop the instance.

  // A typed handle of exported function `name` (typed_func.h), checked once: the fastest
  // way to call it many times. NotFound or InvalidArgument (its type is not Sig).
  template <class Sig>
  Result<TypedFunc<Sig>> typed(std::string_view name) const {
    auto f = func(name);
    if (!f) return std::move(f).error();
    return TypedFunc<Sig>::of(std::move(*f));
  }

  // Calls an exported function with dynamically typed values.
  Result<std::vector<Value>> call(std::string_view name, std::span<const Value> args) const;
  Result<std::vector<Value>> call(std::string_view name, std::initializer_list<Value> args) const {
    return call(name, std::span<const Value>(args.begin(), args.size()));
  }

  // Calls an exported function once per argument set, in order; one result per set. Cheaper
  // per call than call() in a loop: one lookup, one tier check, and one entry into guest code
  // for the whole batch (entered again after a call traps). A call whose arguments do not
  // match, or that traps, gets its error and the batch goes on; but the batch is one call from
  // the host for the safety controls: the timeout covers it whole, and a timeout, interrupt,
  // exit or running out of fuel ends it, every later call getting an error that says so.
  std::vector<Result<std::vector<Value>>> call_batch(
      std::string_view name, std::span<const std::vector<Value>> arg_sets) const;

  // call() on a worker thread (one process-wide pool, a thread per core, started on first
  // use): the future gets what call() returns. Calls made this way on one instance run one
  // at a time, in the order made; while any is pending the host must not call the instance
  // itself. They keep the instance alive until they finish.
  std::future<Result<std::vector<Value>>> call_async(std::string name,
                                                     std::vector<Value> args) const;

  // Calls an exported function with C++ arguments: R is void, one of int32_t, uint32_t,
  // int64_t, uint64_t, float, double, or a std::tuple of them for several results.
  // InvalidArgument if the export's signature does not match.
  template <class R = void, class... Args>
  requires(std::is_arithmetic_v<Args>&&...) Result<R> call(std::string_view name, Args... args)
  const {
    const Value values[] = {detail::WasmType<Args>::to_value(args)..., Value()};
    auto results = call(name, std::span<const Value>(values, sizeof...(Args)));
    if (!results) return std::move(results).error();
    return detail::ResultsOf<R>::from(*results, name);
  }

 private:
  friend class Module;
  friend class Imports;
  explicit Instance(std::shared_ptr<detail::InstanceState> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::InstanceState> state_;
};

}  // namespace wasm_sandbox
