// How a durable store's commits reach the disk (store.h, Durability): the LMDB flags of each
// mode, and the Syncer that flushes for the modes whose commits do not.
//
// Assumes LMDB's contract for mdb_env_sync(): it may be called from any thread at any time,
// alongside transactions, and flushes what has committed so far.
#pragma once

#include <lmdb.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "wasm_sandbox/result.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store::detail {

// The mdb_env_open() flags for `options.durability`; InvalidArgument naming `where` for a
// periodic mode without a positive interval.
Result<unsigned> durability_flags(const StoreOptions& options, const std::string& where);

// Flushes a durable environment: on demand (sync()), every interval from a thread of its own
// (SyncPeriodically), and on close (every mode but NoSync). Idle until start(); an idle
// Syncer's sync() and close() do nothing (open_memory()). Thread-safe.
class Syncer {
 public:
  Syncer() = default;
  Syncer(const Syncer&) = delete;
  Syncer& operator=(const Syncer&) = delete;
  ~Syncer() { close(); }

  // Begins flushing `env` as `options.durability` asks; `where` (the store path) prefixes
  // errors. REQUIRES: called once, and close() is called before `env` closes.
  void start(MDB_env* env, const StoreOptions& options, std::string where);
  // Flushes now. Returns the first failed background flush if there was one, else this one's
  // result (Io naming the path).
  Status sync();
  // Stops the thread (at once: it waits on a condition variable, not a sleep), then flushes a
  // last time unless the mode is NoSync. Later calls do nothing.
  void close();

 private:
  void run(std::chrono::milliseconds interval);
  Status flush();  // REQUIRES: env_ is set

  // Constant between start() and close().
  MDB_env* env_ = nullptr;
  Durability durability_ = Durability::SyncEveryCommit;
  std::string where_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;      // guarded by mutex_
  Status background_failure_;  // guarded by mutex_: the first failed background flush
  std::thread thread_;         // SyncPeriodically only
};

}  // namespace wasm_sandbox::store::detail
