// The background purge of expired nuts and old tombstones (expiry_sweeper.h).
#include "store/expiry_sweeper.h"

#include <vector>

#include "store/records.h"
#include "store/store_state.h"

namespace wasm_sandbox::store::detail {
namespace {

// One sweep: every tree opened so far, each in a write transaction of its own: expired nuts
// become tombstones, then (with StoreOptions::tombstone_lifetime) old tombstones go. A tree that
// fails (a full map, a corrupt entry) is left for the next sweep; purge_expired() and
// purge_tombstones() report the error to a caller who asks.
void sweep(StoreState& state) {
  std::vector<TreeInfo*> trees;
  {
    std::lock_guard lock(state.trees_mutex);
    for (auto& [name, info] : state.trees) trees.push_back(info.get());
  }
  for (TreeInfo* tree : trees) {
    (void)with_write(state, [&](WriteTxn& txn) -> Result<uint64_t> {
      return purge_expired_nuts(txn, *tree, now_ns());
    });
    const auto lifetime = std::chrono::nanoseconds(state.options.tombstone_lifetime).count();
    const uint64_t now = now_ns();
    if (lifetime > 0 && now > static_cast<uint64_t>(lifetime)) {
      (void)with_write(state, [&](WriteTxn& txn) -> Result<uint64_t> {
        return purge_old_tombstones(txn, *tree, now - static_cast<uint64_t>(lifetime));
      });
    }
  }
}

}  // namespace

void ExpirySweeper::start(StoreState* state, std::chrono::milliseconds interval) {
  thread_ = std::thread([this, state, interval] { run(state, interval); });
}

void ExpirySweeper::run(StoreState* state, std::chrono::milliseconds interval) {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
    lock.unlock();
    sweep(*state);
    lock.lock();
  }
}

void ExpirySweeper::close() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace wasm_sandbox::store::detail
