// Purging expired nuts, and old tombstones, in the background (StoreOptions::
// expiry_sweep_interval, tombstone_lifetime): a thread that wakes every interval and runs
// purge_expired (and purge_tombstones) over every tree the store has opened.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace wasm_sandbox::store::detail {

struct StoreState;

// Idle until start(). Thread-safe. The thread holds no reference to the store: StoreState owns
// the sweeper and closes it (waiting for a sweep in progress) before anything else it owns is
// destroyed.
class ExpirySweeper {
 public:
  ExpirySweeper() = default;
  ExpirySweeper(const ExpirySweeper&) = delete;
  ExpirySweeper& operator=(const ExpirySweeper&) = delete;
  ~ExpirySweeper() { close(); }

  // Sweeps `state` every `interval` (positive). REQUIRES: called once; close() before `state`
  // is destroyed.
  void start(StoreState* state, std::chrono::milliseconds interval);
  // Stops the thread at once (it waits on a condition variable), after a sweep in progress.
  void close();

 private:
  void run(StoreState* state, std::chrono::milliseconds interval);

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace wasm_sandbox::store::detail
