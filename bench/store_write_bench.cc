// What a stash costs against LMDB's own floor, in the same run: a write transaction with one
// mdb_put of the same bytes, on an environment opened as Store::open_memory() opens it. And
// stashes in memory in batches, where the per-transaction cost is shared.
#include <benchmark/benchmark.h>
#include <lmdb.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "store_workload.h"
#include "wasm_sandbox/store.h"

namespace {

using wasm_sandbox::store::Batch;
using wasm_sandbox::store::Store;
using wasm_sandbox::store::Tree;
using namespace store_bench;

// An LMDB environment in a fresh temporary directory, opened as Store::open_memory() opens its
// own; null `env` if that failed. Closed and removed when it goes.
struct FloorEnv {
  FloorEnv() {
    if (!mkdtemp(dir.data()) || mdb_env_create(&env) != 0) return;
    mdb_env_set_mapsize(env, size_t{1} << 30);
    mdb_env_set_maxdbs(env, 4);
    if (mdb_env_open(env, dir.c_str(), MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP | MDB_NOTLS,
                     0644) != 0) {
      mdb_env_close(env);
      env = nullptr;
    }
  }
  ~FloorEnv() {
    if (env) mdb_env_close(env);
    std::filesystem::remove_all(dir);
  }
  std::string dir = (std::filesystem::temp_directory_path() / "ws-lmdb-floor-XXXXXX").string();
  MDB_env* env = nullptr;
};

// One LMDB write transaction per put of the document's MessagePack bytes plus a 25-byte header,
// over 100,000 ids: the least any one-transaction stash on LMDB can cost.
void lmdb_put_floor(benchmark::State& state) {
  FloorEnv floor;
  if (!floor.env) return state.SkipWithError("cannot open an LMDB environment");
  MDB_env* env = floor.env;
  MDB_txn* txn = nullptr;
  MDB_dbi dbi;
  mdb_txn_begin(env, nullptr, 0, &txn);
  mdb_dbi_open(txn, "bench", MDB_CREATE, &dbi);
  mdb_txn_commit(txn);
  std::vector<uint8_t> body = json::to_msgpack(document(0));
  body.insert(body.begin(), 25, 0);
  uint64_t i = 0;
  for (auto _ : state) {
    std::string key = id(i++ % 100000);
    mdb_txn_begin(env, nullptr, 0, &txn);
    MDB_val k{key.size(), key.data()};
    MDB_val v{body.size(), body.data()};
    if (mdb_put(txn, dbi, &k, &v, 0) != 0) state.SkipWithError("mdb_put failed");
    mdb_txn_commit(txn);
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK(lmdb_put_floor);

// The writes one stash makes, done straight on LMDB in one transaction each, over 100,000 ids:
// read the id's record for its feed number, delete that feed entry, append the next one, and put
// the record (feed:moved, what the store does). What the store adds on top is its own cost; the
// rest is LMDB's. Two layouts the store does not use show what the feed costs: feed:appended
// leaves the old entry in place (a feed that grows with every write, holding stale entries), and
// feed:none keeps no feed at all (no changes(), so no sync).
enum class Feed { Moved, Appended, None };
void lmdb_stash_floor(benchmark::State& state, Feed layout) {
  FloorEnv floor;
  if (!floor.env) return state.SkipWithError("cannot open an LMDB environment");
  MDB_env* env = floor.env;
  MDB_txn* txn = nullptr;
  MDB_dbi live, feed;
  mdb_txn_begin(env, nullptr, 0, &txn);
  mdb_dbi_open(txn, "bench", MDB_CREATE, &live);
  mdb_dbi_open(txn, "bench$feed", MDB_CREATE, &feed);
  mdb_txn_commit(txn);
  std::vector<uint8_t> body = json::to_msgpack(document(0));
  body.insert(body.begin(), 25, 0);
  uint64_t i = 0;
  uint64_t seq = 0;
  for (auto _ : state) {
    std::string key = id(i++ % 100000);
    mdb_txn_begin(env, nullptr, 0, &txn);
    MDB_val k{key.size(), key.data()};
    MDB_val old;
    int rc = mdb_get(txn, live, &k, &old);
    if (rc == 0 && layout == Feed::Moved) {
      uint64_t old_seq;
      std::memcpy(&old_seq, static_cast<const char*>(old.mv_data) + 8, 8);
      MDB_val f{8, &old_seq};
      rc = mdb_del(txn, feed, &f, nullptr);
    }
    if (rc == MDB_NOTFOUND || layout != Feed::Moved) rc = 0;
    uint64_t next = __builtin_bswap64(++seq);
    MDB_val f{8, &next};
    if (rc == 0 && layout != Feed::None) rc = mdb_put(txn, feed, &f, &k, MDB_APPEND);
    MDB_val v{body.size(), nullptr};
    if (rc == 0) rc = mdb_put(txn, live, &k, &v, MDB_RESERVE);
    if (rc != 0) {
      mdb_txn_abort(txn);
      state.SkipWithError(mdb_strerror(rc));
      break;
    }
    std::memcpy(v.mv_data, body.data(), body.size());
    std::memcpy(static_cast<char*>(v.mv_data) + 8, &next, 8);
    mdb_txn_commit(txn);
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK_CAPTURE(lmdb_stash_floor, moved, Feed::Moved)->Name("lmdb_stash_floor/feed:moved");
BENCHMARK_CAPTURE(lmdb_stash_floor, appended, Feed::Appended)
    ->Name("lmdb_stash_floor/feed:appended");
BENCHMARK_CAPTURE(lmdb_stash_floor, none, Feed::None)->Name("lmdb_stash_floor/feed:none");

// Stashes in memory, `range(0)` to a transaction.
void stash_memory_batch(benchmark::State& state) {
  auto store = Store::open_memory();
  Tree tree = std::move(store->tree("bench")).value();
  json doc = document(0);
  uint64_t i = 0;
  const int64_t size = state.range(0);
  for (auto _ : state) {
    auto status = store->batch([&](Batch& batch) {
      for (int64_t n = 0; n < size; ++n) {
        doc["visits"] = i;
        batch.stash(tree, id(i++ % 100000), doc);
      }
    });
    if (!status.ok()) state.SkipWithError(status.error().message().c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK(stash_memory_batch)->Arg(10)->Arg(100)->Arg(1000);

}  // namespace
