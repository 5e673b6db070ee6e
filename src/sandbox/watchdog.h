// Call deadlines: one process-wide thread that, when a registered deadline passes, sets
// runtime::kFlagTimeout in the interrupt flag of the instance making that call. Guest code
// sees the flag at its next check (engine/instrument.h), so a call stops within one check
// interval plus the thread's wake-up latency of its deadline.
//
// Thread safety: Deadlines may be registered and dropped from any thread. The thread starts
// with the first registration and lives until the process exits.
#pragma once

#include <chrono>
#include <cstdint>

namespace wasm_sandbox::detail {

using Clock = std::chrono::steady_clock;

// RAII: registered while alive. `flag` must outlive it. Not copyable or movable.
class Deadline {
 public:
  Deadline(uint32_t* flag, Clock::time_point when);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  Clock::time_point when() const { return when_; }

 private:
  friend class Watchdog;
  uint32_t* flag_;
  Clock::time_point when_;
  bool armed_ = true;  // under the watchdog's mutex: false once fired
};

}  // namespace wasm_sandbox::detail
