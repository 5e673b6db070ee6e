// Module: the interface accessors, and instantiation (linking imports, running the start code).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "runtime/dense_memory.h"
#include "runtime/memory.h"
#include "runtime/runtime.h"
#include "sandbox/state.h"

namespace wasm_sandbox {
namespace {

std::string import_name(const ImportDesc& import) {
  return "import " + import.module + "." + import.name;
}

bool limits_match(uint64_t given_min, std::optional<uint64_t> given_max, uint64_t want_min,
                  std::optional<uint64_t> want_max) {
  if (given_min < want_min) return false;
  if (!want_max) return true;
  return given_max && *given_max <= *want_max;
}

// Checks one import against what the host provides (the spec's import matching rules).
Status check_import(const std::string& module_name, const ImportDesc& want, const Extern& given) {
  const ExternType given_type = extern_type(given);
  bool ok = given_type.kind == want.type.kind;
  if (ok) {
    switch (want.type.kind) {
      case ExternKind::Func:
        ok = given_type.func == want.type.func;
        break;
      case ExternKind::Global:
        ok = given_type.global == want.type.global;
        break;
      case ExternKind::Memory: {
        const MemoryType& g = given_type.memory;
        const MemoryType& w = want.type.memory;
        ok = limits_match(g.min_pages, g.max_pages, w.min_pages, w.max_pages);
        break;
      }
      case ExternKind::Table: {
        const TableType& g = given_type.table;
        const TableType& w = want.type.table;
        ok = g.element == w.element && limits_match(g.min, g.max, w.min, w.max);
        break;
      }
    }
  }
  if (ok) return {};
  return Error(ErrorKind::Link, module_name + ": " + import_name(want) + ": expected " +
                                    want.type.to_string() + ", got " + given_type.to_string());
}

void* aligned_zeroed(size_t size) {
  const size_t rounded = (size + 63) & ~size_t{63};
  void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (p) std::memset(p, 0, rounded == 0 ? 64 : rounded);
  return p;
}

void run_instantiate(void* arg) {
  auto* state = static_cast<detail::InstanceState*>(arg);
  state->glue().instantiate(state->raw);
}

void run_start(void* arg) {
  auto* state = static_cast<detail::InstanceState*>(arg);
  state->glue().start(state->raw);
}

}  // namespace

const std::string& Module::name() const { return state_->info.name; }
std::span<const ImportDesc> Module::imports() const { return state_->info.imports; }
std::span<const ExportDesc> Module::exports() const { return state_->info.exports; }
std::span<const MemoryType> Module::memories() const { return state_->info.memories; }
std::span<const TableType> Module::tables() const { return state_->info.tables; }
size_t Module::function_count() const { return state_->info.function_count; }
size_t Module::wasm_size() const { return state_->info.wasm_size; }
const CompileStats& Module::stats() const { return state_->stats; }

Tier Module::tier() const {
  const detail::ModuleCode& code = *state_->code;
  const bool optimized = code.first_is_optimized || code.best.load() != code.first.get();
  return optimized ? Tier::Optimized : Tier::Baseline;
}

Status Module::optimize() const { return detail::optimize_now(*state_); }

Result<Instance> Module::instantiate(const Imports& imports) const {
  return instantiate(imports, state_->engine->config.limits);
}

Result<Instance> Module::instantiate(const Imports& imports, const Limits& limits) const {
  const engine::ModuleInfo& info = state_->info;
  detail::EngineState& engine = *state_->engine;
  const uint64_t max_pages64 = limits.memory_bytes / runtime::kPageSize;
  const uint32_t max_pages =
      static_cast<uint32_t>(std::min<uint64_t>(max_pages64, runtime::kMaxPages));
  const uint32_t max_elements = std::min(limits.table_elements, runtime::kMaxTableElements);
  for (const MemoryType& memory : info.memories) {
    if (memory.min_pages > max_pages) {
      return Error(ErrorKind::LimitExceeded,
                   info.name + ": a memory of " + std::to_string(memory.min_pages) +
                       " pages exceeds the limit of " + std::to_string(max_pages) +
                       " pages (Limits::memory_bytes)");
    }
  }
  for (const TableType& table : info.tables) {
    if (table.min > max_elements) {
      return Error(ErrorKind::LimitExceeded,
                   info.name + ": a table of " + std::to_string(table.min) +
                       " elements exceeds the limit of " + std::to_string(max_elements) +
                       " (Limits::table_elements)");
    }
  }
  if (limits.call_timeout.count() > 0 && !engine.config.interruptible) {
    return Error(ErrorKind::InvalidArgument,
                 info.name + ": Limits::call_timeout needs EngineConfig::interruptible");
  }

  // Check every import before touching anything, so a link error leaves no trace.
  std::vector<const Extern*> given(info.imports.size());
  for (size_t k = 0; k < info.imports.size(); ++k) {
    const ImportDesc& want = info.imports[k];
    given[k] = imports.find(want.module, want.name);
    if (!given[k]) {
      return Error(ErrorKind::Link, info.name + ": " + import_name(want) + " (" +
                                        want.type.to_string() + ") is not provided");
    }
    if (std::visit([](const auto& handle) { return handle.is_null(); }, *given[k])) {
      return Error(ErrorKind::Link, info.name + ": " + import_name(want) + " (" +
                                        want.type.to_string() +
                                        ") is given an empty handle (a default-constructed " +
                                        to_string(want.type.kind) + ")");
    }
    if (Status s = check_import(info.name, want, *given[k]); !s) return std::move(s).error();
    const auto* memory = std::get_if<Memory>(given[k]);
    // Caller::memory()'s handle does not keep its instance alive, so cannot tie it to this
    // one (it has no group).
    if (memory && !detail::MemoryState::of(*memory)->group) {
      return Error(ErrorKind::Link, info.name + ": " + import_name(want) +
                                        " is a memory from Caller::memory(), valid only during "
                                        "its host call: import Instance::memory() instead");
    }
    // Code without bounds checks relies on a memory's guard region, which a dense memory
    // (another engine's, in MemoryMode::Dense) does not have.
    if (memory && engine.config.memory_mode == MemoryMode::GuardPages &&
        runtime::is_dense_memory(memory->data())) {
      return Error(ErrorKind::Link,
                   info.name + ": " + import_name(want) +
                       " is a dense memory (MemoryMode::Dense), which code compiled for guard "
                       "pages cannot use");
    }
  }

  if (engine.instances.fetch_add(1, std::memory_order_relaxed) >= engine.config.limits.instances) {
    engine.instances.fetch_sub(1, std::memory_order_relaxed);
    return Error(ErrorKind::LimitExceeded, info.name + ": the engine already has " +
                                               std::to_string(engine.config.limits.instances) +
                                               " instances, its limit (Limits::instances)");
  }
  const auto began = std::chrono::steady_clock::now();
  auto state = std::make_shared<detail::InstanceState>();
  state->module = state_;
  state->engine = &engine;
  {
    std::lock_guard lock(engine.live_mutex);
    engine.live.insert(state.get());
  }
  state->timeout = limits.call_timeout;
  state->stack_bytes = runtime::usable_stack_bytes(limits.stack_bytes);
  state->module_code = state_->code.get();
  state->code = state_->code->best.load(std::memory_order_acquire);
  state->raw = aligned_zeroed(state->glue().instance_size);
  if (!state->raw) return Error(ErrorKind::LimitExceeded, info.name + ": out of memory");
  state->bindings.resize(info.imports.size());
  const std::shared_ptr<detail::Group> group = detail::make_group(state);
  state->group = group;
  ws_slot* slots = state->slots();
  for (size_t k = 0; k < info.imports.size(); ++k) {
    ws_slot& slot = slots[k];
    if (auto* f = std::get_if<Func>(given[k])) {
      const auto& func = detail::FuncState::of(*f);
      if (func->is_host()) {
        detail::HostBinding& binding = state->bindings[k];
        binding.header.call =
            func->direct_host ? detail::dispatch_direct_host_call : detail::dispatch_host_call;
        binding.func = func.get();
        binding.caller = state.get();
        binding.import = &info.imports[k];
        slot = {state->glue().host_adapters[k], &binding};
        state->host_functions.push_back(func);
      } else {
        slot = {func->direct, func->context};
        detail::merge_groups(group, func->group);
      }
    } else if (auto* g = std::get_if<Global>(given[k])) {
      const auto& global = detail::GlobalState::of(*g);
      slot = {nullptr, global->cell};
      detail::merge_groups(group, global->group);
    } else if (auto* m = std::get_if<Memory>(given[k])) {
      const auto& memory = detail::MemoryState::of(*m);
      slot = {nullptr, memory->memory};
      detail::merge_groups(group, memory->group);
    } else if (auto* t = std::get_if<Table>(given[k])) {
      const auto& table = detail::TableState::of(*t);
      slot = {nullptr, table->table};
      detail::merge_groups(group, table->group);
    }
  }

  state->needs_free = true;
  detail::ModuleCode& code = *state_->code;
  const bool dense = engine.config.memory_mode == MemoryMode::Dense;
  runtime::AllocationLimits allocation{max_pages,
                                       max_elements,
                                       &engine.memory,
                                       {},
                                       dense ? nullptr : &code.memories,
                                       dense ? nullptr : code.image.load(std::memory_order_acquire),
                                       nullptr,
                                       dense};
  TrapKind trap;
  {
    runtime::ScopedAllocationLimits scope(&allocation);
    trap = runtime::run_guarded(run_instantiate, state.get(), limits.stack_bytes);
  }
  if (trap != TrapKind::None && !allocation.failure.empty()) {
    (void)runtime::take_trap_message();
    return Error(ErrorKind::LimitExceeded, info.name + ": " + allocation.failure);
  }
  // Even after a trap in segment initialization (functions it stored in tables stay
  // callable, see below): the memories are in place by then.
  state->set_exported_memories();
  // The first instance to get this far gives its memory, as the data segments left it and
  // before the start function runs, to every later one (runtime::MemoryImage).
  if (trap == TrapKind::None && info.memory_image && engine.config.pool.memory_images && !dense &&
      !allocation.image && allocation.first_memory) {
    const wasm_rt_memory_t& memory = *allocation.first_memory;
    std::call_once(code.image_once, [&] {
      code.image_storage = runtime::MemoryImage::create(memory.data, memory.size);
      code.image.store(code.image_storage.get(), std::memory_order_release);
    });
  }
  // Even after a trap in segment initialization: functions the instance already stored in
  // imported tables stay callable (see below), and run metered and interruptible. wasm2c
  // initializes globals, the counters included, before any segment.
  {
    const ws_glue& glue = state->glue();
    if (glue.fuel) {
      state->fuel = static_cast<int64_t*>(glue.fuel(state->raw));
      *state->fuel = static_cast<int64_t>(std::min<uint64_t>(limits.fuel, INT64_MAX));
      state->fuel_added = static_cast<uint64_t>(*state->fuel);
    }
    if (glue.flag) {
      // Under live_mutex: interrupt_all() reads it from the list the instance is in already.
      std::lock_guard lock(engine.live_mutex);
      state->stop.flag = static_cast<uint32_t*>(glue.flag(state->raw));
    }
    if (glue.start && trap == TrapKind::None) {
      trap = detail::run_on_instance(*state, run_start, state.get());
    }
  }
  if (trap != TrapKind::None) {
    std::string message = info.name + ": instantiation trapped: " + to_string(trap);
    if (std::string detail = runtime::take_trap_message(); !detail.empty()) {
      message += ": " + detail;
    }
    message += detail::trap_detail(trap, *state);
    engine.metrics.count_trap(trap);
    // Functions this instance stored in imported tables before the trap stay callable (the
    // spec says so): the instance lives on in its group, which the tables' groups now share.
    return Error(ErrorKind::Trap, std::move(message), trap);
  }
  engine.metrics.instantiate.record(detail::nanos_between(began, std::chrono::steady_clock::now()));
  // The handle shares ownership of the group, which owns the instance.
  return Instance(std::shared_ptr<detail::InstanceState>(group, state.get()));
}

}  // namespace wasm_sandbox
