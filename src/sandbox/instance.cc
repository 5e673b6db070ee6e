// Instance: export lookup and calls; the lifetime of the instance memory block.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <optional>

#include "runtime/runtime.h"
#include "sandbox/state.h"
#include "sandbox/watchdog.h"

namespace wasm_sandbox {
namespace detail {

const ExportDesc* ModuleState::find_export(std::string_view name, size_t* index) const {
  auto it = export_index.find(name);
  if (it == export_index.end()) return nullptr;
  *index = it->second;
  return &info.exports[it->second];
}

InstanceState::~InstanceState() {
  // Out of the engine's list first, its counters kept: interrupt_all() writes to the flag,
  // which is in `raw`; then out of the watchdog's retries, which only calls and
  // interrupt_all() put it in.
  {
    std::lock_guard lock(engine->live_mutex);
    if (engine->live.erase(this) != 0) {
      engine->retired_calls += counters.calls.load(std::memory_order_relaxed);
      engine->retired_fuel += counters.fuel.load(std::memory_order_relaxed);
    }
  }
  if (stop.flag) forget_stop(stop);
  engine->instances.fetch_sub(1, std::memory_order_relaxed);
  if (needs_free) glue().free_instance(raw);
  std::free(raw);
}

void* InstanceState::export_storage(size_t index) const {
  auto getter = reinterpret_cast<void* (*)(void*)>(glue().exports[index].direct);
  return getter(raw);
}

void InstanceState::set_exported_memories() {
  const std::vector<size_t>& indices = module->memory_exports;
  if (indices.size() > 1) more_memories.resize(indices.size() - 1);  // never resized again
  for (size_t k = 0; k < indices.size(); ++k) {
    const ExportDesc& desc = module->info.exports[indices[k]];
    ExportedMemory& exported = k == 0 ? first_memory : more_memories[k - 1];
    exported.name = desc.name;
    exported.state.memory = static_cast<wasm_rt_memory_t*>(export_storage(indices[k]));
    exported.state.declared_max = desc.type.memory.max_pages;
    if (exported.name == "memory") memory_export = &exported;
  }
}

Extern InstanceState::export_extern(const std::shared_ptr<InstanceState>& self, size_t index) {
  const ExportDesc& desc = self->module->info.exports[index];
  switch (desc.type.kind) {
    case ExternKind::Func: {
      auto func = std::make_shared<FuncState>();
      func->type = desc.type.func;
      func->name = desc.name;
      func->export_index = index;
      func->direct = self->glue().exports[index].direct;
      func->context = self->raw;
      func->instance = self.get();
      func->group = self->group_ptr();
      return FuncState::handle(std::move(func));
    }
    case ExternKind::Global: {
      auto global = std::make_shared<GlobalState>();
      global->type = desc.type.global;
      global->cell = self->export_storage(index);
      global->group = self->group_ptr();
      return GlobalState::handle(std::move(global));
    }
    case ExternKind::Memory: {
      auto memory = std::make_shared<MemoryState>();
      memory->memory = static_cast<wasm_rt_memory_t*>(self->export_storage(index));
      memory->declared_max = desc.type.memory.max_pages;
      memory->group = self->group_ptr();
      return MemoryState::handle(std::move(memory));
    }
    case ExternKind::Table: {
      auto table = std::make_shared<TableState>();
      table->element = desc.type.table.element;
      table->declared_max = desc.type.table.max;
      table->table = self->export_storage(index);
      table->group = self->group_ptr();
      return TableState::handle(std::move(table));
    }
  }
  return Func();
}

}  // namespace detail

namespace {

template <class T>
Result<T> export_as(const Result<Extern>& ext, std::string_view module, std::string_view name,
                    const char* kind) {
  if (!ext) return ext.error();
  if (auto* value = std::get_if<T>(&*ext)) return *value;
  return Error(ErrorKind::NotFound,
               std::string(module) + ": export `" + std::string(name) + "` is not a " + kind);
}

}  // namespace

const std::string& Instance::name() const { return state_->module->info.name; }
std::span<const ExportDesc> Instance::exports() const { return state_->module->info.exports; }

Tier Instance::tier() const {
  const detail::ModuleCode& code = *state_->module->code;
  const bool optimized = code.first_is_optimized || state_->code != code.first.get();
  return optimized ? Tier::Optimized : Tier::Baseline;
}

Result<Extern> Instance::get_export(std::string_view name) const {
  size_t index;
  if (!state_->module->find_export(name, &index)) {
    return Error(ErrorKind::NotFound,
                 this->name() + ": no export named `" + std::string(name) + "`");
  }
  return detail::InstanceState::export_extern(state_, index);
}

Result<Func> Instance::func(std::string_view name) const {
  return export_as<Func>(get_export(name), this->name(), name, "function");
}
Result<Global> Instance::global(std::string_view name) const {
  return export_as<Global>(get_export(name), this->name(), name, "global");
}
Result<Memory> Instance::memory(std::string_view name) const {
  return export_as<Memory>(get_export(name), this->name(), name, "memory");
}
Result<Table> Instance::table(std::string_view name) const {
  return export_as<Table>(get_export(name), this->name(), name, "table");
}

// --- Safety controls

uint64_t Instance::fuel() const {
  return state_->fuel ? static_cast<uint64_t>(std::max<int64_t>(*state_->fuel, 0)) : 0;
}

uint64_t Instance::fuel_consumed() const { return state_->fuel ? state_->fuel_added - fuel() : 0; }

Status Instance::set_fuel(uint64_t fuel) const {
  if (!state_->fuel) {
    return Error(ErrorKind::InvalidArgument,
                 name() + ": the engine does not meter fuel (EngineConfig::fuel)");
  }
  const int64_t value = static_cast<int64_t>(std::min<uint64_t>(fuel, INT64_MAX));
  state_->fuel_added += static_cast<uint64_t>(value) - this->fuel();
  *state_->fuel = value;
  return {};
}

Status Instance::add_fuel(uint64_t fuel) const {
  if (!state_->fuel) return set_fuel(0);
  return set_fuel(this->fuel() + std::min<uint64_t>(fuel, INT64_MAX - this->fuel()));
}

Status Instance::set_timeout(std::chrono::milliseconds timeout) const {
  if (!state_->stop.flag) {
    return Error(ErrorKind::InvalidArgument,
                 name() + ": timeouts need an interruptible engine (EngineConfig::interruptible)");
  }
  state_->timeout = std::max(timeout, std::chrono::milliseconds(0));
  return {};
}

void Instance::interrupt() const {
  detail::StopControl& stop = state_->stop;
  if (stop.flag && stop.request(runtime::kFlagInterrupt)) detail::retry_stop(stop);
}

Result<std::vector<Value>> Instance::call(std::string_view name,
                                          std::span<const Value> args) const {
  size_t index;
  const ExportDesc* desc = state_->module->find_export(name, &index);
  if (!desc) {
    return Error(ErrorKind::NotFound,
                 this->name() + ": no export named `" + std::string(name) + "`");
  }
  if (desc->type.kind != ExternKind::Func) {
    return Error(ErrorKind::NotFound, this->name() + ": export `" + std::string(name) + "` is a " +
                                          to_string(desc->type.kind) + ", not a function");
  }
  return detail::call_guest(desc->type.func, index, *state_, desc->name, args);
}

std::vector<Result<std::vector<Value>>> Instance::call_batch(
    std::string_view name, std::span<const std::vector<Value>> arg_sets) const {
  auto func = this->func(name);
  if (!func) {
    return std::vector<Result<std::vector<Value>>>(arg_sets.size(), func.error());
  }
  const auto& state = detail::FuncState::of(*func);
  return detail::call_guest_batch(state->type, state->export_index, *state_, state->name, arg_sets);
}

std::future<Result<std::vector<Value>>> Instance::call_async(std::string name,
                                                             std::vector<Value> args) const {
  auto promise = std::make_shared<std::promise<Result<std::vector<Value>>>>();
  auto future = promise->get_future();
  // The instance is let go before the future is ready: once the host has the result, no
  // worker holds the instance (or, through it, the engine) any more.
  state_->strand->post([self = std::optional<Instance>(*this), name = std::move(name),
                        args = std::move(args), promise]() mutable {
    auto result = self->call(name, args);
    self.reset();
    promise->set_value(std::move(result));
  });
  return future;
}

// --- Imports

Imports& Imports::add(std::string module, std::string name, Extern value) {
  entries_.insert_or_assign({std::move(module), std::move(name)}, std::move(value));
  return *this;
}

Imports& Imports::add_instance(const std::string& module, const Instance& instance) {
  for (size_t i = 0; i < instance.exports().size(); ++i) {
    add(module, instance.exports()[i].name,
        detail::InstanceState::export_extern(instance.state_, i));
  }
  return *this;
}

const Extern* Imports::find(std::string_view module, std::string_view name) const {
  auto it = entries_.find(std::make_pair(std::string(module), std::string(name)));
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace wasm_sandbox
