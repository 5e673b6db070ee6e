// Func, Global, Memory and Table handles.
#include <cstring>

#include "runtime/memory.h"
#include "runtime/runtime.h"
#include "sandbox/state.h"

namespace wasm_sandbox {
namespace {

size_t cell_size(ValType type) {
  switch (type) {
    case ValType::I32:
    case ValType::F32:
      return 4;
    case ValType::I64:
    case ValType::F64:
      return 8;
    case ValType::FuncRef:
      return sizeof(wasm_rt_funcref_t);
    case ValType::ExternRef:
      return sizeof(wasm_rt_externref_t);
  }
  return 8;
}

}  // namespace

// --- Func

Func Func::host(FuncType type, HostCallback callback) {
  auto state = std::make_shared<detail::FuncState>();
  state->type = std::move(type);
  state->name = "host function " + state->type.to_string();
  state->callback = std::move(callback);
  return Func(std::move(state));
}

Func detail::host_with_direct_path(FuncType type, HostCallback callback,
                                   std::shared_ptr<void> callable, DirectHostFn direct) {
  Func func = Func::host(std::move(type), std::move(callback));
  FuncState::of(func)->direct_host = direct;
  FuncState::of(func)->direct_callable = std::move(callable);
  return func;
}

const FuncType& Func::type() const {
  static const FuncType kNone;
  return state_ ? state_->type : kNone;
}

Result<std::vector<Value>> Func::call(std::span<const Value> args) const {
  if (!state_) return Error(ErrorKind::InvalidArgument, "call of a null function handle");
  if (state_->is_host()) return detail::call_host(*state_, args);
  return detail::call_guest(state_->type, state_->export_index, *state_->instance, state_->name,
                            args);
}

// --- TypedFunc (typed_func.h)

namespace detail {

Status check_signature(const Func& func, const FuncType& want) {
  const FuncState& state = *FuncState::of(func);
  if (state.type.params == want.params && state.type.results == want.results) return {};
  const std::string name =
      state.is_host() ? state.name : state.instance->module->info.name + ": `" + state.name + "`";
  return Error(ErrorKind::InvalidArgument,
               name + " has type " + state.type.to_string() + ", not " + want.to_string());
}

bool is_guest_function(const Func& func) { return !FuncState::of(func)->is_host(); }

void post_call(const Func& func, std::function<void()> task) {
  const FuncState& state = *FuncState::of(func);
  if (state.is_host()) {
    run_on_worker(std::move(task));
  } else {
    state.instance->strand->post(std::move(task));
  }
}

}  // namespace detail

// --- Global

Result<Global> Global::create(GlobalType type, Value initial) {
  if (initial.type() != type.type) {
    return Error(ErrorKind::InvalidArgument, std::string("global of type ") + to_string(type.type) +
                                                 " cannot hold " + initial.to_string());
  }
  auto storage = std::make_shared<detail::HostGlobal>();
  storage->cell = detail::to_ws(initial);
  auto state = std::make_shared<detail::GlobalState>();
  state->type = type;
  state->cell = &storage->cell;
  state->group = detail::make_group(std::move(storage));
  return Global(std::move(state));
}

GlobalType Global::type() const { return state_ ? state_->type : GlobalType{}; }

Value Global::get() const {
  if (!state_) return Value();
  ws_val value{};
  std::memcpy(&value, state_->cell, cell_size(state_->type.type));
  return detail::from_ws(state_->type.type, value);
}

Status Global::set(Value value) {
  if (!state_) return Error(ErrorKind::InvalidArgument, "set of a null global handle");
  if (!state_->type.is_mutable) {
    return Error(ErrorKind::InvalidArgument, "global is immutable");
  }
  if (value.type() != state_->type.type) {
    return Error(ErrorKind::InvalidArgument, std::string("global of type ") +
                                                 to_string(state_->type.type) + " cannot hold " +
                                                 value.to_string());
  }
  ws_val raw = detail::to_ws(value);
  std::memcpy(state_->cell, &raw, cell_size(state_->type.type));
  return {};
}

// --- Memory

detail::HostMemory::~HostMemory() { runtime::free_memory(&memory); }

Result<Memory> Memory::create(MemoryType type) {
  if (type.max_pages && *type.max_pages < type.min_pages) {
    return Error(ErrorKind::InvalidArgument, "memory " + type.to_string() + ": max below min");
  }
  auto storage = std::make_shared<detail::HostMemory>();
  if (!runtime::allocate_memory(&storage->memory, type.min_pages,
                                type.max_pages.value_or(runtime::kMaxPages))) {
    return Error(ErrorKind::LimitExceeded, "memory " + type.to_string() +
                                               ": cannot allocate (at most " +
                                               std::to_string(runtime::kMaxPages) + " pages)");
  }
  auto state = std::make_shared<detail::MemoryState>();
  state->memory = &storage->memory;
  state->declared_max = type.max_pages;
  state->group = detail::make_group(std::move(storage));
  return Memory(std::move(state));
}

MemoryType Memory::type() const {
  if (!state_) return {};
  return MemoryType{state_->memory->pages, state_->declared_max};
}
uint32_t Memory::pages() const { return state_ ? state_->memory->pages : 0; }
uint64_t Memory::size() const { return state_ ? state_->memory->size : 0; }
uint8_t* Memory::data() const { return state_ ? state_->memory->data : nullptr; }

Result<std::span<uint8_t>> Memory::view(uint64_t offset, uint64_t length) const {
  const uint64_t size = this->size();
  if (offset > size || length > size - offset) {
    return Error(ErrorKind::InvalidArgument,
                 "range [" + std::to_string(offset) + ", " + std::to_string(offset + length) +
                     ") is outside the memory of " + std::to_string(size) + " bytes");
  }
  return std::span<uint8_t>(data() + offset, length);
}

Result<uint32_t> Memory::grow(uint32_t delta) {
  if (!state_) return Error(ErrorKind::InvalidArgument, "grow of a null memory handle");
  const uint32_t old = runtime::grow_memory(state_->memory, delta);
  if (old == UINT32_MAX) {
    return Error(ErrorKind::LimitExceeded, "memory cannot grow from " + std::to_string(pages()) +
                                               " by " + std::to_string(delta) + " pages (maximum " +
                                               std::to_string(state_->memory->max_pages) + ")");
  }
  return old;
}

// --- Table

detail::HostTable::~HostTable() {
  runtime::free_table(&funcrefs);
  runtime::free_table(&externrefs);
}

uint32_t detail::TableState::size() const {
  return element == ValType::FuncRef ? static_cast<wasm_rt_funcref_table_t*>(table)->size
                                     : static_cast<wasm_rt_externref_table_t*>(table)->size;
}

Result<Table> Table::create(TableType type) {
  if (type.element != ValType::FuncRef && type.element != ValType::ExternRef) {
    return Error(ErrorKind::InvalidArgument,
                 "table " + type.to_string() + ": not a reference type");
  }
  auto storage = std::make_shared<detail::HostTable>();
  const uint32_t max = type.max.value_or(UINT32_MAX);
  const bool ok = type.element == ValType::FuncRef
                      ? runtime::allocate_table(&storage->funcrefs, type.min, max)
                      : runtime::allocate_table(&storage->externrefs, type.min, max);
  if (!ok) {
    return Error(ErrorKind::LimitExceeded, "table " + type.to_string() + ": cannot allocate");
  }
  auto state = std::make_shared<detail::TableState>();
  state->element = type.element;
  state->declared_max = type.max;
  state->table = type.element == ValType::FuncRef ? static_cast<void*>(&storage->funcrefs)
                                                  : static_cast<void*>(&storage->externrefs);
  state->group = detail::make_group(std::move(storage));
  return Table(std::move(state));
}

TableType Table::type() const {
  if (!state_) return {};
  return TableType{state_->element, state_->size(), state_->declared_max};
}

uint32_t Table::size() const { return state_ ? state_->size() : 0; }

Result<Value> Table::get(uint32_t index) const {
  if (index >= size()) {
    return Error(ErrorKind::InvalidArgument, "table index " + std::to_string(index) +
                                                 " is out of bounds (size " +
                                                 std::to_string(size()) + ")");
  }
  ws_val value{};
  if (state_->element == ValType::FuncRef) {
    value.funcref = static_cast<wasm_rt_funcref_table_t*>(state_->table)->data[index];
  } else {
    value.externref = static_cast<wasm_rt_externref_table_t*>(state_->table)->data[index];
  }
  return detail::from_ws(state_->element, value);
}

Status Table::set(uint32_t index, Value value) {
  if (index >= size()) {
    return Error(ErrorKind::InvalidArgument, "table index " + std::to_string(index) +
                                                 " is out of bounds (size " +
                                                 std::to_string(size()) + ")");
  }
  if (value.type() != state_->element) {
    return Error(ErrorKind::InvalidArgument, std::string("table of ") + to_string(state_->element) +
                                                 " cannot hold " + value.to_string());
  }
  const ws_val raw = detail::to_ws(value);
  if (state_->element == ValType::FuncRef) {
    static_cast<wasm_rt_funcref_table_t*>(state_->table)->data[index] = raw.funcref;
  } else {
    static_cast<wasm_rt_externref_table_t*>(state_->table)->data[index] = raw.externref;
  }
  return {};
}

Result<uint32_t> Table::grow(uint32_t delta, Value init) {
  if (!state_) return Error(ErrorKind::InvalidArgument, "grow of a null table handle");
  if (init.type() != state_->element) {
    return Error(ErrorKind::InvalidArgument, std::string("table of ") + to_string(state_->element) +
                                                 " cannot hold " + init.to_string());
  }
  const ws_val raw = detail::to_ws(init);
  const uint32_t old =
      state_->element == ValType::FuncRef
          ? runtime::grow_table(static_cast<wasm_rt_funcref_table_t*>(state_->table), delta,
                                raw.funcref)
          : runtime::grow_table(static_cast<wasm_rt_externref_table_t*>(state_->table), delta,
                                raw.externref);
  if (old == UINT32_MAX) {
    return Error(ErrorKind::LimitExceeded, "table cannot grow from " + std::to_string(size()) +
                                               " by " + std::to_string(delta) + " elements");
  }
  return old;
}

// --- Extern and Caller

ExternType extern_type(const Extern& value) {
  ExternType type;
  if (auto* f = std::get_if<Func>(&value)) {
    type.kind = ExternKind::Func;
    type.func = f->type();
  } else if (auto* g = std::get_if<Global>(&value)) {
    type.kind = ExternKind::Global;
    type.global = g->type();
  } else if (auto* m = std::get_if<Memory>(&value)) {
    type.kind = ExternKind::Memory;
    type.memory = m->type();
  } else if (auto* t = std::get_if<Table>(&value)) {
    type.kind = ExternKind::Table;
    type.table = t->type();
  }
  return type;
}

Status Caller::check_interrupt() const {
  if (!instance_) return {};
  const TrapKind stop = detail::pending_stop(*instance_);
  if (stop == TrapKind::None) return {};
  return Error(ErrorKind::Trap, to_string(stop), stop);
}

// Both return a handle to the instance's own ExportedMemory, which the handle does not own:
// a Caller is only valid during the host call, while the instance is running. No allocation,
// no atomic reference count, and no map lookup.
Result<Memory> Caller::memory() const {
  if (instance_ && instance_->memory_export) [[likely]] {
    return detail::MemoryState::borrowed(&instance_->memory_export->state);
  }
  return memory("memory");  // its error
}

Result<Memory> Caller::memory(std::string_view name) const {
  if (!instance_) return Error(ErrorKind::NotFound, "the caller is the host: it has no memory");
  detail::ExportedMemory& first = instance_->first_memory;
  if (first.state.memory && first.name == name) return detail::MemoryState::borrowed(&first.state);
  for (detail::ExportedMemory& exported : instance_->more_memories) {
    if (exported.name == name) return detail::MemoryState::borrowed(&exported.state);
  }
  return Error(ErrorKind::NotFound,
               instance_->module->info.name + " exports no memory `" + std::string(name) + "`");
}

}  // namespace wasm_sandbox
