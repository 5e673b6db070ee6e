// What a Store handle shares with its Trees: the LMDB environment and the tree handles, plus
// the helpers that run a callback in a transaction. Internal to src/store.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "store/lmdb_env.h"
#include "store/reader_pool.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store::detail {

struct StoreState {
  // Constant after open.
  std::filesystem::path path;
  StoreOptions options;
  bool temporary = false;  // open_memory(): the directory is deleted on close
  lmdb::Env env;
  size_t max_key_size = 511;
  // Declared after env, so destroyed first; ~StoreState also closes it before env.
  lmdb::ReaderPool readers{16};

  // Tree name -> LMDB handle; LMDB forbids opening handles concurrently.
  std::mutex trees_mutex;
  std::unordered_map<std::string, MDB_dbi> trees;  // guarded by trees_mutex

  // The last timestamp handed out, so that timestamps never go back or repeat.
  std::atomic<uint64_t> last_timestamp_ns{0};

  ~StoreState();
  // Now, in ns since the Unix epoch, but at least `at_least` and above every earlier result.
  uint64_t next_timestamp(uint64_t at_least);
};

struct Access {
  static ReadTxn read_txn(StoreState* state, MDB_txn* txn) { return ReadTxn(state, txn); }
  static WriteTxn write_txn(StoreState* state, MDB_txn* txn) { return WriteTxn(state, txn); }
  static Batch batch(WriteTxn& txn) { return Batch(txn); }
  static Store store(std::shared_ptr<StoreState> state) { return Store(std::move(state)); }
  static Tree tree(std::shared_ptr<StoreState> state, MDB_dbi dbi, std::string name) {
    return Tree(std::move(state), dbi, std::move(name));
  }
  static StoreState* state(const Tree& tree) { return tree.state_.get(); }
  static MDB_dbi dbi(const Tree& tree) { return tree.dbi_; }
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

// Runs `fn(WriteTxn&)` in a new write transaction, committed if it succeeds; returns what it
// returns (a Status or a Result<T>), or the commit's error.
template <class F>
auto with_write(StoreState& state, F&& fn) -> decltype(fn(std::declval<WriteTxn&>())) {
  auto txn = lmdb::Txn::begin(state.env.get(), /*read_only=*/false);
  if (!txn.ok()) return std::move(txn).error().with_context(state.path.string());
  WriteTxn writer = Access::write_txn(&state, txn->get());
  auto result = fn(writer);
  if (!result.ok()) return result;  // ~Txn aborts
  Status committed = txn->commit();
  if (!committed.ok()) return std::move(committed).error().with_context(state.path.string());
  return result;
}

}  // namespace wasm_sandbox::store::detail
