// Idle read transactions kept for reuse.
//
// Beginning a read transaction on an MDB_NOTLS environment claims a slot in LMDB's reader table
// under a process-shared mutex; a reset transaction keeps its slot, and renewing it takes no
// lock. Reads are the common operation (one transaction per Tree::crack), so the store keeps
// a few idle transactions instead of aborting them.
//
// An idle transaction whose snapshot is still the newest commit is kept live, not reset: the
// next read takes it as it is and skips the reset, the renew and LMDB's re-reading of the tree's
// root on the first access after a renew (a tenth of a point read, docs/store.md). It sees what
// a fresh transaction would, since nothing has committed since. A live idle transaction pins its
// snapshot (LMDB cannot reuse pages freed after it), so every write commit calls reset_idle():
// idle transactions never hold back page reuse beyond what a running reader would. Thread-safe.
#pragma once

#include <lmdb.h>

#include <cstddef>
#include <mutex>
#include <vector>

#include "wasm_sandbox/result.h"

namespace wasm_sandbox::store::lmdb {

class ReaderPool {
 public:
  // Keeps at most `capacity` idle transactions (each holds one of LMDB's reader slots, 126 by
  // default).
  explicit ReaderPool(size_t capacity) : capacity_(capacity) {}
  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;
  // REQUIRES: close() was called before the environment closed.
  ~ReaderPool() { close(); }

  // A read transaction on `env` on the newest snapshot: an idle one still on it, else an idle
  // one renewed, else a new one. Errors as lmdb::error().
  Result<MDB_txn*> acquire(MDB_env* env);
  // Ends `txn` (from acquire()): kept (live if its snapshot is still the newest, else reset), or
  // aborted when the pool is full.
  void release(MDB_txn* txn);
  // Resets every live idle transaction. Call after each write commit (see above).
  void reset_idle();
  // Aborts every idle transaction. Call before closing the environment.
  void close();

 private:
  struct Idle {
    MDB_txn* txn;
    bool live;  // not reset: still holds its snapshot
  };
  const size_t capacity_;
  std::mutex mutex_;
  std::vector<Idle> idle_;  // guarded by mutex_
};

// A read transaction from a pool, released on destruction.
class PooledReader {
 public:
  PooledReader(ReaderPool& pool, MDB_txn* txn) : pool_(pool), txn_(txn) {}
  PooledReader(const PooledReader&) = delete;
  PooledReader& operator=(const PooledReader&) = delete;
  ~PooledReader() { pool_.release(txn_); }
  MDB_txn* get() const { return txn_; }

 private:
  ReaderPool& pool_;
  MDB_txn* txn_;
};

}  // namespace wasm_sandbox::store::lmdb
