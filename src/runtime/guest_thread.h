// The per-thread state of the runtime (runtime.h calls it GuestThread), for the runtime and
// for the hot paths beside it that read or write a field inline (runtime.h's HostScope and
// current_stop_flag(), called around every host function guest code calls). Internal: the
// fields' rules are the runtime's (trap.cc).
#pragma once

#include <pthread.h>
#include <setjmp.h>

#include <cstddef>
#include <cstdint>

#include "runtime/sanitizers.h"
#include "wasm_sandbox/result.h"

// Our own unwind (stack_switch_x86_64.S) where sanitizers need not see setjmp and longjmp.
#if defined(__x86_64__) && !defined(WS_ASAN) && !defined(WS_TSAN)
#define WS_OWN_UNWIND 1
extern "C" int ws_guarded_call(uint64_t* point, void (*fn)(void*), void* arg, void* stack_top);
extern "C" int ws_guarded_call_registers(uint64_t* point, void* fn, void* stack_top, uint64_t* io);
extern "C" [[noreturn]] void ws_guarded_unwind(const uint64_t* point);
#endif

namespace wasm_sandbox::runtime {

// Where a trap resumes: the innermost run_guarded() (trap.cc, enter_guarded()).
struct UnwindPoint {
#ifdef WS_OWN_UNWIND
  uint64_t saved[8];
#else
  jmp_buf buf;
#endif
};

// A thread's state (runtime.h calls it GuestThread). Plain data only, constant-initialized
// and in the initial-exec TLS model, so that the signal handlers can read it without
// allocating. Other threads read `in_guest` and `self` only (interrupt_thread()).
struct GuestThread {
  UnwindPoint* unwind;         // innermost run_guarded() on this thread, or null
  bool in_guest;               // executing guest code (not host code called by it); written
                               // with __atomic builtins, as other threads read it
  uint32_t* stop_flag;         // of the innermost run_guarded(), or null
  pthread_t self;              // this thread, for pthread_sigqueue(); set with `ready`
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

// This thread's.
extern constinit thread_local GuestThread t_guest_thread [[gnu::tls_model("initial-exec")]];

// To other threads in_guest is a hint (interrupt_thread() skips threads in host code), and a
// stale read costs one retry of the signal, never a lost stop. Release: it publishes `self`.
inline void set_in_guest(GuestThread& ts, bool value) {
  __atomic_store_n(&ts.in_guest, value, __ATOMIC_RELEASE);
}

}  // namespace wasm_sandbox::runtime
