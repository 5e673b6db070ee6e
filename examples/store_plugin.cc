// Two sandboxed mods keep state in one store, each in its own namespace and under its own
// quota: `example_store_plugin [STORE_COUNTER.WASM] [STORE_DIR]` runs guests/store_counter.c
// (built on guests/sdk/wasm_sandbox_store.h) as "alice" and "bob", then reopens the store to
// show that their state, and their usage, outlived the instances.
#include <cstdio>
#include <filesystem>
#include <string>

#include "wasm_sandbox/store_capability.h"
#include "wasm_sandbox/wasm_sandbox.h"

using namespace wasm_sandbox;
using store::GuestQuota;
using store::Store;
using store::StoreCapability;

namespace {

int fail(const Error& error) {
  std::fprintf(stderr, "%s\n", error.message().c_str());
  return 1;
}

// One mod: its instance, with the capability for its namespace among its imports.
struct Mod {
  StoreCapability capability;
  Instance instance;
};

Result<Mod> start(const Module& module, const Store& store, const char* name,
                  const GuestQuota& quota) {
  // The host decides who the sandbox is and what it may keep; the guest cannot name anything
  // outside tree "mods", namespace `name`.
  auto capability = StoreCapability::create(store, "mods", name, quota);
  if (!capability) return std::move(capability).error();
  Imports imports;
  capability->add_to(imports);
  auto instance = module.instantiate(imports);
  if (!instance) return std::move(instance).error();
  return Mod{std::move(*capability), std::move(*instance)};
}

void show_usage(const Mod& mod) {
  auto usage = mod.capability.usage();
  if (!usage) return;
  std::printf("  %-5s uses %llu of %llu bytes, %llu of %llu keys\n",
              mod.capability.name_space().c_str(), (unsigned long long)usage->bytes,
              (unsigned long long)mod.capability.quota().max_bytes, (unsigned long long)usage->keys,
              (unsigned long long)mod.capability.quota().max_keys);
}

int run(const Module& module, const std::filesystem::path& dir, bool first_run) {
  auto store = Store::open(dir);
  if (!store) return fail(store.error());
  auto alice = start(module, *store, "alice", {.max_bytes = 4096, .max_keys = 64});
  if (!alice) return fail(alice.error());
  auto bob = start(module, *store, "bob", {.max_bytes = 300, .max_keys = 8});
  if (!bob) return fail(bob.error());

  // The same guest code, the same key ("visits"): two counters.
  for (Mod* mod : {&*alice, &*alice, &*bob}) {
    auto visits = mod->instance.call<int64_t>("visit");
    if (!visits) return fail(visits.error());
    std::printf("  %-5s visit() = %lld\n", mod->capability.name_space().c_str(),
                (long long)*visits);
  }
  if (first_run) {
    auto data = GuestData::of(alice->instance);
    if (!data) return fail(data.error());
    for (auto [player, score] : {std::pair{"ada", 120}, {"grace", 250}, {"ada", 300}}) {
      auto in = data->copy_in(std::string_view(player));
      if (!in) return fail(in.error());
      auto better = alice->instance.call<int32_t>("submit", in->ptr, in->len, score);
      if (Status freed = data->free(*in); !freed) return fail(freed.error());
      if (!better) return fail(better.error());
      std::printf("  alice submit(\"%s\", %d) = %d\n", player, score, *better);
    }
    // Bob's mod tries to hoard: its quota stops it; what it had stays.
    auto filled = bob->instance.call<int32_t>("fill", 100, 40);
    if (!filled) return fail(filled.error());
    std::printf("  bob   fill(100, 40) = %d (%s)\n", *filled,
                store::to_string(store::GuestCode(*filled)));
    std::printf("        %s\n", bob->capability.last_error().c_str());
  }
  auto data = GuestData::of(alice->instance);
  if (!data) return fail(data.error());
  auto packed = alice->instance.call<uint64_t>("best");
  if (!packed) return fail(packed.error());
  auto best = data->take_string(*packed, "best");
  if (!best) return fail(best.error());
  std::printf("  alice best() = \"%s\"\n", best->c_str());
  show_usage(*alice);
  show_usage(*bob);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : std::string(GUEST_DIR) + "/store_counter.wasm";
  std::filesystem::path dir;
  bool temporary = argc <= 2;
  if (temporary) {
    char pattern[] = "/tmp/store-plugin-XXXXXX";
    if (!mkdtemp(pattern)) return std::perror("mkdtemp"), 1;
    dir = pattern;
  } else {
    dir = argv[2];
  }

  Engine engine;
  auto module = engine.load_file(path);
  if (!module) return fail(module.error());
  std::printf("first run (store %s):\n", dir.c_str());
  int status = run(*module, dir, /*first_run=*/true);
  // Every handle of the first run is gone: the store is closed. Open it again.
  if (status == 0) {
    std::printf("after reopening the store:\n");
    status = run(*module, dir, /*first_run=*/false);
  }
  if (temporary) std::filesystem::remove_all(dir);
  return status;
}
