// What a guest pays to reach the store (docs/store.md, "Guests"): a put and a get of one
// ~150-byte document, overwriting one key, three ways on an in-memory store:
//   host_tree_*        the host calls Tree::stash_text / Tree::crack + dump() itself;
//   host_capability_*  the host calls StoreCapability::put / get: namespacing and quota
//                      accounting (usage record read and written in the put's transaction);
//   guest_*            a guest calls the imported functions (bounds checks, guest memory), from
//                      one call into the guest per iteration.
// put_get overwrites one document with itself, which leaves the usage as it was; the
// put_resize and put_erase variants change it on every write.
#include <benchmark/benchmark.h>

#include <string>

#include "wasm_sandbox/store_capability.h"
#include "wasm_sandbox/wasm_sandbox.h"

namespace {

using namespace wasm_sandbox;
using store::Store;
using store::StoreCapability;
using store::Tree;

// About 150 bytes, compact (the document of store_bench.cc).
constexpr std::string_view kDocument =
    R"({"active":true,"age":36,"email":"ada@example.org","id":"user:1","name":"Ada Lovelace",)"
    R"("score":98.25,"tags":["math","engines","poetry"],"visits":1})";
constexpr std::string_view kKey = "user:1";

// put(key, doc) then get(key) into a 4 KiB buffer: the key at 16, the document at 64, the
// output at 1024. Returns get's result (the length) or a negative code.
std::string guest_wat() {
  auto escape = [](std::string_view text) {
    std::string out;
    for (char c : text) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out;
  };
  return R"((module
  (import "wasm_sandbox_store" "put" (func $put (param i32 i32 i32 i32) (result i32)))
  (import "wasm_sandbox_store" "get" (func $get (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) ")" +
         escape(kKey) + R"(")
  (data (i32.const 64) ")" +
         escape(kDocument) + R"(")
  (func (export "put_get") (result i32)
    (local $status i32)
    (local.set $status (call $put (i32.const 16) (i32.const )" +
         std::to_string(kKey.size()) + R"() (i32.const 64) (i32.const )" +
         std::to_string(kDocument.size()) + R"()))
    (if (i32.lt_s (local.get $status) (i32.const 0)) (then (return (local.get $status))))
    (call $get (i32.const 16) (i32.const )" +
         std::to_string(kKey.size()) + R"() (i32.const 1024) (i32.const 3072)))
  (func (export "get") (result i32)
    (call $get (i32.const 16) (i32.const )" +
         std::to_string(kKey.size()) + R"() (i32.const 1024) (i32.const 3072))))
)";
}

Tree open_tree(Store& store) { return std::move(store.tree("bench")).value(); }

void host_tree_put_get(benchmark::State& state) {
  auto store = Store::open_memory();
  Tree tree = open_tree(*store);
  for (auto _ : state) {
    if (!tree.stash_text(kKey, kDocument).ok()) state.SkipWithError("stash failed");
    auto nut = tree.crack(kKey);
    if (!nut.ok()) state.SkipWithError("crack failed");
    benchmark::DoNotOptimize(nut->payload.dump());
  }
}
BENCHMARK(host_tree_put_get);

void host_tree_get(benchmark::State& state) {
  auto store = Store::open_memory();
  Tree tree = open_tree(*store);
  if (!tree.stash_text(kKey, kDocument).ok()) state.SkipWithError("stash failed");
  for (auto _ : state) {
    auto nut = tree.crack(kKey);
    if (!nut.ok()) state.SkipWithError("crack failed");
    benchmark::DoNotOptimize(nut->payload.dump());
  }
}
BENCHMARK(host_tree_get);

void host_capability_put_get(benchmark::State& state) {
  auto store = Store::open_memory();
  auto capability = StoreCapability::create(*store, "bench", "mod");
  for (auto _ : state) {
    if (!capability->put(kKey, kDocument).ok()) state.SkipWithError("put failed");
    auto text = capability->get(kKey);
    if (!text.ok()) state.SkipWithError("get failed");
    benchmark::DoNotOptimize(text->data());
  }
}
BENCHMARK(host_capability_put_get);

// Puts alone. host_tree_put: stash_text of one document over itself. host_capability_put_resize:
// puts whose cost alternates between two sizes, so that every one rewrites the usage record too
// (an overwrite of the same cost, as in put_get, leaves it as it is).
void host_tree_put(benchmark::State& state) {
  auto store = Store::open_memory();
  Tree tree = open_tree(*store);
  for (auto _ : state) {
    if (!tree.stash_text(kKey, kDocument).ok()) state.SkipWithError("stash failed");
  }
}
BENCHMARK(host_tree_put);

void host_capability_put_resize(benchmark::State& state) {
  auto store = Store::open_memory();
  auto capability = StoreCapability::create(*store, "bench", "mod");
  const std::string longer =
      std::string(kDocument).replace(kDocument.find("\"visits\":1"), 10, "\"visits\":10");
  const std::string_view documents[2] = {kDocument, longer};
  size_t i = 0;
  for (auto _ : state) {
    if (!capability->put(kKey, documents[i++ % 2]).ok()) state.SkipWithError("put failed");
  }
}
BENCHMARK(host_capability_put_resize);

// A new key and its removal: both writes change the usage (host_tree_put_toss: the same without
// namespacing or accounting).
void host_tree_put_toss(benchmark::State& state) {
  auto store = Store::open_memory();
  Tree tree = open_tree(*store);
  for (auto _ : state) {
    if (!tree.stash_text(kKey, kDocument).ok()) state.SkipWithError("stash failed");
    if (!tree.toss(kKey).ok()) state.SkipWithError("toss failed");
  }
}
BENCHMARK(host_tree_put_toss);

void host_capability_put_erase(benchmark::State& state) {
  auto store = Store::open_memory();
  auto capability = StoreCapability::create(*store, "bench", "mod");
  for (auto _ : state) {
    if (!capability->put(kKey, kDocument).ok()) state.SkipWithError("put failed");
    if (!capability->erase(kKey).ok()) state.SkipWithError("erase failed");
  }
}
BENCHMARK(host_capability_put_erase);

void host_capability_get(benchmark::State& state) {
  auto store = Store::open_memory();
  auto capability = StoreCapability::create(*store, "bench", "mod");
  if (!capability->put(kKey, kDocument).ok()) state.SkipWithError("put failed");
  for (auto _ : state) {
    auto text = capability->get(kKey);
    if (!text.ok()) state.SkipWithError("get failed");
    benchmark::DoNotOptimize(text->data());
  }
}
BENCHMARK(host_capability_get);

// One guest instance with the capability; `function` is called once per iteration.
void guest_call(benchmark::State& state, const char* function) {
  auto store = Store::open_memory();
  auto capability = StoreCapability::create(*store, "bench", "mod");
  EngineConfig config;
  config.tier = Tier::Optimized;
  Engine engine(config);
  auto module = engine.load_wat(guest_wat(), "store_guest_bench.wat");
  if (!module.ok()) return state.SkipWithError(module.error().message().c_str());
  Imports imports;
  capability->add_to(imports);
  auto instance = module->instantiate(imports);
  if (!instance.ok()) return state.SkipWithError(instance.error().message().c_str());
  if (!capability->put(kKey, kDocument).ok()) return state.SkipWithError("put failed");
  auto call = instance->typed<int32_t()>(function);
  if (!call.ok()) return state.SkipWithError(call.error().message().c_str());
  for (auto _ : state) {
    auto length = call->call();
    if (!length.ok() || *length != static_cast<int32_t>(kDocument.size())) {
      return state.SkipWithError(capability->last_error().c_str());
    }
  }
}
void guest_put_get(benchmark::State& state) { guest_call(state, "put_get"); }
BENCHMARK(guest_put_get);
void guest_get(benchmark::State& state) { guest_call(state, "get"); }
BENCHMARK(guest_get);

}  // namespace

BENCHMARK_MAIN();
