// Entering guest code on an instance's behalf: the per-call controls (stack limit, timeout,
// engine-wide interrupts) around runtime::run_guarded(), and what their traps say.
#include <algorithm>
#include <atomic>
#include <optional>

#include "runtime/runtime.h"
#include "sandbox/state.h"
#include "sandbox/watchdog.h"

namespace wasm_sandbox::detail {
namespace {

// The deadline of the call from the host that this thread is inside, if any: calls nested
// in it (guest -> host -> guest, on any instance) stop by it too.
thread_local Clock::time_point t_deadline = Clock::time_point::max();

// Book-keeping around one guarded call. Lives on the host side of run_guarded(), so a trap
// never skips its destructor.
class CallScope {
 public:
  explicit CallScope(InstanceState& instance) : instance_(instance), outer_deadline_(t_deadline) {
    // Calls on one instance are serialized by the host (or nested on this thread), so depth
    // is only written and read here.
    const uint32_t depth = instance.depth.load(std::memory_order_relaxed);
    instance.depth.store(depth + 1, std::memory_order_relaxed);
    if (instance.stop.flag) {
      // From here on, stops requested of the instance signal this thread.
      if (depth == 0) instance.stop.enter(instance.engine->interrupt_epoch.load());
      std::atomic_ref<uint32_t> bits(*instance.stop.flag);
      // A pending interrupt() stops this call before it starts (one that comes later finds
      // the thread recorded by enter()).
      if ((bits.load(std::memory_order_relaxed) & runtime::kFlagInterrupt) &&
          (bits.fetch_and(~runtime::kFlagInterrupt) & runtime::kFlagInterrupt)) {
        refused_ = TrapKind::Interrupted;
      }
    }
    if (instance.fuel && *instance.fuel <= 0) refused_ = TrapKind::OutOfFuel;
    Clock::time_point deadline = outer_deadline_;
    if (instance.timeout.count() > 0) {
      deadline = std::min(deadline, Clock::now() + instance.timeout);
    }
    if (instance.stop.flag && deadline != Clock::time_point::max()) {
      deadline_.emplace(instance.stop, deadline);
      t_deadline = deadline;
    }
  }

  ~CallScope() {
    deadline_.reset();
    t_deadline = outer_deadline_;
    const uint32_t depth = instance_.depth.load(std::memory_order_relaxed) - 1;
    instance_.depth.store(depth, std::memory_order_relaxed);
    // A deadline that passed, or an interrupt_all(), ends the whole call from the host; the
    // next one starts afresh (leave() clears both).
    if (instance_.stop.flag && depth == 0) instance_.stop.leave();
  }

  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

  // Why the call must not run at all: None, Interrupted (an interrupt() was pending) or
  // OutOfFuel (none left; leaf functions have no check that would notice).
  TrapKind refused() const { return refused_; }

 private:
  InstanceState& instance_;
  Clock::time_point outer_deadline_;
  std::optional<Deadline> deadline_;
  TrapKind refused_ = TrapKind::None;
};

// What CallScope does for the common call: the outermost on the instance, with no deadline
// (neither its own nor an enclosing call's). The hot path of every call from the host.
// `guarded` makes the guarded call (runtime::run_guarded_inline() or run_guarded_registers()).
// kMayMeter: whether the instance may meter fuel (false where the caller checked it does not).
template <bool kMayMeter, class Guarded>
[[gnu::always_inline]] inline TrapKind run_without_deadline(InstanceState& instance,
                                                            Guarded guarded) {
  TrapKind trap = TrapKind::None;
  StopControl& stop = instance.stop;
  if (stop.flag) {
    stop.enter(instance.engine->interrupt_epoch.load(std::memory_order_relaxed));
    std::atomic_ref<uint32_t> bits(*stop.flag);
    if ((bits.load(std::memory_order_relaxed) & runtime::kFlagInterrupt) &&
        (bits.fetch_and(~runtime::kFlagInterrupt) & runtime::kFlagInterrupt)) [[unlikely]] {
      trap = TrapKind::Interrupted;
    }
  }
  if (kMayMeter && instance.fuel && *instance.fuel <= 0) [[unlikely]] {
    trap = TrapKind::OutOfFuel;
  }
  if (trap == TrapKind::None) [[likely]] {
    instance.depth.store(1, std::memory_order_relaxed);
    trap = guarded(instance.stack_bytes, stop.flag);
    instance.depth.store(0, std::memory_order_relaxed);
  }
  if (stop.flag) stop.leave();
  return trap;
}

}  // namespace

// Whether a call on `instance` is the common one: the outermost on the instance, with no
// deadline of its own or of an enclosing call.
inline bool has_no_deadline(const InstanceState& instance) {
  return instance.depth.load(std::memory_order_relaxed) == 0 && instance.timeout.count() == 0 &&
         t_deadline == Clock::time_point::max();
}

TrapKind run_on_instance(InstanceState& instance, void (*fn)(void*), void* arg) {
  if (has_no_deadline(instance)) [[likely]] {
    return run_without_deadline<true>(instance, [&](size_t stack_bytes, uint32_t* flag) {
      return runtime::run_guarded_inline(fn, arg, stack_bytes, flag);
    });
  }
  CallScope scope(instance);
  if (scope.refused() != TrapKind::None) return scope.refused();
  return runtime::run_guarded(fn, arg, instance.stack_bytes, instance.stop.flag);
}

// The hot path of a TypedFunc call (typed_func.h), here so that all of it inlines into one
// function up to runtime::run_guarded().
TrapKind run_direct(const FuncState& func, DirectCall& target, void (*thunk)(void*),
                    void* closure) {
  InstanceState& instance = *func.instance;
  if (is_settled(instance) && has_no_deadline(instance)) [[likely]] {
    // Counted in the engine's metrics (call.cc, run_counted(), does the same for other calls).
    const bool sampled = instance.counters.count_call();
    if (sampled || instance.fuel) [[unlikely]] {
      return run_direct_measured(func, target, thunk, closure, sampled);
    }
    target.instance = instance.raw;
    target.function = instance.code->glue().exports[func.export_index].direct;
    return run_without_deadline<false>(instance, [&](size_t stack_bytes, uint32_t* flag) {
      return runtime::run_guarded_inline(thunk, closure, stack_bytes, flag);
    });
  }
  return run_direct_unsettled(func, target, thunk, closure);
}

namespace {

// run_direct_registers()'s uncommon paths go through a thunk, as run_direct()'s.
struct RegisterClosure {
  DirectCall target;  // filled in by run_direct_unsettled() or run_direct_measured()
  uint64_t* io;
};
void register_thunk(void* p) {
  auto* closure = static_cast<RegisterClosure*>(p);
  closure->io[0] = reinterpret_cast<uint64_t>(closure->target.instance);
  runtime::RegisterCall call{closure->target.function, closure->io};
  runtime::call_in_registers(&call);
}

}  // namespace

// run_direct() for a function of integers only: the arguments go from `io` straight into
// registers (runtime::run_guarded_registers()), with no thunk.
TrapKind run_direct_registers(const FuncState& func, uint64_t* io) {
  InstanceState& instance = *func.instance;
  if (is_settled(instance) && has_no_deadline(instance)) [[likely]] {
    const bool sampled = instance.counters.count_call();
    if (!sampled && !instance.fuel) [[likely]] {
      io[0] = reinterpret_cast<uint64_t>(instance.raw);
      void* const function = instance.code->glue().exports[func.export_index].direct;
      return run_without_deadline<false>(instance, [&](size_t stack_bytes, uint32_t* flag) {
        return runtime::run_guarded_registers(function, io, stack_bytes, flag);
      });
    }
    RegisterClosure closure{{}, io};
    return run_direct_measured(func, closure.target, register_thunk, &closure, sampled);
  }
  RegisterClosure closure{{}, io};
  return run_direct_unsettled(func, closure.target, register_thunk, &closure);
}

TrapKind pending_stop(InstanceState& instance) {
  if (t_deadline != Clock::time_point::max() && Clock::now() >= t_deadline) {
    return TrapKind::Timeout;
  }
  if (instance.stop.flag) {
    if (const TrapKind stop = runtime::take_stop(instance.stop.flag); stop != TrapKind::None) {
      return stop;
    }
  }
  // The caller's code may have been called directly by another instance's (an import linked
  // to an export): it runs as part of that instance's call, whose stops count too.
  uint32_t* running = runtime::current_stop_flag();
  if (running && running != instance.stop.flag) return runtime::take_stop(running);
  return TrapKind::None;
}

std::string trap_detail(TrapKind trap, const InstanceState& instance) {
  switch (trap) {
    case TrapKind::OutOfFuel:
      return " (all " + std::to_string(instance.fuel_added) + " units are spent, Limits::fuel)";
    case TrapKind::Timeout:
      if (instance.timeout.count() > 0) {
        return " (after " + std::to_string(instance.timeout.count()) + " ms, Limits::call_timeout)";
      }
      return " (the deadline of the enclosing call passed)";
    case TrapKind::Interrupted:
      return " (by Instance::interrupt or Engine::interrupt_all)";
    case TrapKind::StackExhausted:
      return " (" + std::to_string(instance.stack_bytes >> 10) + " KiB, Limits::stack_bytes)";
    default:
      return "";
  }
}

}  // namespace wasm_sandbox::detail
