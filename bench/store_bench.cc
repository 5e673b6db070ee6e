// The store's throughput on ~150-byte documents (docs/store.md): stash in memory (with and
// without a secondary index), stash in batches of 1,000 on a durable (fsynced) store, crack,
// queries over 10k documents (indexed, scanned); and the codec choice (MessagePack vs JSON
// text) in size and decode time.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "store/msgpack_reader.h"
#include "wasm_sandbox/store.h"

namespace {

using wasm_sandbox::store::Batch;
using wasm_sandbox::store::Op;
using wasm_sandbox::store::Query;
using wasm_sandbox::store::Store;
using wasm_sandbox::store::Tree;
using json = nlohmann::json;

// About 150 bytes as JSON text.
json document(uint64_t i) {
  return {{"id", "user:" + std::to_string(i)},
          {"name", "Ada Lovelace"},
          {"email", "ada@example.org"},
          {"age", 36},
          {"active", true},
          {"score", 98.25},
          {"tags", {"math", "engines", "poetry"}},
          {"visits", i}};
}

std::string id(uint64_t i) { return "user:" + std::to_string(i); }

void stash_memory(benchmark::State& state) {
  auto store = Store::open_memory();
  Tree tree = std::move(store->tree("bench")).value();
  json doc = document(0);
  uint64_t i = 0;
  for (auto _ : state) {
    doc["visits"] = i;
    if (!tree.stash(id(i++ % 100000), doc).ok()) state.SkipWithError("stash failed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK(stash_memory);

void stash_durable_batch_1000(benchmark::State& state) {
  auto dir =
      std::filesystem::temp_directory_path() / ("ws-store-bench-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  {
    auto store = Store::open(dir);  // sync on: every commit is fsynced
    Tree tree = std::move(store->tree("bench")).value();
    json doc = document(0);
    uint64_t i = 0;
    for (auto _ : state) {
      auto status = store->batch([&](Batch& batch) {
        for (int n = 0; n < 1000; ++n) {
          doc["visits"] = i;
          batch.stash(tree, id(i++ % 100000), doc);
        }
      });
      if (!status.ok()) state.SkipWithError(status.error().message().c_str());
    }
    state.SetItemsProcessed(static_cast<int64_t>(i));
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(stash_durable_batch_1000)->UseRealTime();

void crack_memory(benchmark::State& state) {
  auto store = Store::open_memory();
  Tree tree = std::move(store->tree("bench")).value();
  constexpr uint64_t kCount = 10000;
  auto filled = store->batch([&](Batch& batch) {
    for (uint64_t i = 0; i < kCount; ++i) batch.stash(tree, id(i), document(i));
  });
  if (!filled.ok()) state.SkipWithError("fill failed");
  std::vector<std::string> ids;
  for (uint64_t i = 0; i < kCount; ++i) ids.push_back(id((i * 7919) % kCount));
  uint64_t i = 0;
  for (auto _ : state) {
    auto nut = tree.crack(ids[i++ % kCount]);
    benchmark::DoNotOptimize(nut);
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK(crack_memory);

void scan_10k(benchmark::State& state) {
  auto store = Store::open_memory();
  Tree tree = std::move(store->tree("bench")).value();
  auto filled = store->batch([&](Batch& batch) {
    for (uint64_t i = 0; i < 10000; ++i) batch.stash(tree, id(i), document(i));
  });
  if (!filled.ok()) state.SkipWithError("fill failed");
  for (auto _ : state) {
    uint64_t n = 0;
    auto status = tree.scan({}, [&](wasm_sandbox::store::Nut&) { return ++n, true; });
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(scan_10k);

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
BENCHMARK(stash_memory_1_index);
BENCHMARK(stash_memory_1_index_unchanged);

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
BENCHMARK(query_indexed_10k);
BENCHMARK(query_scan_10k);

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
BENCHMARK(query_newest_10_of_10k);

// The codec choice: bytes and decode time of the same document as MessagePack and as text.
void decode_msgpack(benchmark::State& state) {
  std::vector<uint8_t> bytes = json::to_msgpack(document(12345));
  for (auto _ : state) benchmark::DoNotOptimize(json::from_msgpack(bytes));
  state.counters["bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(decode_msgpack);

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
BENCHMARK(decode_msgpack_store);

void decode_cbor(benchmark::State& state) {
  std::vector<uint8_t> bytes = json::to_cbor(document(12345));
  for (auto _ : state) benchmark::DoNotOptimize(json::from_cbor(bytes));
  state.counters["bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(decode_cbor);

void decode_text(benchmark::State& state) {
  std::string text = document(12345).dump();
  for (auto _ : state) benchmark::DoNotOptimize(json::parse(text));
  state.counters["bytes"] = static_cast<double>(text.size());
}
BENCHMARK(decode_text);

void encode_msgpack(benchmark::State& state) {
  json doc = document(12345);
  for (auto _ : state) benchmark::DoNotOptimize(json::to_msgpack(doc));
}
BENCHMARK(encode_msgpack);

void encode_text(benchmark::State& state) {
  json doc = document(12345);
  for (auto _ : state) benchmark::DoNotOptimize(doc.dump());
}
BENCHMARK(encode_text);

}  // namespace
