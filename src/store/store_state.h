// What a Store handle shares with its Trees: the LMDB environment and the tree handles, plus
// the helpers that run a callback in a transaction. Internal to src/store.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/durability.h"
#include "store/expiry_sweeper.h"
#include "store/index_registry.h"
#include "store/lmdb_env.h"
#include "store/reader_pool.h"
#include "store/write_group.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store::detail {

// A tree's LMDB databases and its subscribers. Created by Store::tree() the first time a name
// is opened, owned by StoreState, never moved or freed before it: Tree handles point at it.
struct TreeInfo {
  std::string name;
  MDB_dbi live = 0;    // `<name>`: id -> nut (nut_codec.h)
  MDB_dbi dead = 0;    // `<name>$dead`: id -> tombstone header
  MDB_dbi feed = 0;    // `<name>$feed`: seq (uint64 big-endian) -> id
  MDB_dbi expiry = 0;  // `<name>$expiry`: expiry (uint64 big-endian) + id -> empty
  // The last sequence number handed out, and the write transaction (LMDB's id) after which it
  // was still the feed's last: valid for the next write transaction only if that one's id is
  // `last_seq_txnid + 1`, that is if nobody (another Store handle, another process) committed
  // in between; else the next writer reads the feed again. Read and written only inside write
  // transactions (so under LMDB's writer lock).
  uint64_t last_seq = 0;
  uint64_t last_seq_txnid = 0;
  // How many subscriptions are live: writes record changes only when this is not 0.
  std::atomic<uint32_t> subscribers{0};
};

// A write transaction's bookkeeping, committed with it: the trees whose sequence moved, and
// the changes to hand to subscribers after the commit.
struct WriteLog {
  std::vector<std::pair<TreeInfo*, uint64_t>> seqs;   // tree -> its last seq in this transaction
  std::vector<std::pair<TreeInfo*, Change>> changes;  // only for trees with subscribers
  // The next sequence number for `tree` in write transaction `txn`; an error if the feed
  // cannot be read.
  Result<uint64_t> next_seq(MDB_txn* txn, TreeInfo* tree);
};

struct Subscriber {
  uint64_t id;
  TreeInfo* tree;
  std::function<void(const Change&)> fn;
};

struct StoreState {
  // Constant after open.
  std::filesystem::path path;
  StoreOptions options;
  bool temporary = false;  // open_memory(): the directory is deleted on close
  lmdb::Env env;
  size_t max_key_size = 511;
  // Declared after env, so destroyed first; ~StoreState also closes it before env.
  lmdb::ReaderPool readers{16};
  // Durability (durability.h): flushes on demand, periodically, on close. ~StoreState closes
  // it before env; idle for open_memory().
  Syncer syncer;
  // StoreOptions::expiry_sweep_interval (expiry_sweeper.h); closed first by ~StoreState.
  ExpirySweeper sweeper;

  MDB_dbi meta = 0;  // `$meta`, opened on open
  std::string id;    // the store's identity (Store::id())

  // Tree name -> its databases; LMDB forbids opening handles concurrently.
  std::mutex trees_mutex;
  std::unordered_map<std::string, std::unique_ptr<TreeInfo>> trees;  // guarded by trees_mutex

  // Subscribers, and the lock that keeps notifications in commit order: a writer with changes
  // to deliver takes it before its commit and holds it while it calls them.
  std::mutex notify_mutex;
  std::mutex subscribers_mutex;  // guards subscribers and next_subscriber; taken after notify
  std::vector<std::shared_ptr<Subscriber>> subscribers;
  uint64_t next_subscriber = 1;

  // Secondary indexes per tree (index.h, index_registry.h).
  IndexRegistry indexes;

  // One-operation writes from several threads share transactions (write_group.h), where
  // every commit flushes to the disk; constant after open.
  bool group_writes = false;
  WriteGroups groups;

  // The last timestamp handed out, so that timestamps never go back or repeat.
  std::atomic<uint64_t> last_timestamp_ns{0};

  ~StoreState();
  // Now, in ns since the Unix epoch, but at least `at_least` and above every earlier result.
  uint64_t next_timestamp(uint64_t at_least);
};

struct Access {
  static ReadTxn read_txn(StoreState* state, MDB_txn* txn) { return ReadTxn(state, txn); }
  static WriteTxn write_txn(StoreState* state, MDB_txn* txn, WriteLog* log) {
    return WriteTxn(state, txn, log);
  }
  static WriteLog* log(WriteTxn& txn) { return txn.log_; }
  static Batch batch(WriteTxn& txn) { return Batch(txn); }
  static Store store(std::shared_ptr<StoreState> state) { return Store(std::move(state)); }
  static Tree tree(std::shared_ptr<StoreState> state, TreeInfo* info) {
    return Tree(std::move(state), info);
  }
  static Subscription subscription(std::shared_ptr<StoreState> state, uint64_t id) {
    return Subscription(std::move(state), id);
  }
  static StoreState* state(const Tree& tree) { return tree.state_.get(); }
  static TreeInfo* info(const Tree& tree) { return tree.info_; }
  static MDB_dbi dbi(const Tree& tree) { return tree.info_->live; }
  static StoreState* state(const ReadTxn& txn) { return txn.state_; }
  static MDB_txn* txn(const ReadTxn& txn) { return txn.txn_; }
};

// Runs `fn(const ReadTxn&)` on a new read snapshot and returns what it returns (a Status or a
// Result<T>).
template <class F>
auto with_read(StoreState& state, F&& fn) -> decltype(fn(std::declval<const ReadTxn&>())) {
  auto txn = state.readers.acquire(state.env.get());
  if (!txn.ok()) return std::move(txn).error().with_context(state.path.string());
  lmdb::PooledReader lease(state.readers, *txn);
  const ReadTxn reader = Access::read_txn(&state, lease.get());
  return fn(reader);
}

// The last sequence number in `tree`'s feed as `txn` sees it (0 for an empty feed): every write
// moves its id to a new, higher number, so the feed's last key is the last number handed out.
Result<uint64_t> read_last_seq(MDB_txn* txn, const TreeInfo& tree);

// InvalidArgument if this thread is inside a subscription callback of `state` (a write there
// would wait for the notification lock the thread holds).
Status check_not_notifying(const StoreState& state);
// Before the commit of `txn`: the trees' cached sequence numbers move on.
void flush_log(MDB_txn* txn, const WriteLog& log);
// After the commit: hands the changes to the subscribers (under the notification lock
// with_write took before the commit).
void publish_log(StoreState& state, WriteLog& log);

// A write transaction of `state` (taking LMDB's writer lock), or InvalidArgument if the store
// was opened read-only (StoreOptions::read_only). Errors without the store's path: callers add
// their context.
Result<lmdb::Txn> begin_write(StoreState& state);

// Runs `fn(WriteTxn&)` in a new write transaction, committed if it succeeds; returns what it
// returns (a Status or a Result<T>), or the commit's error.
template <class F>
auto with_write(StoreState& state, F&& fn) -> decltype(fn(std::declval<WriteTxn&>())) {
  if (Status busy = check_not_notifying(state); !busy.ok()) return std::move(busy).error();
  auto txn = begin_write(state);
  if (!txn.ok()) return std::move(txn).error().with_context(state.path.string());
  WriteLog log;
  WriteTxn writer = Access::write_txn(&state, txn->get(), &log);
  auto result = fn(writer);
  if (!result.ok()) return result;  // ~Txn aborts
  flush_log(txn->get(), log);
  std::unique_lock<std::mutex> notifying;
  if (!log.changes.empty()) notifying = std::unique_lock(state.notify_mutex);
  Status committed = txn->commit();
  if (!committed.ok()) return std::move(committed).error().with_context(state.path.string());
  state.readers.reset_idle();  // idle readers must not pin the old snapshot (reader_pool.h)
  publish_log(state, log);
  return result;
}

// Runs `fn(WriteTxn&)` as a grouped write of `state` (write_group.h) if its commits flush,
// else as with_write does, and returns what it returns (a Status or a Result<T>), or its
// transaction's error. `fn` may run more than once (again alone, after its group failed); each
// run starts from what the store holds then.
template <class F>
auto with_grouped_write(StoreState& state, F&& fn) -> decltype(fn(std::declval<WriteTxn&>())) {
  if (!state.group_writes) return with_write(state, std::forward<F>(fn));
  if (Status busy = check_not_notifying(state); !busy.ok()) return std::move(busy).error();
  using R = decltype(fn(std::declval<WriteTxn&>()));
  std::optional<R> result;
  auto run = [&](WriteTxn& txn) {
    result.emplace(fn(txn));
    return result->ok();
  };
  GroupedWrite write;
  write.op = [](void* context, WriteTxn& txn) {
    return (*static_cast<decltype(run)*>(context))(txn);
  };
  write.context = &run;
  state.groups.run(state, write);
  if (!write.status.ok()) return std::move(write.status).error();
  return std::move(*result);
}

}  // namespace wasm_sandbox::store::detail
