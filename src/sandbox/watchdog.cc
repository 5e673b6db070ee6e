// The watchdog thread behind Deadline (watchdog.h).
#include "sandbox/watchdog.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "runtime/runtime.h"

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
    if (!started_) {
      std::thread([this] { run(); }).detach();
      started_ = true;
    }
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

 private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (pending_.empty()) {
        sleeping_until_ = Clock::time_point::max();
        wake_.wait(lock);
        continue;
      }
      const auto next = pending_.begin();
      // A copy: while waiting, the lock is released and the entry may be removed.
      const Clock::time_point when = next->first;
      if (Clock::now() < when) {
        sleeping_until_ = when;
        wake_.wait_until(lock, when);
        continue;
      }
      Deadline* due = next->second;
      pending_.erase(next);
      due->armed_ = false;
      std::atomic_ref<uint32_t>(*due->flag_).fetch_or(runtime::kFlagTimeout);
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<Clock::time_point, Deadline*> pending_;
  // When the thread wakes up next by itself (max: only when notified). It can be earlier
  // than pending_'s first entry, whose predecessor was dropped; waking then is harmless.
  Clock::time_point sleeping_until_ = Clock::time_point::min();
  bool started_ = false;
};

Deadline::Deadline(uint32_t* flag, Clock::time_point when) : flag_(flag), when_(when) {
  Watchdog::get().add(this);
}

Deadline::~Deadline() { Watchdog::get().remove(this); }

}  // namespace wasm_sandbox::detail
