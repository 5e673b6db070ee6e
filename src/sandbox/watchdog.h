// The watchdog: one process-wide thread that delivers stops to running calls.
//
// - Call deadlines: when a registered deadline passes, it sets runtime::kFlagTimeout in the
//   stop flag of the instance making that call and signals the call's thread
//   (stop_control.h). The signal stops guest code at once, wherever it is in generated code.
// - Retries: a signal does nothing while the thread is in host code or the runtime (or the
//   call has only just started), so every stop requested of a running call is retried: every
//   kRetryInterval the watchdog signals again, until the stop is taken or the call ends.
//   (A stop requested while a host function runs also takes effect when it returns:
//   sandbox/call.cc checks the flag then.)
//
// So a call stops within the thread's wake-up latency of its deadline, plus a retry interval
// when the first signal missed.
//
// Thread safety: everything here may be called from any thread. The thread starts with the
// first registration and lives until the process exits.
#pragma once

#include <chrono>
#include <cstdint>

namespace wasm_sandbox::detail {

using Clock = std::chrono::steady_clock;

class StopControl;

inline constexpr std::chrono::milliseconds kRetryInterval{2};

// RAII: registered while alive. `control` (with a flag) must outlive it; its call runs while
// the deadline is alive (enter() before, leave() after). Not copyable or movable.
class Deadline {
 public:
  Deadline(StopControl& control, Clock::time_point when);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  Clock::time_point when() const { return when_; }

 private:
  friend class Watchdog;
  StopControl* control_;
  Clock::time_point when_;
  bool armed_ = true;  // under the watchdog's mutex: false once fired
};

// Signals `control`'s running call again every kRetryInterval while its flag asks for a stop
// (StopControl::resignal()). REQUIRES: control.flag.
void retry_stop(StopControl& control);

// Drops `control` from the retries: before it is destroyed.
void forget_stop(StopControl& control);

}  // namespace wasm_sandbox::detail
