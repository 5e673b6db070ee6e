// Group commit: one-operation writes (Tree::stash, Tree::stash_text, Tree::toss, a guest's
// store capability writes) from threads that write at the same time to a store whose commits
// flush (Durability::SyncEveryCommit, SyncEveryCommitButLast) share a write transaction, its
// commit and its flush, instead of each taking LMDB's writer lock and flushing alone. Stores
// whose commits do not wait for the disk do not group (StoreState::group_writes says why).
//
// The first thread to arrive leads: it takes every write queued behind it (up to kMaxGroup),
// runs them in order in one transaction, commits, delivers their changes to subscribers, wakes
// their threads, and hands the lead to the first write that queued meanwhile. Each write keeps
// its own result and its own atomicity: if any write of a group fails, or the group's commit
// does, the transaction is aborted and every write of the group runs again alone, in the same
// order, exactly as it would have without grouping. A write alone pays two uncontended mutex
// operations more than a plain write transaction. with_grouped_write (store_state.h) is the
// way in. Internal to src/store.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>

#include "wasm_sandbox/result.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store::detail {

struct StoreState;

// One write waiting for, or being run in, a group. Lives on its writer's stack until run()
// returns; the leader runs `op` on its own thread, so `op` must not depend on the thread.
struct GroupedWrite {
  // Runs the write in `txn`; false if it failed (its result, kept by the caller, says why).
  bool (*op)(void* context, WriteTxn& txn);
  void* context;
  // A failure outside the write itself: beginning or committing its transaction.
  Status status;

  // Owned by WriteGroups, under its mutex.
  enum class Turn { Waiting, Leading, Done } turn = Turn::Waiting;
  GroupedWrite* next = nullptr;
  std::condition_variable wake;
};

class WriteGroups {
 public:
  // Writes per group at most: a bound on a group's transaction, and on a leader's extra wait.
  static constexpr size_t kMaxGroup = 128;

  // Runs `write` (alone or in a group) and returns once it has committed, its changes have been
  // delivered, or it failed. Thread-safe; must not be called inside a write transaction of the
  // same store on this thread (LMDB's writer lock is not re-entrant).
  void run(StoreState& state, GroupedWrite& write);

  // Writes queued and not yet taken by a leader (for tests).
  size_t waiting();

 private:
  std::mutex mutex_;
  GroupedWrite* head_ = nullptr;  // queued, in arrival order
  GroupedWrite* tail_ = nullptr;
  bool leading_ = false;  // a thread is running a group (head_ waits for it)
};

}  // namespace wasm_sandbox::store::detail
