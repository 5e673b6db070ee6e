// Stopping the call an instance is making, from any thread. The instance's stop flag
// (runtime.h, kFlag*) says what is asked; while a call from the host runs, StopControl knows
// the thread making it, and signals that thread (runtime::interrupt_thread()) after setting a
// bit. A signal can miss (the thread is in host code or the runtime, or the call is starting);
// then the watchdog signals again every few milliseconds until the stop is taken or the call
// ends (watchdog.h, retry_stop()).
//
// A pthread_t must not be used once its thread has ended, so a thread never leaves its call
// while another thread is signalling it: signallers count themselves in `signalling_` before
// they read `thread_`, and leave() clears `thread_`, then waits for the count to drop to zero.
// A fence between each side's write and read makes them meet (Dekker): either a signaller
// sees the thread cleared, or leave() sees the signaller. The same pairing makes a request
// and a starting call meet: either the request sees the thread, or the call sees the
// request's bits in the flag.
//
// Workload: enter() and leave() run on every call from the host, so their fences are free
// (compiler barriers); a signaller pays for both sides with membarrier(2), a few
// microseconds, once per request or retry (stop_control.cc). Requests are rare, and a signal
// takes a system call, during which leave() may have to wait.
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/runtime.h"
#include "runtime/sanitizers.h"

namespace wasm_sandbox::detail {

// Whether the process uses membarrier(2) for the signalling side's fences (stop_control.cc);
// constant once static initialization is done. Never under ThreadSanitizer, which sees
// neither membarrier nor fences: there both sides make a sequentially consistent
// read-modify-write of one word, which orders them as a fence would, visibly to it.
extern const bool g_asymmetric_fences;

#ifdef WS_TSAN
inline std::atomic<uint32_t> g_fence_word{0};
inline void full_fence() { g_fence_word.fetch_add(0, std::memory_order_seq_cst); }
#else
inline void full_fence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
#endif

// One per interruptible instance (state.h, InstanceState::stop). Thread-safe and lock-free
// (but not async-signal-safe: leave() waits for signallers).
class StopControl {
 public:
  // The flag, in the instance's memory block; null while the instance is not interruptible.
  // Set once at instantiation, before any call.
  uint32_t* flag = nullptr;

  // By the thread making the outermost call from the host, around it: enter() records the
  // thread, and the engine's interrupt_all() epoch (state.h) as the call starts; leave()
  // forgets them and clears what only that call was asked (kFlagTimeout, kFlagInterruptAll).
  // REQUIRES: flag.
  void enter(uint64_t epoch) {
    epoch_.store(epoch, std::memory_order_relaxed);
    thread_.store(runtime::this_guest_thread(), std::memory_order_release);
    light_fence();  // before the caller reads the flag: pairs with with_thread()'s
  }
  void leave() {
    thread_.store(nullptr, std::memory_order_relaxed);
    light_fence();  // pairs with with_thread()'s
    // A signaller that read the thread before it was cleared is in a system call: brief.
    if (signalling_.load(std::memory_order_acquire) != 0) [[unlikely]] {
      wait_for_signallers();
    }
    // Every deadline of the call is dropped by now, and interrupt_all() sets its bit only
    // while a call runs: neither bit can be set again until the next call.
    if (std::atomic_ref<uint32_t>(*flag).load(std::memory_order_relaxed) & kCallOnly) [[unlikely]] {
      clear_call_only();
    }
  }

  // Sets `bits` in the flag and signals the thread running a call, if any. Returns whether a
  // call runs: then the stop may need retries. REQUIRES: flag.
  bool request(uint32_t bits);
  // Engine::interrupt_all() that made the engine's epoch `epoch`: as request(kFlagInterruptAll)
  // for a call that started before (with an older epoch), nothing otherwise.
  bool request_all(uint64_t epoch);

  // Signals the running call's thread again if its flag still asks for a stop. False when
  // there is nothing more to do: no call runs, or the stop was taken. REQUIRES: flag.
  bool resignal();

  // In the watchdog's list of stops to retry (watchdog.cc); written under its mutex.
  std::atomic<bool> retrying{false};

 private:
  static constexpr uint32_t kCallOnly = runtime::kFlagTimeout | runtime::kFlagInterruptAll;

  // The call side's half of each fence: see stop_control.cc.
  static void light_fence() {
    if (g_asymmetric_fences) {
      std::atomic_signal_fence(std::memory_order_seq_cst);
    } else {
      full_fence();
    }
  }
  void wait_for_signallers();
  void clear_call_only();

  // Calls signal(thread) with the running call's thread, kept from leaving meanwhile;
  // false if no call runs.
  template <class Signal>
  bool with_thread(Signal signal);

  std::atomic<runtime::GuestThread*> thread_{nullptr};
  std::atomic<uint64_t> epoch_{0};       // of the call, written before thread_
  std::atomic<uint32_t> signalling_{0};  // threads inside with_thread()
};

}  // namespace wasm_sandbox::detail
