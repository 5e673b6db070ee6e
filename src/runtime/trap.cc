// Traps, guarded calls, per-thread stacks, the fault handlers and the interrupt signal's
// handler. See runtime.h for the model.
//
// The hot path is run_guarded(): one TLS lookup, and one call that saves an unwind point and
// switches stacks (ws_guarded_call; _setjmp and a switch under sanitizers, which must see
// them), with no signal-mask syscall. Everything else (stack creation, handler installation)
// happens once.
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "runtime/code_ranges.h"
#include "runtime/guest_thread.h"
#include "runtime/runtime.h"
#include "runtime/sanitizers.h"

extern "C" void ws_call_on_stack(void* arg, void (*fn)(void*), void* stack_top);

#ifdef WS_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

namespace wasm_sandbox::runtime {

constinit thread_local GuestThread t_guest_thread [[gnu::tls_model("initial-exec")]] = {};

namespace {

using ThreadState = GuestThread;

thread_local std::string t_trap_message;

// Frees this thread's stacks when the thread exits.
struct ThreadCleanup {
  ~ThreadCleanup() {
    ThreadState& ts = t_guest_thread;
    if (ts.owns_altstack) {
      stack_t disable{};
      disable.ss_flags = SS_DISABLE;
      sigaltstack(&disable, nullptr);
      munmap(ts.altstack, kAltStackSize);
    }
    if (ts.stack_mapping) munmap(ts.stack_mapping, kGuestStackGuard + kGuestStackSize);
    ts = {};
  }
};
thread_local ThreadCleanup t_cleanup;

// Stack switches. AddressSanitizer must be told about each one (it otherwise mistakes the guest
// stack for a huge frame of the host stack); in other builds fn is entered directly, since this
// is the hot path.
#ifdef WS_ASAN
void announce_switch_to_host(ThreadState& ts) {
  __sanitizer_start_switch_fiber(nullptr, ts.host_stack_bottom, ts.host_stack_size);
}
void arrived_on_host() { __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr); }

struct GuestEntry {
  void (*fn)(void*);
  void* arg;
};

// The first frame on the guest stack.
void enter_guest(void* p) {
  ThreadState& ts = t_guest_thread;
  __sanitizer_finish_switch_fiber(nullptr, &ts.host_stack_bottom, &ts.host_stack_size);
  const GuestEntry& entry = *static_cast<GuestEntry*>(p);
  entry.fn(entry.arg);
  announce_switch_to_host(ts);
}

// Not instrumented: a trap skips this frame's epilogue, which would unpoison the redzones
// AddressSanitizer puts around `entry`; left poisoned, they would fault later frames that
// reuse the stack.
__attribute__((no_sanitize_address)) void call_on_guest_stack(ThreadState& ts, void (*fn)(void*),
                                                              void* arg, char* top) {
  GuestEntry entry{fn, arg};
  __sanitizer_start_switch_fiber(nullptr, ts.guard_end, top - ts.guard_end);
  ws_call_on_stack(&entry, enter_guest, top);
  arrived_on_host();
}
#else
void announce_switch_to_host(ThreadState&) {}
#ifndef WS_OWN_UNWIND
void arrived_on_host() {}
void call_on_guest_stack(ThreadState&, void (*fn)(void*), void* arg, char* top) {
  ws_call_on_stack(arg, fn, top);
}
#endif
#endif

// Leaves guest code for the innermost run_guarded(), which may be on the host stack.
[[noreturn]] void unwind(ThreadState& ts) {
  if (ts.on_guest_stack && !ts.unwind_on_guest_stack) announce_switch_to_host(ts);
#ifdef WS_OWN_UNWIND
  ws_guarded_unwind(ts.unwind->saved);
#else
  longjmp(ts.unwind->buf, 1);
#endif
}

// Calls fn(arg) on the guest stack at `top`, or on the current stack if `top` is null (a
// nested call, already on the guest stack); true if unwind() ended it (a trap).
#ifdef WS_OWN_UNWIND
bool enter_guarded(ThreadState&, UnwindPoint& point, void (*fn)(void*), void* arg, char* top) {
  return ws_guarded_call(point.saved, fn, arg, top) != 0;
}
#else
[[gnu::noinline]] bool enter_guarded(ThreadState& ts, UnwindPoint& point, void (*fn)(void*),
                                     void* arg, char* top) {
  if (_setjmp(point.buf) != 0) {  // `top` is not written after this: it survives the longjmp
    if (top) arrived_on_host();
    return true;
  }
  if (top) {
    call_on_guest_stack(ts, fn, arg, top);
  } else {
    fn(arg);
  }
  return false;
}
#endif

struct sigaction g_previous_segv;
struct sigaction g_previous_bus;
struct sigaction g_previous_interrupt;

// Hands a fault that is not ours to whatever the process had installed before us.
void chain_to_previous(int sig, siginfo_t* info, void* context) {
  const struct sigaction& prev = sig == SIGSEGV ? g_previous_segv : g_previous_bus;
  if (prev.sa_flags & SA_SIGINFO) {
    if (prev.sa_sigaction) prev.sa_sigaction(sig, info, context);
    return;
  }
  if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
    prev.sa_handler(sig);
    return;
  }
  // Default action: reinstate it; the faulting instruction runs again and the process dies
  // as it would have without us. A signal sent by kill() does not recur, so raise it.
  signal(sig, SIG_DFL);
  if (info->si_code <= 0) raise(sig);
}

void on_fault(int sig, siginfo_t* info, void* context) {
  ThreadState& ts = t_guest_thread;
  if (!ts.in_guest || !ts.unwind) {
    chain_to_previous(sig, info, context);
    return;
  }
  const char* addr = static_cast<const char*>(info->si_addr);
  const bool in_stack_guard = addr >= ts.stack_mapping && addr < ts.guard_end;
  ts.trap = in_stack_guard ? TrapKind::StackExhausted : TrapKind::OutOfBounds;
  // Leave with the signal mask the faulting code had. With our own SA_NODEFER handler it is
  // already in place, but a wrapper between the kernel and us (ThreadSanitizer's, or a host's)
  // may have blocked signals while it runs. This syscall is on the fault path only.
  pthread_sigmask(SIG_SETMASK, &static_cast<ucontext_t*>(context)->uc_sigmask, nullptr);
  unwind(ts);
}

// --- The interrupt signal (runtime.h, interrupt_thread())

// Marks the signals interrupt_thread() sends (in si_value), to tell them from others.
constexpr int kSignalTag = 0x77736967;  // "wsig"

WS_NO_TSAN bool is_ours(const siginfo_t* info) {
  return info->si_code == SI_QUEUE && info->si_value.sival_int == kSignalTag &&
         info->si_pid == getpid();
}

WS_NO_TSAN uintptr_t interrupted_pc(const ucontext_t* context) {
#if defined(__x86_64__)
  return static_cast<uintptr_t>(context->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
  return static_cast<uintptr_t>(context->uc_mcontext.pc);
#else
#error "the interrupt handler needs the interrupted instruction's address on this architecture"
#endif
}

// A SIGURG that is not ours (a socket's out-of-band data) goes to the handler installed
// before ours; the default action is to ignore it.
WS_NO_TSAN void pass_on_interrupt(int sig, siginfo_t* info, void* context) {
  const struct sigaction& prev = g_previous_interrupt;
  if (prev.sa_flags & SA_SIGINFO) {
    if (prev.sa_sigaction) prev.sa_sigaction(sig, info, context);
  } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
    prev.sa_handler(sig);
  }
}

// Only called once the thread is known to have been executing generated code, so that any
// sanitizer's runtime is in a consistent state (as when generated code faults).
[[gnu::noinline]] void deliver_stop(ThreadState& ts, const ucontext_t* context) {
  const TrapKind stop = take_stop(ts.stop_flag);
  if (stop == TrapKind::None) return;  // taken by someone else, or the call's stop is over
  ts.trap = stop;
  // As on_fault: leave with the mask the interrupted code had (the kernel blocked the signal
  // while its handler runs).
  pthread_sigmask(SIG_SETMASK, &context->uc_sigmask, nullptr);
  unwind(ts);
}

// Decides from the current state only (a late signal meets whatever the thread does now):
// the thread must be in guest mode, inside a guarded call with a stop flag, at an
// instruction of generated code. Anywhere else it returns, and the sender retries.
WS_NO_TSAN void on_interrupt(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  if (!is_ours(info)) {
    pass_on_interrupt(sig, info, context);
    errno = saved_errno;
    return;
  }
  ThreadState& ts = t_guest_thread;
  const auto* uc = static_cast<const ucontext_t*>(context);
  if (ts.in_guest && ts.unwind && ts.stop_flag && is_generated_code(interrupted_pc(uc))) {
    deliver_stop(ts, uc);
  }
  errno = saved_errno;
}

#ifdef WS_TSAN
// ThreadSanitizer defers an asynchronous signal until the thread next enters one of its
// interceptors, which generated code never does: a spinning guest would never see it. So under
// TSan the handler is installed with the system call itself, out of TSan's sight (x86-64 only,
// like the guest stack switch). ws_signal_return is the usual rt_sigreturn trampoline.
extern "C" void ws_signal_return();

struct KernelSigaction {
  void (*handler)(int, siginfo_t*, void*);
  unsigned long flags;
  void (*restorer)();
  uint64_t mask;
};

bool install_interrupt_handler() {
  constexpr unsigned long kRestorer = 0x04000000;  // SA_RESTORER
  KernelSigaction action{on_interrupt, SA_SIGINFO | SA_ONSTACK | SA_RESTART | kRestorer,
                         ws_signal_return, 0};
  KernelSigaction previous{};
  if (syscall(SYS_rt_sigaction, kInterruptSignal, &action, &previous, sizeof(uint64_t)) != 0) {
    return false;
  }
  g_previous_interrupt.sa_sigaction = previous.handler;
  g_previous_interrupt.sa_flags = static_cast<int>(previous.flags);
  return true;
}
#else
bool install_interrupt_handler() {
  struct sigaction action {};
  action.sa_sigaction = on_interrupt;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigemptyset(&action.sa_mask);
  return sigaction(kInterruptSignal, &action, &g_previous_interrupt) == 0;
}
#endif

void install_handlers() {
  struct sigaction action {};
  action.sa_sigaction = on_fault;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&action.sa_mask);
  if (sigaction(SIGSEGV, &action, &g_previous_segv) != 0 ||
      sigaction(SIGBUS, &action, &g_previous_bus) != 0) {
    std::perror("wasm-sandbox: cannot install SIGSEGV/SIGBUS handlers");
    std::abort();
  }
  if (!install_interrupt_handler()) {
    std::perror("wasm-sandbox: cannot install the interrupt signal's handler");
    std::abort();
  }
}

// Reserves the guard region and the guest stack.
void* map_guest_stack(size_t total) {
  constexpr int kFlags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
#ifdef WS_TSAN
  // ThreadSanitizer forgets the setjmp buffers it believes dead: those below the stack
  // pointer of each new setjmp. A nested call's buffer is on the guest stack and the outer
  // call's on the thread's stack, so the guest stack must lie below the thread's, or a trap
  // of the outer call after a nested call finds no buffer. (mmap puts it there anyway,
  // unless a hole higher up fits it, as exited threads' guest stacks leave.) The gap leaves
  // the main thread's stack room to grow.
  constexpr uintptr_t kGap = uintptr_t{256} << 20;
  char here;
  uintptr_t at = (reinterpret_cast<uintptr_t>(&here) & ~uintptr_t{0xfffff}) - total - kGap;
  for (int tries = 0; tries < 64 && at > total; ++tries, at -= total) {
    void* hint = reinterpret_cast<void*>(at);
    void* mapping = mmap(hint, total, PROT_NONE, kFlags | MAP_FIXED_NOREPLACE, -1, 0);
    if (mapping == hint) return mapping;
    if (mapping != MAP_FAILED) munmap(mapping, total);  // a kernel that took it as a hint
  }
#endif
  return mmap(nullptr, total, PROT_NONE, kFlags, -1, 0);
}

// Sets up this thread's guest stack and, unless the host gave the thread one, an alternate
// signal stack (the guest stack may be exhausted when a fault arrives). False if out of memory.
bool init_thread(ThreadState& ts) {
  (void)&t_cleanup;  // odr-use: registers the destructor for this thread
  const size_t total = kGuestStackGuard + kGuestStackSize;
  void* mapping = map_guest_stack(total);
  if (mapping == MAP_FAILED) return false;
  char* base = static_cast<char*>(mapping);
  if (mprotect(base + kGuestStackGuard, kGuestStackSize, PROT_READ | PROT_WRITE) != 0) {
    munmap(mapping, total);
    return false;
  }
  stack_t current{};
  if (sigaltstack(nullptr, &current) == 0 && (current.ss_flags & SS_DISABLE)) {
    void* alt =
        mmap(nullptr, kAltStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (alt == MAP_FAILED) {
      munmap(mapping, total);
      return false;
    }
    stack_t mine{};
    mine.ss_sp = alt;
    mine.ss_size = kAltStackSize;
    if (sigaltstack(&mine, nullptr) != 0) {
      munmap(alt, kAltStackSize);
      munmap(mapping, total);
      return false;
    }
    ts.altstack = alt;
    ts.owns_altstack = true;
  }
  // For interrupt_thread(), which reads it once the thread is in guest mode.
  ts.self = pthread_self();
  // Hosts often block signals in their worker threads; a blocked interrupt signal would
  // never stop anything.
  sigset_t interrupt;
  sigemptyset(&interrupt);
  sigaddset(&interrupt, kInterruptSignal);
  pthread_sigmask(SIG_UNBLOCK, &interrupt, nullptr);
  ts.stack_mapping = base;
  ts.guard_end = base + kGuestStackGuard;
  ts.stack_top = base + total;
  ts.ready = true;
  return true;
}

TrapKind from_wasm_rt(wasm_rt_trap_t code) {
  switch (code) {
    case WASM_RT_TRAP_NONE:
      return TrapKind::None;
    case WASM_RT_TRAP_OOB:
      return TrapKind::OutOfBounds;
    case WASM_RT_TRAP_INT_OVERFLOW:
      return TrapKind::IntegerOverflow;
    case WASM_RT_TRAP_DIV_BY_ZERO:
      return TrapKind::DivideByZero;
    case WASM_RT_TRAP_INVALID_CONVERSION:
      return TrapKind::InvalidConversion;
    case WASM_RT_TRAP_UNREACHABLE:
      return TrapKind::Unreachable;
    case WASM_RT_TRAP_CALL_INDIRECT:
      return TrapKind::IndirectCall;
    case WASM_RT_TRAP_UNCAUGHT_EXCEPTION:
      return TrapKind::UncaughtException;
    case WASM_RT_TRAP_EXHAUSTION:
      return TrapKind::StackExhausted;
  }
  return TrapKind::HostError;
}

}  // namespace

void ensure_initialized() {
  static std::once_flag once;
  std::call_once(once, install_handlers);
}

namespace {

// run_guarded() but for its uncommon cases: a nested call, or the first on this thread.
[[gnu::noinline]] TrapKind run_guarded_rarely(ThreadState& ts, void (*fn)(void*), void* arg,
                                              size_t stack_bytes, uint32_t* stop_flag) {
  if (!ts.on_guest_stack) {
    if (!init_thread(ts)) {
      t_trap_message = "cannot allocate a guest stack for this thread";
      return TrapKind::HostError;
    }
    return run_guarded(fn, arg, stack_bytes, stop_flag);
  }
  // Nested (guest -> host -> guest): on the guest stack already, inside another guarded call
  // whose state comes back when this one ends.
  UnwindPoint point;
  UnwindPoint* const prev_unwind = ts.unwind;
  const bool prev_unwind_on_stack = ts.unwind_on_guest_stack;
  const bool prev_in_guest = ts.in_guest;
  uint32_t* const prev_stop_flag = ts.stop_flag;
  ts.unwind = &point;
  ts.unwind_on_guest_stack = true;
  ts.stop_flag = stop_flag;
  set_in_guest(ts, true);
  const TrapKind result = enter_guarded(ts, point, fn, arg, nullptr) ? ts.trap : TrapKind::None;
  ts.unwind = prev_unwind;
  ts.unwind_on_guest_stack = prev_unwind_on_stack;
  ts.stop_flag = prev_stop_flag;
  set_in_guest(ts, prev_in_guest);
  return result;
}

}  // namespace

TrapKind run_guarded(void (*fn)(void*), void* arg, size_t stack_bytes, uint32_t* stop_flag) {
  ThreadState& ts = t_guest_thread;
  if (ts.on_guest_stack || !ts.ready) [[unlikely]] {
    return run_guarded_rarely(ts, fn, arg, stack_bytes, stop_flag);
  }
  return run_outermost_guarded(
      ts, usable_stack_bytes(stack_bytes), stop_flag,
      [&](UnwindPoint& point, char* top) { return enter_guarded(ts, point, fn, arg, top); });
}

void call_in_registers(void* register_call) {
  const auto& call = *static_cast<RegisterCall*>(register_call);
  // The function has at most six integer parameters and an integer result or none: on
  // x86-64 (and every ABI passing the first six integer arguments in registers) calling it
  // through this type passes io[0..5] as ws_guarded_call_registers does, and the registers
  // past its parameters are ignored.
  using Function = uint64_t (*)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
  uint64_t* io = call.io;
  io[0] = reinterpret_cast<Function>(call.function)(io[0], io[1], io[2], io[3], io[4], io[5]);
}

void trap(TrapKind kind, std::string_view message) {
  ThreadState& ts = t_guest_thread;
  if (!ts.unwind) {
    std::fprintf(stderr, "wasm-sandbox: trap outside a guarded call: %s\n", to_string(kind));
    std::abort();
  }
  t_trap_message.assign(message);
  ts.trap = kind;
  unwind(ts);
}

TrapKind take_stop(uint32_t* flag) {
  std::atomic_ref<uint32_t> bits(*flag);
  const uint32_t seen = bits.load();
  if (seen & kFlagTimeout) return TrapKind::Timeout;
  if ((seen & kFlagInterrupts) && (bits.fetch_and(~kFlagInterrupts) & kFlagInterrupts)) {
    return TrapKind::Interrupted;
  }
  return TrapKind::None;
}

void interrupt_thread(GuestThread* thread) {
  // Acquire: a thread in guest mode has run init_thread(), which set `self`.
  if (!__atomic_load_n(&thread->in_guest, __ATOMIC_ACQUIRE)) return;
  union sigval value;
  value.sival_int = kSignalTag;
  pthread_sigqueue(thread->self, kInterruptSignal, value);
}

std::string take_trap_message() {
  std::string message;
  message.swap(t_trap_message);
  return message;
}

}  // namespace wasm_sandbox::runtime

extern "C" {

void wasm_rt_trap(wasm_rt_trap_t code) {
  wasm_sandbox::runtime::trap(wasm_sandbox::runtime::from_wasm_rt(code));
}

const char* wasm_rt_strerror(wasm_rt_trap_t code) {
  return wasm_sandbox::to_string(wasm_sandbox::runtime::from_wasm_rt(code));
}

void ws_guard_trap(void* fuel, void* flag) {
  using namespace wasm_sandbox::runtime;
  if (fuel) {
    auto* remaining = static_cast<int64_t*>(fuel);
    if (*remaining < 0) {
      *remaining = 0;  // spent: what overshot in the last segment is not owed
      trap(wasm_sandbox::TrapKind::OutOfFuel);
    }
  }
  if (flag) {
    const wasm_sandbox::TrapKind stop = take_stop(static_cast<uint32_t*>(flag));
    if (stop != wasm_sandbox::TrapKind::None) trap(stop);
  }
  // Otherwise the flag was cleared between the check and here: run on.
}

void wasm_rt_init(void) { wasm_sandbox::runtime::ensure_initialized(); }
bool wasm_rt_is_initialized(void) { return true; }
void wasm_rt_free(void) {}

}  // extern "C"
