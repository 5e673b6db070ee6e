// Which secondary indexes each tree has (index.h keeps them current; the query planner reads
// them). Part of StoreState.
//
// Concurrency: the lists are immutable snapshots (shared_ptr<const>) swapped under `mutex`.
// create_index/drop_index hold `mutex` from just before their commit until the new list is
// published, so that a writer which begins after that commit (and so must maintain the new
// index, or must not touch the dropped one) waits in lookup() until the list is current; and a
// reader that began its snapshot after the commit sees the list published. Lock order: LMDB's
// writer lock, then `mutex`; never the other way.
#pragma once

#include <lmdb.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/field_path.h"

namespace wasm_sandbox::store::detail {

struct IndexDef {
  std::string field;  // canonical (field_path::canonical)
  field_path::Path path;
  MDB_dbi dbi = 0;
  // The id of the write transaction that built it; LMDB snapshots older than that do not
  // hold it (0: opened with the store).
  uint64_t built_txnid = 0;
};
using TreeIndexes = std::vector<IndexDef>;  // sorted by field

struct IndexRegistry {
  // The tree's indexes now (never null).
  std::shared_ptr<const TreeIndexes> lookup(const std::string& tree) {
    std::lock_guard lock(mutex);
    auto found = by_tree.find(tree);
    return found != by_tree.end() ? found->second : empty;
  }
  // False when no index exists or is being created: the stash path then skips lookup().
  bool any() const { return pending_or_live.load(std::memory_order_acquire) != 0; }

  std::mutex mutex;
  // guarded by mutex:
  std::unordered_map<std::string, std::shared_ptr<const TreeIndexes>> by_tree;
  // Every index database opened since the store opened (dropped ones stay open: LMDB handles
  // are not safe to close while readers may use them), name -> handle.
  std::unordered_map<std::string, MDB_dbi> handles;
  // Indexes published plus those being created; changed by the index writer only.
  std::atomic<unsigned> pending_or_live{0};
  const std::shared_ptr<const TreeIndexes> empty = std::make_shared<const TreeIndexes>();
};

}  // namespace wasm_sandbox::store::detail
