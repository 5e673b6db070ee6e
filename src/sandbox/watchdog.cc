// The watchdog thread behind Deadline and retry_stop() (watchdog.h). StopControl takes no
// lock, so the watchdog may call it while it holds its own mutex.
#include "sandbox/watchdog.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/runtime.h"
#include "sandbox/stop_control.h"

namespace wasm_sandbox::detail {

class Watchdog {
 public:
  // Never destroyed: deadlines may be dropped during static destruction.
  static Watchdog& get() {
    static Watchdog* watchdog = new Watchdog;
    return *watchdog;
  }

  void add(Deadline* deadline) {
    std::lock_guard lock(mutex_);
    start();
    pending_.emplace(deadline->when_, deadline);
    // Wake the thread only if it sleeps past this deadline: a stream of calls, each with a
    // deadline later than the last, then costs no wake-ups at all.
    if (deadline->when_ < sleeping_until_) wake_.notify_one();
  }

  void remove(Deadline* deadline) {
    std::lock_guard lock(mutex_);
    if (!deadline->armed_) return;
    auto [first, last] = pending_.equal_range(deadline->when_);
    for (auto it = first; it != last; ++it) {
      if (it->second == deadline) {
        pending_.erase(it);
        break;
      }
    }
  }

  void retry(StopControl* control) {
    std::lock_guard lock(mutex_);
    start();
    add_retry(control, Clock::now());
  }

  void forget(StopControl* control) {
    // Set only under mutex_, by calls that happen before this one (see InstanceState's
    // destructor); so false here means it is in no list, and no watchdog access is pending.
    if (!control->retrying.load(std::memory_order_acquire)) return;
    std::lock_guard lock(mutex_);
    retries_.erase(std::remove(retries_.begin(), retries_.end(), control), retries_.end());
    control->retrying.store(false, std::memory_order_release);
  }

 private:
  void start() {  // REQUIRES: mutex_
    if (started_) return;
    std::thread([this] { run(); }).detach();
    started_ = true;
  }

  void add_retry(StopControl* control, Clock::time_point now) {  // REQUIRES: mutex_
    if (control->retrying.load(std::memory_order_relaxed)) return;
    control->retrying.store(true, std::memory_order_relaxed);
    if (retries_.empty()) next_retry_ = now + kRetryInterval;
    retries_.push_back(control);
    if (next_retry_ < sleeping_until_) wake_.notify_one();
  }

  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      const Clock::time_point now = Clock::now();
      // Fire every deadline that passed (the lock is held throughout, so deadlines due at
      // the same time, as a nested call's and its outer call's, fire together).
      while (!pending_.empty() && pending_.begin()->first <= now) {
        Deadline* due = pending_.begin()->second;
        pending_.erase(pending_.begin());
        due->armed_ = false;
        // The deadline is alive, so is its call: the control has a thread to signal.
        if (due->control_->request(runtime::kFlagTimeout)) add_retry(due->control_, now);
      }
      if (!retries_.empty() && now >= next_retry_) {
        std::erase_if(retries_, [](StopControl* control) {
          if (control->resignal()) return false;
          control->retrying.store(false, std::memory_order_release);
          return true;
        });
        next_retry_ = now + kRetryInterval;
      }
      Clock::time_point wake =
          pending_.empty() ? Clock::time_point::max() : pending_.begin()->first;
      if (!retries_.empty()) wake = std::min(wake, next_retry_);
      sleeping_until_ = wake;
      if (wake == Clock::time_point::max()) {
        wake_.wait(lock);
      } else {
        wake_.wait_until(lock, wake);
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<Clock::time_point, Deadline*> pending_;
  // Stops to deliver again: controls whose call runs and whose flag asked for a stop when
  // last seen. Each entry has `retrying` set; the control's owner drops it (forget()).
  std::vector<StopControl*> retries_;
  Clock::time_point next_retry_;
  // When the thread wakes up next by itself (max: only when notified). It can be earlier
  // than what is due first, which was dropped since; waking then is harmless.
  Clock::time_point sleeping_until_ = Clock::time_point::min();
  bool started_ = false;
};

Deadline::Deadline(StopControl& control, Clock::time_point when) : control_(&control), when_(when) {
  Watchdog::get().add(this);
}

Deadline::~Deadline() { Watchdog::get().remove(this); }

void retry_stop(StopControl& control) { Watchdog::get().retry(&control); }

void forget_stop(StopControl& control) { Watchdog::get().forget(&control); }

}  // namespace wasm_sandbox::detail
