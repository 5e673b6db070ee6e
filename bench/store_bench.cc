// The store's throughput on ~150-byte documents (docs/store.md, Performance): stash in memory,
// stash in batches of 1,000 on a durable (fsynced) store, point reads in their three forms
// (crack: an nlohmann::json; crack_raw: the MessagePack bytes; crack_text: JSON text), scans,
// queries over 10k documents (indexed, scanned), the space 10k documents take; and the codec choice
// (MessagePack vs JSON text). store_sqlite_bench.cc runs the same workload (store_workload.h) on
// SQLite: every store/X here has a sqlite/X there.
#include <benchmark/benchmark.h>
#include <lmdb.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>

#include "store/msgpack_reader.h"
#include "store/msgpack_text.h"
#include "store/msgpack_writer.h"
#include "store_workload.h"
#include "wasm_sandbox/store.h"

namespace {

using namespace store_bench;
using wasm_sandbox::store::Batch;
using wasm_sandbox::store::Durability;
using wasm_sandbox::store::NutView;
using wasm_sandbox::store::Op;
using wasm_sandbox::store::Query;
using wasm_sandbox::store::ReadTxn;
using wasm_sandbox::store::Store;
using wasm_sandbox::store::StoreOptions;
using wasm_sandbox::store::Tree;

std::filesystem::path temp_dir(const char* what) {
  return std::filesystem::temp_directory_path() /
         ("ws-store-bench-" + std::string(what) + "-" + std::to_string(getpid()));
}

// A memory store holding documents 0..kCount-1 in tree "bench".
struct Filled {
  Store store;
  Tree tree;
};
Filled filled_memory_store(benchmark::State& state) {
  Store store = std::move(Store::open_memory()).value();
  Tree tree = std::move(store.tree("bench")).value();
  auto filled = store.batch([&](Batch& batch) {
    for (uint64_t i = 0; i < kCount; ++i) batch.stash(tree, id(i), document(i));
  });
  if (!filled.ok()) state.SkipWithError(filled.error().message().c_str());
  return {std::move(store), std::move(tree)};
}

// One stash per call into `tree`, the document's "visits" changing each time, over `ids` ids
// that start with `prefix`.
void stash_each(benchmark::State& state, const Tree& tree, uint64_t ids,
                const std::string& prefix = "") {
  json doc = document(0);
  uint64_t i = 0;
  for (auto _ : state) {
    doc["visits"] = i;
    std::string key = id(i++ % ids);
    if (!prefix.empty()) key.insert(0, prefix);
    if (!tree.stash(key, doc).ok()) state.SkipWithError("stash failed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}

// The threaded benchmarks: each thread its own 50,000 ids.
void stash_from_threads(benchmark::State& state, const Tree& tree) {
  stash_each(state, tree, 50000, "t" + std::to_string(state.thread_index()) + ":");
}

void stash_memory(benchmark::State& state) {
  auto store = Store::open_memory();
  stash_each(state, std::move(store->tree("bench")).value(), 100000);
}
BENCHMARK(stash_memory)->Name("store/stash_memory");

// Threads stashing into one memory store at once. Memory stores do not group writes (the
// threads take turns at LMDB's writer lock): docs/store.md, "Group commit".
void stash_memory_threads(benchmark::State& state) {
  static Store store = std::move(Store::open_memory()).value();
  static Tree tree = std::move(store.tree("bench")).value();
  stash_from_threads(state, tree);
}
BENCHMARK(stash_memory_threads)
    ->Name("store/stash_memory_threads")
    ->Threads(1)
    ->Threads(2)
    ->Threads(4)
    ->UseRealTime();

// A durable store in a fresh temporary directory, removed when the benchmark ends.
class DurableStore {
 public:
  explicit DurableStore(Durability durability)
      : dir_(std::filesystem::temp_directory_path() /
             ("ws-store-bench-" + std::to_string(getpid()) + "-" + to_string(durability))) {
    std::filesystem::remove_all(dir_);
    StoreOptions options;
    options.durability = durability;  // SyncPeriodically: every second, the default
    store_ = std::move(Store::open(dir_, options)).value();
    tree_ = std::move(store_->tree("bench")).value();
  }
  ~DurableStore() {
    tree_.reset();
    store_.reset();  // closes (and, but for NoSync, flushes) before the directory goes
    std::filesystem::remove_all(dir_);
  }
  Store& store() { return *store_; }
  Tree& tree() { return *tree_; }

 private:
  std::filesystem::path dir_;
  std::optional<Store> store_;
  std::optional<Tree> tree_;
};

// One stash per transaction, on disk: the cost of a commit in each Durability (wall time, so
// that the background flush of SyncPeriodically counts).
void stash_durable_single(benchmark::State& state, Durability durability) {
  DurableStore durable(durability);
  stash_each(state, durable.tree(), 100000);
}
BENCHMARK_CAPTURE(stash_durable_single, sync, Durability::SyncEveryCommit)
    ->Name("store/stash_durable_single/sync")
    ->UseRealTime();
BENCHMARK_CAPTURE(stash_durable_single, sync_but_last, Durability::SyncEveryCommitButLast)
    ->Name("store/stash_durable_single/sync_but_last")
    ->UseRealTime();
BENCHMARK_CAPTURE(stash_durable_single, periodic, Durability::SyncPeriodically)
    ->Name("store/stash_durable_single/periodic")
    ->UseRealTime();
BENCHMARK_CAPTURE(stash_durable_single, none, Durability::NoSync)
    ->Name("store/stash_durable_single/none")
    ->UseRealTime();

// Threads stashing one at a time each into one store that fsyncs every commit: grouped writes
// share commits, so they share fsyncs (docs/store.md, "Group commit").
void stash_durable_threads(benchmark::State& state) {
  static DurableStore durable(Durability::SyncEveryCommit);
  stash_from_threads(state, durable.tree());
}
BENCHMARK(stash_durable_threads)
    ->Name("store/stash_durable_threads/sync")
    ->Threads(1)
    ->Threads(4)
    ->Threads(16)
    ->UseRealTime();

// Batches of 1,000 stashes, one transaction each.
void stash_durable_batch_1000(benchmark::State& state, Durability durability) {
  DurableStore durable(durability);
  json doc = document(0);
  uint64_t i = 0;
  for (auto _ : state) {
    auto status = durable.store().batch([&](Batch& batch) {
      for (int n = 0; n < 1000; ++n) {
        doc["visits"] = i;
        batch.stash(durable.tree(), id(i++ % 100000), doc);
      }
    });
    if (!status.ok()) state.SkipWithError(status.error().message().c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK_CAPTURE(stash_durable_batch_1000, sync, Durability::SyncEveryCommit)
    ->Name("store/stash_durable_batch_1000/sync")
    ->UseRealTime();
BENCHMARK_CAPTURE(stash_durable_batch_1000, sync_but_last, Durability::SyncEveryCommitButLast)
    ->Name("store/stash_durable_batch_1000/sync_but_last")
    ->UseRealTime();
BENCHMARK_CAPTURE(stash_durable_batch_1000, periodic, Durability::SyncPeriodically)
    ->Name("store/stash_durable_batch_1000/periodic")
    ->UseRealTime();
BENCHMARK_CAPTURE(stash_durable_batch_1000, none, Durability::NoSync)
    ->Name("store/stash_durable_batch_1000/none")
    ->UseRealTime();

// Point reads, one read transaction each, ids in a scattered order.
void crack(benchmark::State& state) {
  auto [store, tree] = filled_memory_store(state);
  const auto ids = read_order();
  uint64_t i = 0;
  for (auto _ : state) {
    auto nut = tree.crack(ids[i++ % kCount]);
    benchmark::DoNotOptimize(nut);
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK(crack)->Name("store/crack");

void crack_raw(benchmark::State& state) {
  auto [store, tree] = filled_memory_store(state);
  const auto ids = read_order();
  uint64_t i = 0;
  for (auto _ : state) {
    auto nut = tree.crack_raw(ids[i++ % kCount]);
    benchmark::DoNotOptimize(nut);
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK(crack_raw)->Name("store/crack_raw");

// The nut in place, one read transaction each: Tree::crack_view hands the callback a view of
// LMDB's page (here it reads the version and the payload's size), nothing copied.
void crack_view(benchmark::State& state) {
  auto [store, tree] = filled_memory_store(state);
  const auto ids = read_order();
  uint64_t i = 0;
  uint64_t seen = 0;
  for (auto _ : state) {
    auto done = tree.crack_view(
        ids[i++ % kCount], [&](const NutView& nut) { seen += nut.version + nut.msgpack.size(); });
    if (!done.ok()) state.SkipWithError("crack_view failed");
  }
  benchmark::DoNotOptimize(seen);
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK(crack_view)->Name("store/crack_view");

// The document as JSON text (an owned std::string), as sqlite/crack returns it.
void crack_text(benchmark::State& state) {
  auto [store, tree] = filled_memory_store(state);
  const auto ids = read_order();
  uint64_t i = 0;
  for (auto _ : state) {
    std::string text;
    auto done = tree.crack_view(ids[i++ % kCount],
                                [&](const NutView& nut) { (void)nut.append_json_text(&text); });
    benchmark::DoNotOptimize(text);
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK(crack_text)->Name("store/crack_text");

// Zero-copy reads, 100 per read transaction: the lookup alone, without a transaction's cost.
void crack_view_in_txn(benchmark::State& state) {
  auto [store, tree] = filled_memory_store(state);
  const auto ids = read_order();
  uint64_t i = 0;
  for (auto _ : state) {
    auto done = store.read([&](const ReadTxn& txn) {
      for (int n = 0; n < 100; ++n) {
        auto nut = txn.crack_view(tree, ids[i++ % kCount]);
        benchmark::DoNotOptimize(nut);
      }
    });
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK(crack_view_in_txn)->Name("store/crack_view_100_per_txn");

// The floor under every point read: LMDB alone, mdb_get on the same tree (opened straight with
// LMDB), range(0) per read transaction (reset and renewed, as the store's pool does), nothing
// decoded or copied. The first get in a transaction also looks the tree up in LMDB's main
// database (LMDB marks named databases stale on every renew).
void lmdb_get(benchmark::State& state) {
  auto dir = temp_dir("lmdb-get");
  std::filesystem::remove_all(dir);
  {
    Store store = std::move(Store::open(dir, {.durability = Durability::NoSync})).value();
    Tree tree = std::move(store.tree("bench")).value();
    auto filled = store.batch([&](Batch& batch) {
      for (uint64_t i = 0; i < kCount; ++i) batch.stash(tree, id(i), document(i));
    });
    if (!filled.ok()) state.SkipWithError(filled.error().message().c_str());
  }
  MDB_env* env = nullptr;
  MDB_txn* txn = nullptr;
  MDB_dbi dbi;
  if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 4) != 0 ||
      mdb_env_open(env, dir.c_str(), MDB_RDONLY, 0644) != 0 ||
      mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) != 0 ||
      mdb_dbi_open(txn, "bench", 0, &dbi) != 0 || mdb_txn_commit(txn) != 0 ||
      mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) != 0) {
    state.SkipWithError("cannot open the environment");
  }
  const auto ids = read_order();
  uint64_t i = 0;
  const int64_t per_txn = state.range(0);
  for (auto _ : state) {
    mdb_txn_reset(txn);
    mdb_txn_renew(txn);
    for (int64_t n = 0; n < per_txn; ++n) {
      const std::string& key = ids[i++ % kCount];
      MDB_val k{key.size(), const_cast<char*>(key.data())}, v;
      if (mdb_get(txn, dbi, &k, &v) != 0) state.SkipWithError("missing key");
      benchmark::DoNotOptimize(v);
    }
  }
  mdb_txn_abort(txn);
  mdb_env_close(env);
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK(lmdb_get)->Name("lmdb/get")->ArgName("per_txn")->Arg(1)->Arg(100);

// The fixed cost of a read transaction through the store (pool, renew, reset), nothing read.
void empty_read(benchmark::State& state) {
  auto [store, tree] = filled_memory_store(state);
  for (auto _ : state) {
    auto done = store.read([](const ReadTxn&) {});
    benchmark::DoNotOptimize(done);
  }
}
BENCHMARK(empty_read)->Name("store/empty_read_txn");

// The age query (kAgeFrom <= age < kAgeTo: 100 of 10k), returned as JSON text, through an index
// on "age" and by a scan of the tree; pairs with sqlite/query_age (indexed).
void query_age(benchmark::State& state, bool indexed) {
  auto [store, tree] = filled_memory_store(state);
  if (indexed && !tree.create_index("age").ok()) state.SkipWithError("create_index failed");
  const Query query = Query().where("age", Op::Ge, kAgeFrom).where("age", Op::Lt, kAgeTo);
  if (tree.explain(query)->index.empty() == indexed) state.SkipWithError("unexpected plan");
  size_t found = 0;
  for (auto _ : state) {
    auto nuts = tree.query(query);
    if (!nuts.ok()) state.SkipWithError("query failed");
    std::vector<std::string> texts;
    for (const auto& nut : *nuts) texts.push_back(nut.payload.dump());
    found = texts.size();
    benchmark::DoNotOptimize(texts);
  }
  state.counters["found"] = static_cast<double>(found);
}
void query_age_indexed(benchmark::State& state) { query_age(state, true); }
void query_age_scanned(benchmark::State& state) { query_age(state, false); }
BENCHMARK(query_age_indexed)->Name("store/query_age");
BENCHMARK(query_age_scanned)->Name("store/query_age_no_index");

// Every nut decoded into an nlohmann::json.
void scan(benchmark::State& state) {
  auto [store, tree] = filled_memory_store(state);
  for (auto _ : state) {
    uint64_t n = 0;
    auto status = tree.scan({}, [&](wasm_sandbox::store::Nut&) { return ++n, true; });
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * kCount);
}
BENCHMARK(scan)->Name("store/scan_10k");

// Every nut rendered as JSON text into one reused buffer (what sqlite/scan_10k does).
void scan_text(benchmark::State& state) {
  auto [store, tree] = filled_memory_store(state);
  std::string text;
  for (auto _ : state) {
    uint64_t bytes = 0;
    auto status = tree.scan_view({}, [&](const NutView& nut) {
      text.clear();
      (void)nut.append_json_text(&text);
      bytes += text.size();
      return true;
    });
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations() * kCount);
}
BENCHMARK(scan_text)->Name("store/scan_10k_text");

// What kCount documents cost on disk beyond their JSON text (docs/store.md): pages the LMDB
// environment has allocated (me_last_pgno + 1, so meta pages, the tree catalogue, branch
// pages and free pages count) times the page size, minus the sum of the documents' compact
// JSON text sizes. Filled in batches of 1,000 (range(0) = 1000) or one stash per transaction
// (range(0) = 1), ids in the benchmarks' order.
void space(benchmark::State& state) {
  const uint64_t per_txn = static_cast<uint64_t>(state.range(0));
  uint64_t data = 0;
  for (uint64_t i = 0; i < kCount; ++i) data += document(i).dump().size();
  for (auto _ : state) {
    auto dir = temp_dir("space");
    std::filesystem::remove_all(dir);
    {
      Store store = std::move(Store::open(dir, {.durability = Durability::NoSync})).value();
      Tree tree = std::move(store.tree("bench")).value();
      for (uint64_t i = 0; i < kCount; i += per_txn) {
        auto done = store.batch([&](Batch& batch) {
          for (uint64_t j = i; j < i + per_txn && j < kCount; ++j) {
            batch.stash(tree, id(j), document(j));
          }
        });
        if (!done.ok()) state.SkipWithError(done.error().message().c_str());
      }
    }
    MDB_env* env = nullptr;
    MDB_envinfo info;
    MDB_stat stat;
    if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 4) != 0 ||
        mdb_env_open(env, dir.c_str(), MDB_RDONLY, 0644) != 0 || mdb_env_info(env, &info) != 0 ||
        mdb_env_stat(env, &stat) != 0) {
      state.SkipWithError("cannot read the environment's size");
    }
    const double used = static_cast<double>(info.me_last_pgno + 1) * stat.ms_psize;
    // The tree's own pages, to tell B-tree fill from the rest.
    MDB_txn* txn = nullptr;
    MDB_dbi dbi;
    MDB_stat tree_stat{};
    if (mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) == 0) {
      if (mdb_dbi_open(txn, "bench", 0, &dbi) == 0) mdb_stat(txn, dbi, &tree_stat);
      mdb_txn_abort(txn);
    }
    state.counters["leaf_pages"] = static_cast<double>(tree_stat.ms_leaf_pages);
    state.counters["branch_pages"] = static_cast<double>(tree_stat.ms_branch_pages);
    state.counters["pages"] = static_cast<double>(info.me_last_pgno + 1);
    mdb_env_close(env);
    std::filesystem::remove_all(dir);
    state.counters["data_MB"] = static_cast<double>(data) / 1e6;
    state.counters["used_MB"] = used / 1e6;
    state.counters["overhead_MB"] = (used - static_cast<double>(data)) / 1e6;
  }
}
BENCHMARK(space)
    ->Name("store/space_10k")
    ->Arg(1000)
    ->Arg(1)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// A stash when the tree has one secondary index: on "visits", which changes on every stash
// (the index entry moves), or on "name", which does not (the index is read, not written).
// Compare with stash_memory for what an index costs a write.
void stash_memory_indexed(benchmark::State& state, const char* field) {
  auto store = Store::open_memory();
  Tree tree = std::move(store->tree("bench")).value();
  if (!tree.create_index(field).ok()) state.SkipWithError("create_index failed");
  json doc = document(0);
  uint64_t i = 0;
  for (auto _ : state) {
    doc["visits"] = i;
    if (!tree.stash(id(i++ % 100000), doc).ok()) state.SkipWithError("stash failed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
void stash_memory_1_index(benchmark::State& state) { stash_memory_indexed(state, "visits"); }
void stash_memory_1_index_unchanged(benchmark::State& state) {
  stash_memory_indexed(state, "name");
}
BENCHMARK(stash_memory_1_index)->Name("store/stash_memory_1_index");
BENCHMARK(stash_memory_1_index_unchanged)->Name("store/stash_memory_1_index_unchanged");
using wasm_sandbox::store::Durability;
using wasm_sandbox::store::StoreOptions;

// Queries over 10k documents selecting 50 (visits in [5000, 5050)), returned decoded: through
// an index on "visits", and the same query as a scan of the tree.
void query_10k(benchmark::State& state, bool indexed) {
  auto store = Store::open_memory();
  Tree tree = std::move(store->tree("bench")).value();
  auto filled = store->batch([&](Batch& batch) {
    for (uint64_t i = 0; i < 10000; ++i) batch.stash(tree, id(i), document(i));
  });
  if (!filled.ok()) state.SkipWithError("fill failed");
  if (indexed && !tree.create_index("visits").ok()) state.SkipWithError("create_index failed");
  const Query query = Query().where("visits", Op::Ge, 5000).where("visits", Op::Lt, 5050);
  if (tree.explain(query)->index.empty() == indexed) state.SkipWithError("unexpected plan");
  for (auto _ : state) {
    auto nuts = tree.query(query);
    if (!nuts.ok() || nuts->size() != 50) state.SkipWithError("wrong result");
    benchmark::DoNotOptimize(nuts);
  }
}
void query_indexed_10k(benchmark::State& state) { query_10k(state, true); }
void query_scan_10k(benchmark::State& state) { query_10k(state, false); }
BENCHMARK(query_indexed_10k)->Name("store/query_indexed_10k");
BENCHMARK(query_scan_10k)->Name("store/query_scan_10k");

// The 10 most recent of 10k documents: no index; the scan reads headers only, then decodes 10.
void query_newest_10_of_10k(benchmark::State& state) {
  auto store = Store::open_memory();
  Tree tree = std::move(store->tree("bench")).value();
  auto filled = store->batch([&](Batch& batch) {
    for (uint64_t i = 0; i < 10000; ++i) batch.stash(tree, id(i), document(i));
  });
  if (!filled.ok()) state.SkipWithError("fill failed");
  for (auto _ : state) {
    auto nuts = tree.query(Query().newest(10));
    if (!nuts.ok() || nuts->size() != 10) state.SkipWithError("wrong result");
    benchmark::DoNotOptimize(nuts);
  }
}
BENCHMARK(query_newest_10_of_10k)->Name("store/query_newest_10_of_10k");

// The codec choice: bytes and decode time of the same document as MessagePack and as text.
void decode_msgpack(benchmark::State& state) {
  std::vector<uint8_t> bytes = json::to_msgpack(document(12345));
  for (auto _ : state) benchmark::DoNotOptimize(json::from_msgpack(bytes));
  state.counters["bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(decode_msgpack)->Name("codec/decode_msgpack_nlohmann");

// The store's own reader (src/store/msgpack_reader.h) on the same bytes.
void decode_msgpack_store(benchmark::State& state) {
  std::vector<uint8_t> bytes = json::to_msgpack(document(12345));
  std::string_view view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  for (auto _ : state) {
    json out;
    if (!wasm_sandbox::store::msgpack::decode(view, &out)) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(decode_msgpack_store)->Name("codec/decode_msgpack_store");

// MessagePack straight to JSON text (src/store/msgpack_text.h), no DOM.
void msgpack_to_text(benchmark::State& state) {
  std::vector<uint8_t> bytes = json::to_msgpack(document(12345));
  std::string_view view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  std::string text;
  for (auto _ : state) {
    text.clear();
    if (!wasm_sandbox::store::msgpack::append_json_text(view, &text)) {
      state.SkipWithError("render failed");
    }
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(msgpack_to_text)->Name("codec/msgpack_to_text");

void decode_cbor(benchmark::State& state) {
  std::vector<uint8_t> bytes = json::to_cbor(document(12345));
  for (auto _ : state) benchmark::DoNotOptimize(json::from_cbor(bytes));
  state.counters["bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(decode_cbor)->Name("codec/decode_cbor_nlohmann");

void decode_text(benchmark::State& state) {
  std::string text = document(12345).dump();
  for (auto _ : state) benchmark::DoNotOptimize(json::parse(text));
  state.counters["bytes"] = static_cast<double>(text.size());
}
BENCHMARK(decode_text)->Name("codec/decode_text");

void encode_msgpack(benchmark::State& state) {
  json doc = document(12345);
  for (auto _ : state) benchmark::DoNotOptimize(json::to_msgpack(doc));
}
BENCHMARK(encode_msgpack)->Name("codec/encode_msgpack");

// The store's own writer, into a buffer kept between calls, as a stash encodes.
void encode_msgpack_store(benchmark::State& state) {
  json doc = document(12345);
  std::vector<uint8_t> bytes;
  for (auto _ : state) {
    bytes.clear();
    wasm_sandbox::store::msgpack::encode(doc, &bytes);
    benchmark::DoNotOptimize(bytes.data());
  }
}
BENCHMARK(encode_msgpack_store)->Name("codec/encode_msgpack_store");

void encode_text(benchmark::State& state) {
  json doc = document(12345);
  for (auto _ : state) benchmark::DoNotOptimize(doc.dump());
}
BENCHMARK(encode_text)->Name("codec/encode_text");

}  // namespace
