// Crossing the boundary: host -> guest calls under trap recovery, and guest -> host calls
// through the adapters generated for host imports.
//
// A trap longjmps over every frame between the trapping guest code and run_guarded(), so no
// frame in between may own a C++ object with a destructor: call_guest() converts values
// before and after the guarded region only, and dispatch_host_call() does all its C++ work in
// invoke_host(), which has returned before a HostError trap is raised.
#include <algorithm>
#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "runtime/runtime.h"
#include "sandbox/state.h"

namespace wasm_sandbox::detail {
namespace {

constexpr size_t kInlineValues = 16;

struct GuestCall {
  ws_entry_fn entry;
  void* instance;
  ws_val* io;
};

void run_guest_call(void* arg) {
  auto* call = static_cast<GuestCall*>(arg);
  call->entry(call->instance, call->io);
}

std::string types_string(const std::vector<ValType>& types) {
  std::string out = "(";
  for (size_t i = 0; i < types.size(); ++i)
    out += (i ? ", " : "") + std::string(to_string(types[i]));
  return out + ")";
}

std::string values_types_string(std::span<const Value> values) {
  std::string out = "(";
  for (size_t i = 0; i < values.size(); ++i) {
    out += (i ? ", " : "") + std::string(to_string(values[i].type()));
  }
  return out + ")";
}

// Set by invoke_host() when a host function fails, read by dispatch_host_call() and, for an
// exit, by call_guest().
thread_local std::string t_host_error;
thread_local int32_t t_exit_code;

std::string host_name(const HostBinding* binding) {
  return "host function " + binding->import->module + "." + binding->import->name;
}

// What a host function's error does to the guest call: Exit (status in t_exit_code), the
// Timeout, Interrupted or OutOfFuel it passes on, or HostError (message in t_host_error).
TrapKind host_failed(const HostBinding* binding, const Error& error) {
  switch (error.trap()) {
    case TrapKind::Exit:
      t_exit_code = error.exit_code();
      return TrapKind::Exit;
    case TrapKind::Timeout:
    case TrapKind::Interrupted:
    case TrapKind::OutOfFuel:
      return error.trap();
    default:
      t_host_error = host_name(binding) + ": " + error.message();
      return TrapKind::HostError;
  }
}

// Runs a host function for guest code. Returns TrapKind::None, or the trap to end the guest
// call with: HostError (message in t_host_error), Exit (status in t_exit_code), or the
// Timeout, Interrupted or OutOfFuel a host function passed on.
TrapKind invoke_host(HostBinding* binding, ws_val* io) {
  runtime::HostScope host_scope;
  const FuncState& func = *binding->func;
  const size_t params = func.type.params.size();
  const size_t results = func.type.results.size();
  std::array<Value, kInlineValues> inline_values;
  std::vector<Value> heap_values;
  Value* values = inline_values.data();
  if (params + results > kInlineValues) {
    heap_values.resize(params + results);
    values = heap_values.data();
  }
  for (size_t i = 0; i < params; ++i) values[i] = from_ws(func.type.params[i], io[i]);
  for (size_t i = 0; i < results; ++i) values[params + i] = Value::zero(func.type.results[i]);
  Caller caller(binding->caller);
  Status status = [&]() -> Status {
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
    try {
      return func.callback(caller, {values, params}, {values + params, results});
    } catch (const std::exception& e) {
      return Error(ErrorKind::Internal, std::string("threw an exception: ") + e.what());
    } catch (...) {
      return Error(ErrorKind::Internal, "threw an exception");
    }
#else
    return func.callback(caller, {values, params}, {values + params, results});
#endif
  }();
  if (!status) return host_failed(binding, status.error());
  for (size_t i = 0; i < results; ++i) {
    if (values[params + i].type() != func.type.results[i]) {
      t_host_error = host_name(binding) + ": returned " + to_string(values[params + i].type()) +
                     " for result " + std::to_string(i) + ", expected " +
                     to_string(func.type.results[i]);
      return TrapKind::HostError;
    }
    io[i] = to_ws(values[params + i]);
  }
  return TrapKind::None;
}

// The error a direct path handed over (fail_host_call()), until its dispatcher takes it.
thread_local std::optional<Error> t_direct_error;

// What a direct path's failure (t_direct_error) ends the guest call with.
[[gnu::noinline]] TrapKind direct_host_failed(HostBinding* binding) {
  const Error error = std::move(*t_direct_error);
  t_direct_error.reset();
  return host_failed(binding, error);
}

// invoke_host() for a host function with a direct path: no Values, no std::function.
// Inlined into its dispatcher, the hot path of every such call.
[[gnu::always_inline]] inline TrapKind invoke_host_directly(HostBinding* binding, ws_val* io) {
  runtime::HostScope host_scope;
  const FuncState& func = *binding->func;
  Caller caller(binding->caller);
  const TrapKind trap = func.direct_host(func.direct_callable.get(), caller, io);
  if (trap == TrapKind::None) [[likely]] {
    return trap;
  }
  return direct_host_failed(binding);
}

// After a host function returned to guest code: raises the trap it asked for, or the stop
// requested while it ran (the interrupt signal is not sent to host code, and does nothing
// there), which takes effect as it returns: one load per host call.
[[gnu::always_inline]] inline void finish_host_call(TrapKind trap) {
  if (trap != TrapKind::None) [[unlikely]] {
    if (trap == TrapKind::HostError) runtime::trap(trap, t_host_error);
    runtime::trap(trap);
  }
  if (uint32_t* flag = runtime::current_stop_flag();
      flag && std::atomic_ref<uint32_t>(*flag).load(std::memory_order_relaxed) != 0) [[unlikely]] {
    if (const TrapKind stop = runtime::take_stop(flag); stop != TrapKind::None) {
      runtime::trap(stop);
    }
  }
}

}  // namespace

Status check_args(std::string_view what, const FuncType& type, std::span<const Value> args) {
  bool match = args.size() == type.params.size();
  for (size_t i = 0; match && i < args.size(); ++i) match = args[i].type() == type.params[i];
  if (match) return {};
  return Error(ErrorKind::InvalidArgument,
               std::string(what) + " expects " + std::to_string(type.params.size()) + " argument" +
                   (type.params.size() == 1 ? "" : "s") + " " + types_string(type.params) +
                   ", got " + std::to_string(args.size()) + " " + values_types_string(args));
}

Error results_mismatch(std::string_view function, const std::vector<Value>& results,
                       const std::vector<ValType>& expected) {
  return Error(ErrorKind::InvalidArgument,
               "`" + std::string(function) + "` returns " + values_types_string(results) +
                   ", but the caller asked for " + types_string(expected));
}

namespace {

// The fuel an instance has left, for metering what a call consumed (0 if unmetered).
inline uint64_t fuel_left(const InstanceState& instance) {
  return instance.fuel ? static_cast<uint64_t>(std::max<int64_t>(*instance.fuel, 0)) : 0;
}

using RunFn = TrapKind (*)(InstanceState& instance, void (*fn)(void*), void* arg);

// run_counted()'s uncommon path: a call to time, or on an instance metered with fuel.
[[gnu::noinline]] TrapKind run_measured(InstanceState& instance, bool sampled, RunFn run,
                                        void (*fn)(void*), void* arg) {
  const uint64_t fuel_before = fuel_left(instance);
  const bool outermost = instance.depth.load(std::memory_order_relaxed) == 0;
  TrapKind trap;
  if (sampled) {
    const auto began = std::chrono::steady_clock::now();
    trap = run(instance, fn, arg);
    instance.engine->metrics.call_latency.record(
        nanos_between(began, std::chrono::steady_clock::now()));
  } else {
    trap = run(instance, fn, arg);
  }
  // Fuel is counted by the outermost call on the instance only (a nested call's is part of
  // it), and not when a host function added fuel during the call.
  if (const uint64_t fuel_after = fuel_left(instance); outermost && fuel_before > fuel_after) {
    instance.counters.add_fuel(fuel_before - fuel_after);
  }
  return trap;
}

// What every call from the host records in the engine's metrics (metrics.h) around
// run(instance, fn, arg): if `single` (one call, not a batch, which counts its calls
// itself), the call, and one time in kCallSampleEvery per instance its duration; and the fuel
// consumed. The common case costs a load and a store to the instance's own counter and two
// predictable branches before a tail call. (Traps are counted where they become errors,
// trap_error().)
[[gnu::always_inline]] inline TrapKind run_counted(InstanceState& instance, bool single, RunFn run,
                                                   void (*fn)(void*), void* arg) {
  const bool sampled = single && instance.counters.count_call();
  if (sampled || instance.fuel) [[unlikely]] {
    return run_measured(instance, sampled, run, fn, arg);
  }
  return run(instance, fn, arg);
}

// run_on_instance(), timed while the module's hotness is measured (Tier::Auto: time counts
// until the optimized compile starts).
TrapKind run_on_instance_timed(InstanceState& instance, void (*fn)(void*), void* arg) {
  if (!begin_timed_call(instance)) [[likely]] {
    return run_on_instance(instance, fn, arg);
  }
  const auto began = std::chrono::steady_clock::now();
  const TrapKind trap = run_on_instance(instance, fn, arg);
  end_timed_call(instance, nanos_between(began, std::chrono::steady_clock::now()));
  return trap;
}

// Runs fn(arg) as a call from the host into `instance`, counted (see run_counted() for
// `single`).
TrapKind enter_guest(InstanceState& instance, void (*fn)(void*), void* arg, bool single = true) {
  return run_counted(instance, single, run_on_instance_timed, fn, arg);
}

// What a call of `function` that ended with `trap` returns; counts the trap in the metrics.
[[gnu::cold]] Error trap_error(InstanceState& instance, std::string_view function, TrapKind trap) {
  instance.engine->metrics.count_trap(trap);
  const std::string name = instance.module->info.name + ": `" + std::string(function) + "`";
  if (trap == TrapKind::Exit) {
    Error exit = Error::exit(t_exit_code);
    return std::move(exit).with_context(name);
  }
  std::string message = name + " trapped: " + to_string(trap);
  if (std::string detail = runtime::take_trap_message(); !detail.empty()) {
    message += ": " + detail;
  }
  message += trap_detail(trap, instance);
  return Error(ErrorKind::Trap, std::move(message), trap);
}

}  // namespace

Result<std::vector<Value>> call_guest(const FuncType& type, size_t export_index,
                                      InstanceState& instance, std::string_view function,
                                      std::span<const Value> args) {
  auto name = [&] { return instance.module->info.name + ": `" + std::string(function) + "`"; };
  bool match = args.size() == type.params.size();
  for (size_t i = 0; match && i < args.size(); ++i) match = args[i].type() == type.params[i];
  if (!match) return check_args(name(), type, args).error();
  const size_t io_size = std::max<size_t>(1, std::max(type.params.size(), type.results.size()));
  std::array<ws_val, kInlineValues> inline_io;
  std::vector<ws_val> heap_io;
  ws_val* io = inline_io.data();
  if (io_size > kInlineValues) {
    heap_io.resize(io_size);
    io = heap_io.data();
  }
  for (size_t i = 0; i < args.size(); ++i) io[i] = to_ws(args[i]);
  const engine::NativeCode& code = prepare_call(instance);
  GuestCall call{code.glue().exports[export_index].entry, instance.raw, io};
  if (const TrapKind trap = enter_guest(instance, run_guest_call, &call); trap != TrapKind::None) {
    return trap_error(instance, function, trap);
  }
  std::vector<Value> results;
  results.reserve(type.results.size());
  for (size_t i = 0; i < type.results.size(); ++i)
    results.push_back(from_ws(type.results[i], io[i]));
  return results;
}

namespace {

// A batch (call_guest_batch()) as guest code runs it: calls `count` entries in a row from
// `next`, which survives a trap (it lives here, not in a register), so the host knows which
// call trapped and resumes after it.
struct GuestBatch {
  ws_entry_fn entry;
  void* instance;
  ws_val* io;
  size_t io_size;
  const bool* valid;  // per call: its arguments matched the type
  size_t next;
  size_t count;
};

void run_guest_batch(void* arg) {
  auto* batch = static_cast<GuestBatch*>(arg);
  for (; batch->next < batch->count; ++batch->next) {
    if (batch->valid[batch->next]) {
      batch->entry(batch->instance, batch->io + batch->next * batch->io_size);
    }
  }
}

// Traps that end the whole call from the host rather than one call of a batch.
bool ends_the_batch(TrapKind trap) {
  return trap == TrapKind::Timeout || trap == TrapKind::Interrupted ||
         trap == TrapKind::OutOfFuel || trap == TrapKind::Exit;
}

// The error of a call of a batch that a trap of call `stopped_at` kept from running.
Error not_called(const InstanceState& instance, std::string_view function, size_t stopped_at,
                 TrapKind trap) {
  return Error(ErrorKind::Trap,
               instance.module->info.name + ": `" + std::string(function) +
                   "` was not called: the batch stopped at call " + std::to_string(stopped_at) +
                   " (" + to_string(trap) + ")",
               trap);
}

// Runs a batch's calls *next .. count-1 (fn advances *next as each returns), entering guest
// code again after each trap, and returns the errors by call index, in order: the trapping
// call's, and when the trap ends the whole batch, a "not called" one for every later call
// (those `valid` marks, if given: the others have their own error already).
std::vector<std::pair<size_t, Error>> run_batch(InstanceState& instance, std::string_view function,
                                                void (*fn)(void*), void* arg, size_t* next,
                                                size_t count, const bool* valid) {
  std::vector<std::pair<size_t, Error>> errors;
  // Every call of the batch whose arguments matched counts, whether it runs or a trap ends
  // the batch first; a batch's duration is not a call's, so none is sampled for latency.
  uint64_t calls = count - *next;
  if (valid) calls = static_cast<uint64_t>(std::count(valid + *next, valid + count, true));
  instance.counters.add_calls(calls);
  while (*next < count) {
    const TrapKind trap = enter_guest(instance, fn, arg, /*single=*/false);
    if (trap == TrapKind::None) break;
    errors.emplace_back(*next, trap_error(instance, function, trap));
    if (ends_the_batch(trap)) {
      for (size_t k = *next + 1; k < count; ++k) {
        if (!valid || valid[k]) errors.emplace_back(k, not_called(instance, function, *next, trap));
      }
      break;
    }
    ++*next;
  }
  return errors;
}

}  // namespace

std::vector<Result<std::vector<Value>>> call_guest_batch(
    const FuncType& type, size_t export_index, InstanceState& instance, std::string_view function,
    std::span<const std::vector<Value>> arg_sets) {
  const size_t count = arg_sets.size();
  std::vector<Result<std::vector<Value>>> out;
  out.reserve(count);
  if (count == 0) return out;
  const size_t io_size = std::max<size_t>(1, std::max(type.params.size(), type.results.size()));
  std::vector<ws_val> io(count * io_size);
  std::unique_ptr<bool[]> valid(new bool[count]);
  std::vector<std::pair<size_t, Error>> errors;  // by call index, in order
  auto name = [&] { return instance.module->info.name + ": `" + std::string(function) + "`"; };
  for (size_t k = 0; k < count; ++k) {
    const std::vector<Value>& args = arg_sets[k];
    bool match = args.size() == type.params.size();
    for (size_t i = 0; match && i < args.size(); ++i) match = args[i].type() == type.params[i];
    valid[k] = match;
    if (!match) {
      errors.emplace_back(
          k, check_args(name() + " (call " + std::to_string(k) + " of the batch)", type, args)
                 .error());
      continue;
    }
    for (size_t i = 0; i < args.size(); ++i) io[k * io_size + i] = to_ws(args[i]);
  }
  const engine::NativeCode& code = prepare_call(instance);
  GuestBatch batch{code.glue().exports[export_index].entry,
                   instance.raw,
                   io.data(),
                   io_size,
                   valid.get(),
                   0,
                   count};
  const auto traps =
      run_batch(instance, function, run_guest_batch, &batch, &batch.next, count, valid.get());
  // Both lists are in call order; a call is in at most one (traps come from valid calls).
  size_t e = 0, t = 0;
  for (size_t k = 0; k < count; ++k) {
    if (e < errors.size() && errors[e].first == k) {
      out.emplace_back(std::move(errors[e++].second));
    } else if (t < traps.size() && traps[t].first == k) {
      out.emplace_back(std::move(traps[t++].second));
    } else {
      std::vector<Value> results;
      results.reserve(type.results.size());
      for (size_t i = 0; i < type.results.size(); ++i) {
        results.push_back(from_ws(type.results[i], io[k * io_size + i]));
      }
      out.emplace_back(std::move(results));
    }
  }
  return out;
}

TrapKind run_direct_unsettled(const FuncState& func, DirectCall& target, void (*thunk)(void*),
                              void* closure) {
  InstanceState& instance = *func.instance;
  target.instance = instance.raw;
  const engine::NativeCode& code = prepare_call(instance);
  target.function = code.glue().exports[func.export_index].direct;
  return enter_guest(instance, thunk, closure);
}

TrapKind run_direct_measured(const FuncState& func, DirectCall& target, void (*thunk)(void*),
                             void* closure, bool sampled) {
  InstanceState& instance = *func.instance;
  target.instance = instance.raw;
  target.function = instance.code->glue().exports[func.export_index].direct;
  return run_measured(instance, sampled, run_on_instance, thunk, closure);
}

std::vector<std::pair<size_t, Error>> run_direct_batch(const FuncState& func, DirectCall& target,
                                                       void (*thunk)(void*), void* closure,
                                                       size_t* next, size_t count) {
  InstanceState& instance = *func.instance;
  const engine::NativeCode& code = prepare_call(instance);
  target.function = code.glue().exports[func.export_index].direct;
  target.instance = instance.raw;
  return run_batch(instance, func.name, thunk, closure, next, count, nullptr);
}

Error direct_call_error(const FuncState& func, TrapKind trap) {
  return trap_error(*func.instance, func.name, trap);
}

Result<std::vector<Value>> call_host(const FuncState& func, std::span<const Value> args) {
  if (Status s = check_args(func.name, func.type, args); !s) return std::move(s).error();
  std::vector<Value> results;
  for (ValType t : func.type.results) results.push_back(Value::zero(t));
  Caller caller(nullptr);
  if (Status s = func.callback(caller, args, results); !s) {
    return std::move(s).error().with_context(func.name);
  }
  return results;
}

void dispatch_host_call(ws_host_binding* binding, ws_val* io) {
  finish_host_call(invoke_host(reinterpret_cast<HostBinding*>(binding), io));
}

// On a cache line of its own: the hot path of every call from guest code to a Func::wrap
// function. Where the linker happened to put it cost 0.28 ns of the 4.2 ns call
// (BM_GuestCallsHost, the same 52 instructions) when unrelated code moved it to 32 bytes past
// a 64-byte boundary.
[[gnu::aligned(64)]] void dispatch_direct_host_call(ws_host_binding* binding, ws_val* io) {
  finish_host_call(invoke_host_directly(reinterpret_cast<HostBinding*>(binding), io));
}

TrapKind fail_host_call(Error error) {
  t_direct_error.emplace(std::move(error));
  return TrapKind::HostError;
}

static_assert(sizeof(ws_val) == kIoStride, "host.h's frame layout must match glue_abi.h's");

ws_val to_ws(const Value& value) {
  ws_val out{};
  switch (value.type()) {
    case ValType::I32:
    case ValType::F32: {
      uint32_t bits = static_cast<uint32_t>(value.raw_bits());
      std::memcpy(&out, &bits, 4);
      break;
    }
    case ValType::I64:
    case ValType::F64: {
      uint64_t bits = value.raw_bits();
      std::memcpy(&out, &bits, 8);
      break;
    }
    case ValType::FuncRef: {
      FuncRef ref = value.funcref();
      out.funcref.func_type = ref.type_id;
      out.funcref.func = reinterpret_cast<wasm_rt_function_ptr_t>(ref.code);
      out.funcref.module_instance = ref.context;
      break;
    }
    case ValType::ExternRef:
      out.externref = value.externref();
      break;
  }
  return out;
}

Value from_ws(ValType type, const ws_val& value) {
  switch (type) {
    case ValType::I32:
    case ValType::F32: {
      uint32_t bits;
      std::memcpy(&bits, &value, 4);
      return Value::bits(type, bits);
    }
    case ValType::I64:
    case ValType::F64: {
      uint64_t bits;
      std::memcpy(&bits, &value, 8);
      return Value::bits(type, bits);
    }
    case ValType::FuncRef:
      return Value::funcref(FuncRef{value.funcref.func_type,
                                    reinterpret_cast<void (*)()>(value.funcref.func),
                                    value.funcref.module_instance});
    case ValType::ExternRef:
      return Value::externref(value.externref);
  }
  return Value();
}

}  // namespace wasm_sandbox::detail
