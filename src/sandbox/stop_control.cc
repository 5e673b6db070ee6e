// StopControl: see stop_control.h.
#include "sandbox/stop_control.h"

#include <linux/membarrier.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace wasm_sandbox::detail {
namespace {

// The fences of the Dekker pairs (stop_control.h) are asymmetric: the side that runs on every
// call (enter(), leave()) only keeps the compiler from reordering, and the rare side (a
// signaller) makes every thread of the process execute a full barrier with membarrier(2).
// Where the kernel lacks it, both sides use full fences.
bool register_asymmetric_fences() {
#ifdef WS_TSAN
  return false;
#else
  return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
#endif
}

void heavy_fence() {
  if (!g_asymmetric_fences ||
      syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
    full_fence();
  }
}

constexpr uint32_t kStops = runtime::kFlagTimeout | runtime::kFlagInterrupts;

std::atomic_ref<uint32_t> bits_of(uint32_t* flag) { return std::atomic_ref<uint32_t>(*flag); }

}  // namespace

const bool g_asymmetric_fences = register_asymmetric_fences();

template <class Signal>
bool StopControl::with_thread(Signal signal) {
  signalling_.fetch_add(1, std::memory_order_relaxed);
  heavy_fence();  // pairs with leave()'s (and, for the bits a request set, enter()'s)
  runtime::GuestThread* thread = thread_.load(std::memory_order_acquire);
  const bool running = thread && signal(thread);
  signalling_.fetch_sub(1, std::memory_order_release);
  return running;
}

void StopControl::clear_call_only() {
  std::atomic_ref<uint32_t> bits = bits_of(flag);
  if (bits.load(std::memory_order_relaxed) & kCallOnly) bits.fetch_and(~kCallOnly);
}

void StopControl::wait_for_signallers() {
  while (signalling_.load(std::memory_order_acquire) != 0) sched_yield();
}

bool StopControl::request(uint32_t bits) {
  // Before the thread is read: a call that starts after this read sees the bits.
  bits_of(flag).fetch_or(bits);
  return with_thread([](runtime::GuestThread* thread) {
    runtime::interrupt_thread(thread);
    return true;
  });
}

bool StopControl::request_all(uint64_t epoch) {
  return with_thread([&](runtime::GuestThread* thread) {
    if (epoch_.load(std::memory_order_relaxed) >= epoch) return false;  // started after
    bits_of(flag).fetch_or(runtime::kFlagInterruptAll);
    runtime::interrupt_thread(thread);
    return true;
  });
}

bool StopControl::resignal() {
  return with_thread([&](runtime::GuestThread* thread) {
    if (!(bits_of(flag).load() & kStops)) return false;
    runtime::interrupt_thread(thread);
    return true;
  });
}

}  // namespace wasm_sandbox::detail
