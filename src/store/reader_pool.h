// Idle read transactions kept for reuse.
//
// Beginning a read transaction on an MDB_NOTLS environment claims a slot in LMDB's reader table
// under a process-shared mutex; a reset transaction keeps its slot, and renewing it takes no
// lock. Reads are the common operation (one transaction per Tree::crack), so the store keeps
// a few reset transactions instead of aborting them. Thread-safe.
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

  // A read transaction on `env`, renewed from the pool or begun; errors as lmdb::error().
  Result<MDB_txn*> acquire(MDB_env* env);
  // Ends `txn` (from acquire()): reset and kept, or aborted when the pool is full.
  void release(MDB_txn* txn);
  // Aborts every idle transaction. Call before closing the environment.
  void close();

 private:
  const size_t capacity_;
  std::mutex mutex_;
  std::vector<MDB_txn*> idle_;  // reset read transactions; guarded by mutex_
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
