// Reusing reset read transactions (reader_pool.h).
#include "store/reader_pool.h"

#include "store/lmdb_env.h"

namespace wasm_sandbox::store::lmdb {

Result<MDB_txn*> ReaderPool::acquire(MDB_env* env) {
  MDB_txn* txn = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      txn = idle_.back();
      idle_.pop_back();
    }
  }
  if (txn) {
    if (mdb_txn_renew(txn) == 0) return txn;
    mdb_txn_abort(txn);  // and begin a fresh one
  }
  int rc = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
  if (rc != 0) return error(rc, "begin read transaction");
  return txn;
}

void ReaderPool::release(MDB_txn* txn) {
  mdb_txn_reset(txn);
  {
    std::lock_guard lock(mutex_);
    if (idle_.size() < capacity_) {
      idle_.push_back(txn);
      return;
    }
  }
  mdb_txn_abort(txn);
}

void ReaderPool::close() {
  std::lock_guard lock(mutex_);
  for (MDB_txn* txn : idle_) mdb_txn_abort(txn);
  idle_.clear();
}

}  // namespace wasm_sandbox::store::lmdb
