// The runtime that generated code runs on: our implementation of the functions wasm-rt.h
// declares (traps, memories, tables, function types), plus what the host side needs to enter
// guest code safely.
//
// Model: guest code always runs on a per-thread *guest stack* (mmap'd, with a large guard
// region below it), entered through run_guarded(). A trap longjmps back to the innermost
// run_guarded() on the same thread; a SIGSEGV/SIGBUS raised while the thread executes guest
// code becomes a trap (a fault in the guard region of the guest stack is stack exhaustion,
// any other is an out-of-bounds access caught by a linear memory's guard pages). Every other
// fault is passed on to the handler the process had before. No signal mask is saved per call:
// a fault handler that turns a fault into a trap restores the mask the faulting code had.
//
// Stopping a running call (timeouts, interrupts) needs no polling in generated code: the host
// sets a bit in the call's stop flag (kFlag* below), then sends kInterruptSignal to the thread
// (interrupt_thread()). The handler turns it into a trap only if the thread is in guest mode,
// inside a guarded call with a stop flag that asks for a stop, and the interrupted instruction
// is generated code (code_ranges.h): never in the runtime, libc or a host function, which may
// hold locks. Otherwise it does nothing, and the host retries (sandbox/watchdog.h).
//
// Thread safety: every function here may be called from any thread. Each thread gets its own
// unwind target, guest stack and alternate signal stack, created on its first guarded call and
// freed when the thread exits.
#pragma once

#include <signal.h>
#include <wasm-rt.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/guest_thread.h"
#include "wasm_sandbox/result.h"

namespace wasm_sandbox::runtime {

// wasm_rt_register_func_type with the params' and results' types (wasm_rt_type_t values) in
// one array: the id of that signature, equal for equal signatures process-wide.
uint32_t register_func_type(uint32_t params, uint32_t results, const int* types);

// Installs the fault handlers (once per process). Called by the engine; idempotent.
void ensure_initialized();

// Runs fn(arg) on this thread's guest stack with trap recovery. Returns TrapKind::None when
// fn returned normally. Nested calls (guest -> host -> guest) are allowed and continue on the
// guest stack where the outer call left it; a trap unwinds only to the innermost
// run_guarded(). The outermost call may use `stack_bytes` of the guest stack (at most
// kGuestStackSize) before it traps with StackExhausted. fn must not hold C++ objects with
// destructors across a trap: a trap skips them. `stop_flag` (may be null) is the stop flag of
// the instance the call is made for: while this call is the innermost on the thread, the
// interrupt signal stops it when that flag asks (see take_stop()). It must outlive the call.
TrapKind run_guarded(void (*fn)(void*), void* arg, size_t stack_bytes = SIZE_MAX,
                     uint32_t* stop_flag = nullptr);

// Ends the current guarded call with a trap. `message` (may be empty) travels with it and is
// returned by take_trap_message(). REQUIRES: called inside run_guarded() on this thread.
[[noreturn]] void trap(TrapKind kind, std::string_view message = {});

// The message of the last trap on this thread (empty for plain guest traps); clears it.
std::string take_trap_message();

// Host code called from guest code runs outside "guest mode", so that a fault in it is the
// host's own fault and reaches the host's handler. RAII: leaves guest mode, restores it on
// scope exit. (A trap skips the destructor; run_guarded() restores the mode itself.)
class HostScope {
 public:
  HostScope() : was_in_guest_(t_guest_thread.in_guest) { set_in_guest(t_guest_thread, false); }
  ~HostScope() { set_in_guest(t_guest_thread, was_in_guest_); }
  HostScope(const HostScope&) = delete;
  HostScope& operator=(const HostScope&) = delete;

 private:
  bool was_in_guest_;
};

// Sizes of the guest stack, the guard region below it and the alternate signal stack. Both
// are address space only until touched. The guard is larger than any frame generated code
// may have (engine/shape.h checks every function against half of it), so a frame can never
// reach past it.
inline constexpr size_t kGuestStackSize = 64u << 20;
inline constexpr size_t kGuestStackGuard = 256u << 20;
inline constexpr size_t kAltStackSize = 64u << 10;

// Linear memories reserve this much address space: any 32-bit address plus any 32-bit
// offset plus the widest access lands inside the reservation, so guard pages catch every
// out-of-bounds access without an explicit check.
inline constexpr uint64_t kMemoryReservation = (8ull << 30) + (64u << 10);
inline constexpr uint32_t kPageSize = 65536;
// wasm_rt_memory_t keeps the byte size in 32 bits, so a memory can hold at most 65535 pages.
inline constexpr uint32_t kMaxPages = 65535;
// Largest table the runtime allocates, in elements.
inline constexpr uint32_t kMaxTableElements = 10'000'000;

// The stop flag of an interruptible instance (engine/instrument.h): the host sets bits from
// any thread (atomically), then signals the thread running the instance's call
// (interrupt_thread()). Whatever notices a bit first turns it into a trap: the signal
// handler, the check after each host function returns (sandbox/call.cc), or, when fuel is
// metered, the instrumentation's checks (ws_guard_trap(), glue_abi.h).
inline constexpr uint32_t kFlagInterrupt = 1;     // Instance::interrupt(); consumed by the trap
inline constexpr uint32_t kFlagInterruptAll = 2;  // Engine::interrupt_all(); likewise
inline constexpr uint32_t kFlagTimeout = 4;       // the call's deadline passed; kept until the
                                                  // call from the host returns
inline constexpr uint32_t kFlagInterrupts = kFlagInterrupt | kFlagInterruptAll;

// What a set flag asks for: Timeout (kept set: nothing on the instance may run on after its
// deadline until the call from the host returns), Interrupted (consumed here), or None.
// Thread-safe.
TrapKind take_stop(uint32_t* flag);

// The stop flag of this thread's innermost guarded call, or null (none, or made without one).
inline uint32_t* current_stop_flag() { return t_guest_thread.stop_flag; }

// --- Stopping guest code on another thread

// The signal interrupt_thread() sends. SIGURG, as Go's runtime uses for preemption: ignored
// by default, so a stray one harms no process, and rarely used otherwise (only with sockets'
// out-of-band data, whose SIGURG the handler passes on to the handler installed before it).
// The handler has SA_RESTART, so system calls in host code it interrupts resume by themselves
// (those POSIX never restarts, like poll() or nanosleep(), fail with EINTR as for any signal).
inline constexpr int kInterruptSignal = SIGURG;

// A thread that makes guarded calls (guest_thread.h: internal to the runtime).
struct GuestThread;

// This thread's. Valid until the thread exits. The first guarded call on a thread unblocks
// kInterruptSignal in it (the host must not block it again while the thread runs guest code).
inline GuestThread* this_guest_thread() { return &t_guest_thread; }

// Sends kInterruptSignal to `thread`, unless the thread is in host code (then the signal would
// do nothing but interrupt a system call): it stops the guest code the thread executes if the
// stop flag of its innermost guarded call asks for a stop. Whether or not a stop resulted is
// not reported; a caller that needs the stop retries until the flag is taken or the call
// ended. REQUIRES: the thread has not exited (the caller keeps it inside a call).
// Thread-safe; takes no lock.
void interrupt_thread(GuestThread* thread);

// --- The hot path of run_guarded(), inline for the callers that make one call after another
// (sandbox/run_on_instance.cc): the outermost guarded call on a thread that is set up.

// What of `stack_bytes` a guarded call can use: at most kGuestStackSize, 16-byte aligned.
constexpr size_t usable_stack_bytes(size_t stack_bytes) {
  return std::min(stack_bytes, kGuestStackSize) & ~size_t{15};
}

// The outermost guarded call, made by enter(point, top), true after a trap (ws_guarded_call
// or ws_guarded_call_registers; under sanitizers trap.cc's enter_guarded()). REQUIRES:
// !ts.on_guest_stack && ts.ready; ts is this thread's; stack_bytes ==
// usable_stack_bytes(stack_bytes).
template <class Enter>
[[gnu::always_inline]] inline TrapKind run_outermost_guarded(GuestThread& ts, size_t stack_bytes,
                                                             uint32_t* stop_flag, Enter enter) {
  // Nothing to save, as no guarded call is active.
  UnwindPoint point;
  ts.unwind = &point;
  ts.unwind_on_guest_stack = false;
  ts.stop_flag = stop_flag;
  set_in_guest(ts, true);
  ts.on_guest_stack = true;
  const TrapKind result = enter(point, ts.guard_end + stack_bytes) ? ts.trap : TrapKind::None;
  ts.unwind = nullptr;
  ts.stop_flag = nullptr;
  set_in_guest(ts, false);
  ts.on_guest_stack = false;
  return result;
}

// run_guarded(), with its common case inline. REQUIRES: stack_bytes ==
// usable_stack_bytes(stack_bytes).
[[gnu::always_inline]] inline TrapKind run_guarded_inline(void (*fn)(void*), void* arg,
                                                          size_t stack_bytes, uint32_t* stop_flag) {
#ifdef WS_OWN_UNWIND
  GuestThread& ts = t_guest_thread;
  if (!ts.on_guest_stack && ts.ready) [[likely]] {
    return run_outermost_guarded(ts, stack_bytes, stop_flag, [&](UnwindPoint& point, char* top) {
      return ws_guarded_call(point.saved, fn, arg, top) != 0;
    });
  }
#endif
  return run_guarded(fn, arg, stack_bytes, stop_flag);
}

// A call of `function`, whose parameters and result are all integers, with the words of
// `io` as its arguments (io[0], the first, is the instance), its result stored to io[0]:
// what run_guarded_registers() runs, and its fallback's thunk (call_in_registers()).
struct RegisterCall {
  void* function;
  uint64_t* io;  // 6 words
};
void call_in_registers(void* register_call);

// run_guarded() of a RegisterCall: the arguments go straight into registers, with no thunk
// between the stack switch and the function. REQUIRES: as run_guarded_inline().
[[gnu::always_inline]] inline TrapKind run_guarded_registers(void* function, uint64_t* io,
                                                             size_t stack_bytes,
                                                             uint32_t* stop_flag) {
#ifdef WS_OWN_UNWIND
  GuestThread& ts = t_guest_thread;
  if (!ts.on_guest_stack && ts.ready) [[likely]] {
    return run_outermost_guarded(ts, stack_bytes, stop_flag, [&](UnwindPoint& point, char* top) {
      return ws_guarded_call_registers(point.saved, function, top, io) != 0;
    });
  }
#endif
  RegisterCall call{function, io};
  return run_guarded(call_in_registers, &call, stack_bytes, stop_flag);
}

}  // namespace wasm_sandbox::runtime
