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
    const bool earliest = pending_.empty() || deadline->when_ < pending_.begin()->first;
    pending_.emplace(deadline->when_, deadline);
    if (earliest) wake_.notify_one();
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
        wake_.wait(lock);
        continue;
      }
      const auto next = pending_.begin();
      // A copy: while waiting, the lock is released and the entry may be removed.
      const Clock::time_point when = next->first;
      if (Clock::now() < when) {
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
  bool started_ = false;
};

Deadline::Deadline(uint32_t* flag, Clock::time_point when) : flag_(flag), when_(when) {
  Watchdog::get().add(this);
}

Deadline::~Deadline() { Watchdog::get().remove(this); }

}  // namespace wasm_sandbox::detail
