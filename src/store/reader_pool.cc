// Reusing idle read transactions (reader_pool.h).
#include "store/reader_pool.h"

#include "store/lmdb_env.h"

namespace wasm_sandbox::store::lmdb {
namespace {

// True if `txn` (a read transaction holding a snapshot) reads the newest commit. A commit that
// completes after this check is concurrent with the read that uses the answer, which may then
// see either state; a commit that completed before it (on any thread that synchronized with
// the caller) has already updated the meta page this reads.
bool newest(MDB_txn* txn) {
  MDB_envinfo info;
  return mdb_env_info(mdb_txn_env(txn), &info) == 0 && info.me_last_txnid == mdb_txn_id(txn);
}

}  // namespace

Result<MDB_txn*> ReaderPool::acquire(MDB_env* env) {
  Idle idle{nullptr, false};
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      idle = idle_.back();
      idle_.pop_back();
    }
  }
  if (idle.txn) {
    if (idle.live) {
      if (newest(idle.txn)) return idle.txn;
      mdb_txn_reset(idle.txn);
    }
    if (mdb_txn_renew(idle.txn) == 0) return idle.txn;
    mdb_txn_abort(idle.txn);  // and begin a fresh one
  }
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
  if (rc != 0) return error(rc, "begin read transaction");
  return txn;
}

void ReaderPool::release(MDB_txn* txn) {
  bool live = newest(txn);
  if (!live) mdb_txn_reset(txn);
  {
    std::lock_guard lock(mutex_);
    if (idle_.size() < capacity_) {
      idle_.push_back({txn, live});
      return;
    }
  }
  mdb_txn_abort(txn);
}

void ReaderPool::reset_idle() {
  std::lock_guard lock(mutex_);
  for (Idle& idle : idle_) {
    if (idle.live) mdb_txn_reset(idle.txn);
    idle.live = false;
  }
}

void ReaderPool::close() {
  std::lock_guard lock(mutex_);
  for (const Idle& idle : idle_) mdb_txn_abort(idle.txn);
  idle_.clear();
}

}  // namespace wasm_sandbox::store::lmdb
