// Traps, guarded calls, per-thread stacks and the fault handlers. See runtime.h for the model.
//
// The hot path is run_guarded(): one TLS lookup, one _setjmp (no signal mask syscall) and a
// stack switch. Everything else (stack creation, handler installation) happens once.
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "runtime/runtime.h"

extern "C" void ws_call_on_stack(void* arg, void (*fn)(void*), void* stack_top);

#if defined(__SANITIZE_ADDRESS__)
#define WS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WS_ASAN 1
#endif
#endif

#ifdef WS_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

namespace wasm_sandbox::runtime {
namespace {

// Plain data only, constant-initialized and in the initial-exec TLS model, so that the fault
// handler can read it without allocating.
struct ThreadState {
  jmp_buf* unwind;             // innermost run_guarded() on this thread, or null
  bool in_guest;               // executing guest code (not host code called by it)
  bool on_guest_stack;         // somewhere inside ws_call_on_stack
  bool unwind_on_guest_stack;  // *unwind was set on the guest stack (a nested call)
  bool ready;                  // stacks below are set up
  bool owns_altstack;
  TrapKind trap;        // the trap being delivered
  char* stack_mapping;  // guard region, then the guest stack
  char* guard_end;      // first usable byte of the guest stack
  char* stack_top;
  void* altstack;
  // AddressSanitizer builds only: the host stack the outermost guarded call left, so that
  // the switch back to it (by return or by trap) can be announced.
  const void* host_stack_bottom;
  size_t host_stack_size;
};

constinit thread_local ThreadState t_state [[gnu::tls_model("initial-exec")]] = {};
thread_local std::string t_trap_message;

// Frees this thread's stacks when the thread exits.
struct ThreadCleanup {
  ~ThreadCleanup() {
    ThreadState& ts = t_state;
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
  ThreadState& ts = t_state;
  __sanitizer_finish_switch_fiber(nullptr, &ts.host_stack_bottom, &ts.host_stack_size);
  const GuestEntry& entry = *static_cast<GuestEntry*>(p);
  entry.fn(entry.arg);
  announce_switch_to_host(ts);
}

void call_on_guest_stack(ThreadState& ts, void (*fn)(void*), void* arg, char* top) {
  GuestEntry entry{fn, arg};
  __sanitizer_start_switch_fiber(nullptr, ts.guard_end, top - ts.guard_end);
  ws_call_on_stack(&entry, enter_guest, top);
  arrived_on_host();
}
#else
void announce_switch_to_host(ThreadState&) {}
void arrived_on_host() {}
void call_on_guest_stack(ThreadState&, void (*fn)(void*), void* arg, char* top) {
  ws_call_on_stack(arg, fn, top);
}
#endif

// Leaves guest code for the innermost run_guarded(), which may be on the host stack.
[[noreturn]] void unwind(ThreadState& ts) {
  if (ts.on_guest_stack && !ts.unwind_on_guest_stack) announce_switch_to_host(ts);
  longjmp(*ts.unwind, 1);
}

struct sigaction g_previous_segv;
struct sigaction g_previous_bus;

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
  ThreadState& ts = t_state;
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
}

// Sets up this thread's guest stack and, unless the host gave the thread one, an alternate
// signal stack (the guest stack may be exhausted when a fault arrives). False if out of memory.
bool init_thread(ThreadState& ts) {
  (void)&t_cleanup;  // odr-use: registers the destructor for this thread
  const size_t total = kGuestStackGuard + kGuestStackSize;
  void* mapping =
      mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
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

TrapKind run_guarded(void (*fn)(void*), void* arg, size_t stack_bytes) {
  ThreadState& ts = t_state;
  if (!ts.ready && !init_thread(ts)) {
    t_trap_message = "cannot allocate a guest stack for this thread";
    return TrapKind::HostError;
  }
  jmp_buf buf;
  jmp_buf* const prev_unwind = ts.unwind;
  const bool prev_unwind_on_stack = ts.unwind_on_guest_stack;
  const bool prev_in_guest = ts.in_guest;
  const bool prev_on_stack = ts.on_guest_stack;
  TrapKind result = TrapKind::None;
  if (_setjmp(buf) != 0) {
    if (!prev_on_stack) arrived_on_host();
    result = ts.trap;
  } else {
    ts.unwind = &buf;
    ts.unwind_on_guest_stack = prev_on_stack;
    ts.in_guest = true;
    if (prev_on_stack) {
      fn(arg);
    } else {
      ts.on_guest_stack = true;
      const size_t usable = std::min(stack_bytes, kGuestStackSize) & ~size_t{15};
      call_on_guest_stack(ts, fn, arg, ts.guard_end + usable);
    }
  }
  ts.unwind = prev_unwind;
  ts.unwind_on_guest_stack = prev_unwind_on_stack;
  ts.in_guest = prev_in_guest;
  ts.on_guest_stack = prev_on_stack;
  return result;
}

void trap(TrapKind kind, std::string_view message) {
  ThreadState& ts = t_state;
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

std::string take_trap_message() {
  std::string message;
  message.swap(t_trap_message);
  return message;
}

HostScope::HostScope() : was_in_guest_(t_state.in_guest) { t_state.in_guest = false; }
HostScope::~HostScope() { t_state.in_guest = was_in_guest_; }

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
