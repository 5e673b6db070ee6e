// The objects behind the public handles (engine.h, externs.h). Internal to the library.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/disk_cache.h"
#include "engine/hash.h"
#include "engine/module_info.h"
#include "engine/native_code.h"
#include "runtime/memory.h"
#include "sandbox/group.h"
#include "sandbox/metrics.h"
#include "sandbox/stop_control.h"
#include "sandbox/workers.h"
#include "wasm_sandbox/engine.h"
#include "wasm_sandbox/externs.h"

namespace wasm_sandbox::detail {

struct InstanceState;
struct ModuleCode;

// Shared by the engine's handle, its modules and their instances. Thread-safe.
struct EngineState {
  explicit EngineState(const EngineConfig& config)
      : config(config), memory(config.limits.total_memory_bytes) {}

  const EngineConfig config;
  runtime::MemoryBudget memory;        // every linear memory of every instance
  std::atomic<uint32_t> instances{0};  // alive
  std::mutex live_mutex;
  // Guarded by live_mutex: every instance alive (interrupt_all() stops those with a stop flag;
  // Engine::metrics() sums their call counters), and the counters of those gone.
  std::unordered_set<InstanceState*> live;
  uint64_t retired_calls = 0;
  uint64_t retired_fuel = 0;
  // Counts interrupt_all() calls: one stops the calls that started before it counted
  // (StopControl::enter() records the count as a call starts).
  std::atomic<uint64_t> interrupt_epoch{0};
  Metrics metrics;  // Engine::metrics()

  // The artifact cache on disk (optimize.h, disk_cache()), opened on first use.
  std::once_flag disk_once;
  std::optional<engine::DiskCache> disk;
  std::optional<Error> disk_error;  // why it could not be opened

  // The in-process module cache (CacheConfig::memory): module hash (hex) -> its code.
  std::mutex loaded_mutex;
  std::unordered_map<std::string, std::weak_ptr<ModuleCode>> loaded;
  size_t loaded_sweep_at = 64;  // guarded by loaded_mutex
};

// A module's machine code, in its tiers (tiering.cc); shared by every Module loaded from the
// same bytes under one engine. Thread-safe.
struct ModuleCode {
  explicit ModuleCode(size_t idle_memories) : memories(idle_memories) {}
  ~ModuleCode();  // cancels a background compile and waits for it

  // Freed memories of the module's instances, kept for the next ones (PoolConfig). Declared
  // first: destroyed last, after anything that could still free a memory into it.
  runtime::MemoryPool memories;
  // What every instance's memory starts with (ModuleInfo::memory_image), made from the first
  // instance's memory once it is instantiated; `image` is published once, then constant.
  std::once_flag image_once;
  std::unique_ptr<runtime::MemoryImage> image_storage;
  std::atomic<const runtime::MemoryImage*> image{nullptr};

  // Constant after construction.
  std::unique_ptr<engine::NativeCode> first;  // what the module was loaded with
  bool first_is_optimized = false;
  Tier policy = Tier::Baseline;
  engine::ModuleInfo info;  // named after the first load
  engine::Digest module_hash{};

  // The best code there is now: `first`, then `optimized` once it exists. Instances move to
  // it between calls.
  std::atomic<const engine::NativeCode*> best{nullptr};

  // Tier::Auto: how hot the module is, and the background compile once it is.
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> nanos{0};
  std::atomic<bool> started{false};
  std::atomic<bool> cancel{false};
  std::atomic<uint32_t> running{0};  // timed calls in progress
  std::atomic<bool> timer_armed{false};
  std::weak_ptr<EngineState> engine;  // for the HotTimer's compile

  std::mutex mutex;
  // Guarded by mutex:
  std::vector<uint8_t> wasm;  // the module's bytes, until the background compile took them
  std::string name;
  std::thread worker;
  std::optional<Error> optimize_error;  // why the background compile failed, if it did
  bool finished = false;                // the background compile ended, one way or another
  std::condition_variable finished_cv;
  // Set once, under mutex, before `best` points to it; constant afterwards.
  std::unique_ptr<engine::NativeCode> optimized;
  std::unordered_map<void*, void*> remap;  // first's function addresses -> optimized's
};

// Behind a Memory handle (here, not with GlobalState and TableState below: InstanceState
// holds some).
struct MemoryState {
  wasm_rt_memory_t* memory = nullptr;
  std::optional<uint32_t> declared_max;
  std::shared_ptr<Group> group;  // null for a Caller's view during a host call

  static Memory handle(std::shared_ptr<MemoryState> state) { return Memory(std::move(state)); }
  // A handle that points to `state` without owning it (no control block: copying it is a
  // plain copy): Caller::memory()'s view of an instance's own ExportedMemory, which lives as
  // long as the instance.
  static Memory borrowed(MemoryState* state) {
    return Memory(std::shared_ptr<MemoryState>(std::shared_ptr<MemoryState>(), state));
  }
  static const std::shared_ptr<MemoryState>& of(const Memory& m) { return m.state_; }
};

// A memory an instance exports, as Caller::memory() hands it out: found by its name, with no
// lookup in a map and no allocation per host call.
struct ExportedMemory {
  std::string_view name;  // the export's name, in ModuleState::info (kept alive by `module`)
  MemoryState state;      // no group: the instance would then own a handle to itself
};

// Constant after construction; shared by every instance of the module.
struct ModuleState {
  std::shared_ptr<EngineState> engine;
  engine::ModuleInfo info;
  std::shared_ptr<ModuleCode> code;
  CompileStats stats;
  std::map<std::string, size_t, std::less<>> export_index;
  std::vector<size_t> memory_exports;  // the indices of the memory exports, in export order

  const ExportDesc* find_export(std::string_view name, size_t* index) const;
};

struct FuncState;

// A host function bound to one import of one instance (what the slot's ctx points to).
struct HostBinding {
  ws_host_binding header;  // first: generated adapters see a ws_host_binding*
  FuncState* func;
  struct InstanceState* caller;
  const ImportDesc* import;  // names the function in messages
};

// Owned by its Group (group.h); handles to it alias the group.
struct InstanceState {
  std::shared_ptr<const ModuleState> module;
  EngineState* engine = nullptr;             // kept alive by `module`; counts this instance
  const engine::NativeCode* code = nullptr;  // the tier it runs on now (module->code owns it)
  const ModuleCode* module_code = nullptr;   // *module->code, read on every call
  int64_t* fuel = nullptr;                   // in `raw`: the instrumented fuel counter, or null
  StopControl stop;                          // stop.flag: in `raw`, or null if not interruptible
  uint64_t fuel_added = 0;                   // since instantiation, the initial fuel included
  std::chrono::milliseconds timeout{0};      // per call from the host; 0: none
  size_t stack_bytes = 0;          // Limits::stack_bytes as runtime::usable_stack_bytes() makes it
  std::atomic<uint32_t> depth{0};  // guarded calls in progress (above 1 only when nested)
  CallCounters counters;           // this instance's share of the engine's metrics
  std::weak_ptr<Group> group;      // weak: the group owns this
  void* raw = nullptr;             // glue().instance_size bytes: wasm2c's struct, then the slots
  bool needs_free = false;         // instantiate ran (even if it trapped)
  std::vector<HostBinding> bindings;  // one per import; sized once, never moved
  std::vector<std::shared_ptr<FuncState>> host_functions;       // imported host functions
  std::shared_ptr<Strand> strand = std::make_shared<Strand>();  // call_async's, in turn
  // One per ModuleState::memory_exports, for Caller::memory(): the first here (no allocation
  // at instantiation; state.memory is null if the instance exports no memory), any others
  // (a memory exported under several names) in more_memories. Set once when instantiation has placed the memories (an
  // imported memory's address is known only then), before any guest code runs; never moved,
  // as Caller::memory()'s handles point at them.
  ExportedMemory first_memory;
  std::vector<ExportedMemory> more_memories;
  ExportedMemory* memory_export = nullptr;  // the one named "memory", if any: Caller::memory()

  ~InstanceState();
  const ws_glue& glue() const { return code->glue(); }
  ws_slot* slots() const {
    return reinterpret_cast<ws_slot*>(static_cast<char*>(raw) + glue().slots_offset);
  }
  // The storage behind a global, memory or table export.
  void* export_storage(size_t index) const;
  // Fills first_memory, more_memories and memory_export; once, after the instance's memories
  // are in place.
  void set_exported_memories();
  // The handle for export `index`; `self` must share ownership of the group.
  static Extern export_extern(const std::shared_ptr<InstanceState>& self, size_t index);
  std::shared_ptr<Group> group_ptr() const { return group.lock(); }
};

struct FuncState {
  FuncType type;
  std::string name;  // the export name, or "host function (i32) -> ()"
  // A guest function: export `export_index` of `instance`, called through the entry of the
  // code the instance runs on, or imported by calling `direct` with `context`.
  size_t export_index = 0;
  void* direct = nullptr;
  void* context = nullptr;
  InstanceState* instance = nullptr;  // that exported it; kept alive by `group`
  std::shared_ptr<Group> group;       // of the instance that exported it
  // A host function: `callback` for calls from the host; for calls from guest code
  // `direct(direct_callable, ...)` when it has one (Func::wrap), else `callback`.
  HostCallback callback;
  DirectHostFn direct_host = nullptr;
  std::shared_ptr<void> direct_callable;

  bool is_host() const { return instance == nullptr; }
  static Func handle(std::shared_ptr<FuncState> state) { return Func(std::move(state)); }
  static const std::shared_ptr<FuncState>& of(const Func& f) { return f.state_; }
};

// The storage of host-created objects: members of their group.
struct HostGlobal {
  ws_val cell{};
};
struct HostMemory {
  wasm_rt_memory_t memory{};
  ~HostMemory();
};
struct HostTable {
  wasm_rt_funcref_table_t funcrefs{};
  wasm_rt_externref_table_t externrefs{};
  ~HostTable();
};

struct GlobalState {
  GlobalType type;
  void* cell = nullptr;  // the C value (u32, u64, f32, f64, funcref or externref)
  std::shared_ptr<Group> group;

  static Global handle(std::shared_ptr<GlobalState> state) { return Global(std::move(state)); }
  static const std::shared_ptr<GlobalState>& of(const Global& g) { return g.state_; }
};

struct TableState {
  ValType element = ValType::FuncRef;
  std::optional<uint32_t> declared_max;
  void* table = nullptr;  // wasm_rt_funcref_table_t* or wasm_rt_externref_table_t*
  std::shared_ptr<Group> group;

  uint32_t size() const;
  static Table handle(std::shared_ptr<TableState> state) { return Table(std::move(state)); }
  static const std::shared_ptr<TableState>& of(const Table& t) { return t.state_; }
};

// Conversions between Value and the generated code's ws_val.
ws_val to_ws(const Value& value);
Value from_ws(ValType type, const ws_val& value);

// Calls a guest function of `instance` under trap recovery, with the instance's timeout and
// stack limit, after checking the arguments. `function` only names it in error messages.
Result<std::vector<Value>> call_guest(const FuncType& type, size_t export_index,
                                      InstanceState& instance, std::string_view function,
                                      std::span<const Value> args);

// Calls the export once per argument set: see Instance::call_batch().
std::vector<Result<std::vector<Value>>> call_guest_batch(
    const FuncType& type, size_t export_index, InstanceState& instance, std::string_view function,
    std::span<const std::vector<Value>> arg_sets);

// --- Tiers (tiering.cc)

// Before a call from the host, at depth 0: moves the instance to the module's best code, and
// under Tier::Auto counts the call towards the module's hotness. Returns the code to run.
const engine::NativeCode& prepare_call(InstanceState& instance);
// Whether a call from the host on `instance` may skip prepare_call() and begin_timed_call():
// the instance runs its module's best code, and the module's hotness is no longer counted.
inline bool is_settled(const InstanceState& instance) {
  const ModuleCode& code = *instance.module_code;
  return instance.code == code.best.load(std::memory_order_acquire) &&
         (code.policy != Tier::Auto || code.started.load(std::memory_order_relaxed));
}
// Around a call from the host, under Tier::Auto while the module is not hot yet: true if the
// call is to be timed (then end_timed_call() must follow with its duration). A call that is
// still running when the module's time budget runs out makes it hot (HotTimer).
bool begin_timed_call(InstanceState& instance);
void end_timed_call(InstanceState& instance, uint64_t nanos);
// Compiles the module's optimized tier now, if it has none and none is being compiled, and
// waits for it.
Status optimize_now(const ModuleState& module);
// Runs fn(arg) on `instance`'s behalf: under trap recovery, its stack limit, its timeout (or
// the deadline of an enclosing call on this thread, if earlier) and the engine-wide interrupt.
TrapKind run_on_instance(InstanceState& instance, void (*fn)(void*), void* arg);
// run_direct() (typed_func.h) for an instance that is not settled (is_settled()): it may
// move to better code, and under Tier::Auto the call may be timed. The common case,
// settled, is run_direct()'s own, in run_on_instance.cc beside what it inlines.
TrapKind run_direct_unsettled(const FuncState& func, DirectCall& target, void (*thunk)(void*),
                              void* closure);
// run_direct() for a settled instance whose call is to be timed (`sampled`, the call already
// counted) or that meters fuel: the metrics' uncommon path (call.cc, run_measured()).
TrapKind run_direct_measured(const FuncState& func, DirectCall& target, void (*thunk)(void*),
                             void* closure, bool sampled);
// What a host function serving `instance` should do now: None, or Timeout (the deadline of
// the call passed) or Interrupted (consumed here).
TrapKind pending_stop(InstanceState& instance);
// ": out of fuel (...)" and the like: what a trap that enforces a limit says about it.
std::string trap_detail(TrapKind trap, const InstanceState& instance);
// Calls a host function directly from the host.
Result<std::vector<Value>> call_host(const FuncState& func, std::span<const Value> args);
// The function generated adapters call for host imports (ws_host_binding::call).
void dispatch_host_call(ws_host_binding* binding, ws_val* io);
// The same for a host function with a direct path (FuncState::direct_host).
void dispatch_direct_host_call(ws_host_binding* binding, ws_val* io);

// "expects 2 arguments (i32, i32), got 3" checks, shared by every call path.
Status check_args(std::string_view what, const FuncType& type, std::span<const Value> args);

}  // namespace wasm_sandbox::detail
