// The worker threads behind call_async (engine.h, typed_func.h): one process-wide pool, and a
// strand per instance so that an instance still runs one call at a time.
//
// The pool starts with the first task and has one thread per core (at least two); its
// threads live until the process exits. Process-wide rather than per engine: a task may hold
// the last reference to its engine, so no engine may own (and join) the threads.
//
// Thread safety: everything here may be called from any thread.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

namespace wasm_sandbox::detail {

// Runs `task` on a worker thread, soon. The task must not throw.
void run_on_worker(std::function<void()> task);

// Tasks for one instance, run one after another in the order posted, on worker threads.
// Held by shared_ptr: the worker draining it keeps it alive, so that a task may drop the last
// reference to the instance that owns it.
class Strand : public std::enable_shared_from_this<Strand> {
 public:
  void post(std::function<void()> task);

 private:
  void drain();

  std::mutex mutex_;
  std::deque<std::function<void()>> queue_;  // guarded by mutex_
  bool running_ = false;                     // guarded by mutex_: a worker drains the queue
};

}  // namespace wasm_sandbox::detail
