// Store sync throughput (docs/store.md, "Sync"): a pull of 100,000 changes of ~150-byte
// documents into an empty store, over HTTP on loopback (pull_http from a SyncServer) and, for
// reference, between two stores in one process (pull()); and a push of the same over HTTP.
// Items per second = changes per second. Both stores live in memory (open_memory).
#include <benchmark/benchmark.h>

#include <memory>
#include <optional>
#include <string>

#include "store_workload.h"
#include "wasm_sandbox/store_http.h"

namespace {

using namespace wasm_sandbox::store;
using store_bench::document;
using json = nlohmann::json;

constexpr int kChanges = 100'000;

// A store holding kChanges nuts in tree "t" (a 100k-change feed), written once per process.
Store& filled_store() {
  static Store store = [] {
    Store s = std::move(Store::open_memory()).value();
    Tree t = std::move(s.tree("t")).value();
    for (int base = 0; base < kChanges; base += 10'000) {
      (void)s.batch([&](Batch& batch) {
        for (int i = base; i < base + 10'000; ++i) {
          batch.stash(t, "user:" + std::to_string(i), document(i));
        }
      });
    }
    return s;
  }();
  return store;
}

void pull_http_100k(benchmark::State& state) {
  Store& source = filled_store();
  auto server = std::move(SyncServer::create(source, {})).value();
  const int port = server->start().value();
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  SyncHttpOptions options;
  options.page = static_cast<size_t>(state.range(0));
  std::optional<Store> target;
  for (auto _ : state) {
    state.PauseTiming();
    target.reset();  // the last one is closed (and deleted) untimed
    target.emplace(std::move(Store::open_memory()).value());
    Tree tree = std::move(target->tree("t")).value();
    state.ResumeTiming();
    auto report = pull_http(tree, url, "t", judges::timestamp(), options);
    if (!report.ok() || report->taken != kChanges) state.SkipWithError("pull_http failed");
  }
  state.SetItemsProcessed(state.iterations() * kChanges);
  server->stop();
}
BENCHMARK(pull_http_100k)->Arg(1000)->Arg(10'000)->Unit(benchmark::kMillisecond)->UseRealTime();

void push_http_100k(benchmark::State& state) {
  Store& source = filled_store();
  Tree from = std::move(source.tree("t")).value();
  SyncHttpOptions options;
  options.page = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    auto server =
        std::move(SyncServer::create(std::move(Store::open_memory()).value(), {})).value();
    const std::string url = "http://127.0.0.1:" + std::to_string(server->start().value());
    state.ResumeTiming();
    auto report = push_http(from, url, "t", options);
    if (!report.ok() || report->taken != kChanges) state.SkipWithError("push_http failed");
    state.PauseTiming();
    server.reset();  // stops it and closes its store, untimed
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kChanges);
}
BENCHMARK(push_http_100k)->Arg(1000)->Arg(10'000)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same pull without HTTP and JSON: the floor the wire adds to.
void pull_in_process_100k(benchmark::State& state) {
  Store& source = filled_store();
  Tree from = std::move(source.tree("t")).value();
  std::optional<Store> target;
  for (auto _ : state) {
    state.PauseTiming();
    target.reset();
    target.emplace(std::move(Store::open_memory()).value());
    Tree tree = std::move(target->tree("t")).value();
    state.ResumeTiming();
    auto report = pull(from, tree, judges::timestamp());
    if (!report.ok() || report->taken != kChanges) state.SkipWithError("pull failed");
  }
  state.SetItemsProcessed(state.iterations() * kChanges);
}
BENCHMARK(pull_in_process_100k)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
