// The worker pool and strands (workers.h).
#include "sandbox/workers.h"

#include <algorithm>
#include <condition_variable>
#include <thread>
#include <utility>

namespace wasm_sandbox::detail {
namespace {

class WorkerPool {
 public:
  static WorkerPool& get() {
    static auto* pool = new WorkerPool;  // never destroyed: workers run until exit
    return *pool;
  }

  void post(std::function<void()> task) {
    {
      std::lock_guard lock(mutex_);
      tasks_.push_back(std::move(task));
      if (threads_ == 0) start();
    }
    ready_.notify_one();
  }

 private:
  void start() {  // REQUIRES: mutex_
    threads_ = std::max(2u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < threads_; ++i) std::thread([this] { run(); }).detach();
  }

  void run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return !tasks_.empty(); });
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;  // guarded by mutex_
  unsigned threads_ = 0;                     // guarded by mutex_
};

}  // namespace

void run_on_worker(std::function<void()> task) { WorkerPool::get().post(std::move(task)); }

void Strand::post(std::function<void()> task) {
  bool start = false;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(task));
    start = !std::exchange(running_, true);
  }
  if (start) run_on_worker([self = shared_from_this()] { self->drain(); });
}

// One worker runs the queue dry; tasks posted meanwhile join the queue.
void Strand::drain() {
  for (;;) {
    std::function<void()> task;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) {
        running_ = false;
        return;
      }
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace wasm_sandbox::detail
