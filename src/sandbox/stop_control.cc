// StopControl: see stop_control.h.
#include "sandbox/stop_control.h"

#include <sched.h>

namespace wasm_sandbox::detail {
namespace {

constexpr uint32_t kCallOnly = runtime::kFlagTimeout | runtime::kFlagInterruptAll;
constexpr uint32_t kStops = runtime::kFlagTimeout | runtime::kFlagInterrupts;

std::atomic_ref<uint32_t> bits_of(uint32_t* flag) { return std::atomic_ref<uint32_t>(*flag); }

}  // namespace

template <class Signal>
bool StopControl::with_thread(Signal signal) {
  signalling_.fetch_add(1);
  runtime::GuestThread* thread = thread_.load();
  const bool running = thread && signal(thread);
  signalling_.fetch_sub(1);
  return running;
}

void StopControl::enter(uint64_t epoch) {
  epoch_.store(epoch, std::memory_order_relaxed);
  thread_.store(runtime::this_guest_thread());
}

void StopControl::leave() {
  thread_.store(nullptr);
  // A signaller that read the thread before it was cleared is in a system call: brief.
  while (signalling_.load() != 0) sched_yield();
  // Every deadline of the call is dropped by now, and interrupt_all() sets its bit only while
  // a call runs: neither bit can be set again until the next call.
  std::atomic_ref<uint32_t> bits = bits_of(flag);
  if (bits.load(std::memory_order_relaxed) & kCallOnly) bits.fetch_and(~kCallOnly);
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
