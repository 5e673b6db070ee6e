// What a stash costs against LMDB's own floor, in the same run: a write transaction with one
// mdb_put of the same bytes, on an environment opened as Store::open_memory() opens it. And
// stashes in memory in batches, where the per-transaction cost is shared.
#include <benchmark/benchmark.h>
#include <lmdb.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "store_workload.h"
#include "wasm_sandbox/store.h"

namespace {

using wasm_sandbox::store::Batch;
using wasm_sandbox::store::Store;
using wasm_sandbox::store::Tree;
using namespace store_bench;

// One LMDB write transaction per put of the document's MessagePack bytes plus a 25-byte header,
// over 100,000 ids: the least any one-transaction stash on LMDB can cost.
void lmdb_put_floor(benchmark::State& state) {
  std::string dir = (std::filesystem::temp_directory_path() / "ws-lmdb-floor-XXXXXX").string();
  if (!mkdtemp(dir.data())) return state.SkipWithError("mkdtemp failed");
  MDB_env* env = nullptr;
  mdb_env_create(&env);
  mdb_env_set_mapsize(env, size_t{1} << 30);
  mdb_env_set_maxdbs(env, 4);
  if (mdb_env_open(env, dir.c_str(), MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP | MDB_NOTLS,
                   0644) != 0) {
    return state.SkipWithError("mdb_env_open failed");
  }
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
  mdb_env_close(env);
  std::filesystem::remove_all(dir);
}
BENCHMARK(lmdb_put_floor);

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
