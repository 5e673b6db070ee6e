// The four kinds of things a module imports and exports: functions, globals, memories and
// tables. Each is a cheap, copyable handle; copies share the same object, and a handle keeps
// alive whatever owns the object (the instance that exported it, or the host storage), except
// the ones Caller::memory() gives a host function for the duration of its call.
//
// Thread safety: handles may be copied and destroyed from any thread. Using one (calling a
// function, reading a memory) follows the rule of its owner: objects of one instance, and
// objects shared between instances, must not be used from two threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "wasm_sandbox/result.h"
#include "wasm_sandbox/value.h"

namespace wasm_sandbox {

namespace detail {
struct FuncState;
struct GlobalState;
struct MemoryState;
struct TableState;
struct InstanceState;
}  // namespace detail

class Memory;
template <class Sig>
class TypedFunc;

// What a host function sees of the instance that called it; valid only while the host
// function runs.
class Caller {
 public:
  explicit Caller(detail::InstanceState* instance) : instance_(instance) {}
  // The caller's exported memory "memory" (the convention). NotFound if there is none or the
  // caller is the host itself. Made for every host call: no allocation, no atomic reference
  // count, no name to compare (instantiation found the export).
  // The handle sees the memory as it is when used (growth included), but does not keep the
  // instance alive: use it only until the host function returns, and do not import it into
  // another instance (a Link error); Instance::memory() gives a handle that lives on.
  Result<Memory> memory() const;
  // The same for the caller's exported memory `name`, compared with the names of the memories
  // it exports.
  Result<Memory> memory(std::string_view name) const;
  // Whether the call the host function serves must stop: its deadline passed (an error with
  // TrapKind::Timeout) or it was interrupted (TrapKind::Interrupted, which this consumes).
  // A host function that blocks should check every few milliseconds and return the error,
  // which ends the guest call with that trap.
  Status check_interrupt() const;

 private:
  detail::InstanceState* instance_;
};

// A host function: reads `args` (already checked against its type) and writes every result
// (`results` has one slot per result type, zero-initialized with the right types). An error
// becomes a trap of kind HostError in the calling guest, carrying the message; an error whose
// trap() is Exit, Timeout, Interrupted or OutOfFuel becomes a trap of that kind.
using HostCallback =
    std::function<Status(Caller& caller, std::span<const Value> args, std::span<Value> results)>;

class Func {
 public:
  Func() = default;  // a null handle

  // A host function of an explicit type.
  static Func host(FuncType type, HostCallback callback);
  // A host function whose type comes from a C++ callable's signature; see host.h.
  template <class F>
  static Func wrap(F&& callable);

  bool is_null() const { return state_ == nullptr; }
  const FuncType& type() const;
  // Calls the function; arguments must match its parameter types.
  Result<std::vector<Value>> call(std::span<const Value> args) const;
  // A typed handle of this function (typed_func.h): the fastest way to call it.
  // InvalidArgument if its type is not Sig.
  template <class Sig>
  Result<TypedFunc<Sig>> typed() const;

 private:
  friend struct detail::FuncState;
  template <class Sig>
  friend class TypedFunc;
  explicit Func(std::shared_ptr<detail::FuncState> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::FuncState> state_;
};

class Global {
 public:
  Global() = default;
  // A host global holding `initial`, whose type must be type.type.
  static Result<Global> create(GlobalType type, Value initial);

  bool is_null() const { return state_ == nullptr; }
  GlobalType type() const;
  Value get() const;
  // InvalidArgument if the global is immutable or the value has the wrong type.
  Status set(Value value);

 private:
  friend struct detail::GlobalState;
  explicit Global(std::shared_ptr<detail::GlobalState> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::GlobalState> state_;
};

class Memory {
 public:
  Memory() = default;
  // A host memory of min_pages, growable to max_pages.
  static Result<Memory> create(MemoryType type);

  bool is_null() const { return state_ == nullptr; }
  // The declared type; min_pages is the current size.
  MemoryType type() const;
  uint32_t pages() const;
  uint64_t size() const;  // bytes
  // The base of the memory. It never moves while the memory lives (growth maps pages in
  // place), but only [data(), data() + size()) is accessible.
  uint8_t* data() const;
  // A bounds-checked view of [offset, offset + length), valid while the memory lives.
  // InvalidArgument if the range is not inside the memory.
  Result<std::span<uint8_t>> view(uint64_t offset, uint64_t length) const;
  // Grows by `delta` pages and returns the old page count; LimitExceeded past the maximum.
  Result<uint32_t> grow(uint32_t delta);

 private:
  friend struct detail::MemoryState;
  explicit Memory(std::shared_ptr<detail::MemoryState> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::MemoryState> state_;
};

class Table {
 public:
  Table() = default;
  // A host table of type.min null elements.
  static Result<Table> create(TableType type);

  bool is_null() const { return state_ == nullptr; }
  TableType type() const;  // min is the current size
  uint32_t size() const;
  Result<Value> get(uint32_t index) const;
  Status set(uint32_t index, Value value);
  // Grows by `delta` elements set to `init`; returns the old size.
  Result<uint32_t> grow(uint32_t delta, Value init);

 private:
  friend struct detail::TableState;
  explicit Table(std::shared_ptr<detail::TableState> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::TableState> state_;
};

using Extern = std::variant<Func, Global, Memory, Table>;

// The type of an extern, for listing and link checks.
ExternType extern_type(const Extern& value);

}  // namespace wasm_sandbox
