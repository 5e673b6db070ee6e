// The store capability's imported functions, called by guests: a WAT module that forwards raw
// (ptr, len) arguments, so tests can pass any pointer and length, and the example guest
// (guests/store_counter.c) end to end. Every status code, bounds checks that never let a bad
// pointer reach the host, overlapping buffers, namespaces that stay apart.
#include <cstring>

#include "store/capability_fixture.h"
#include "wasm_sandbox/guest_data.h"
#include "wasm_sandbox/store_capability.h"
#include "wasm_sandbox/wasm_sandbox.h"
#include "wasm_sandbox_store.h"  // guests/sdk: the guest header's constants

namespace wasm_sandbox::store {
namespace {

// The guest header's codes are the host's.
#define WASM_SANDBOX_X(name, value, text) static_assert(int32_t(GuestCode::name) == (value));
WASM_SANDBOX_GUEST_STORE_CODES(WASM_SANDBOX_X)
#undef WASM_SANDBOX_X
static_assert(WS_STORE_OK == int32_t(GuestCode::Ok));
static_assert(WS_STORE_NOT_FOUND == int32_t(GuestCode::NotFound));
static_assert(WS_STORE_BAD_KEY == int32_t(GuestCode::BadKey));
static_assert(WS_STORE_BAD_JSON == int32_t(GuestCode::BadJson));
static_assert(WS_STORE_TOO_LARGE == int32_t(GuestCode::TooLarge));
static_assert(WS_STORE_QUOTA_BYTES == int32_t(GuestCode::QuotaBytes));
static_assert(WS_STORE_QUOTA_KEYS == int32_t(GuestCode::QuotaKeys));
static_assert(WS_STORE_FAULT == int32_t(GuestCode::Fault));
static_assert(WS_STORE_TOO_SMALL == int32_t(GuestCode::TooSmall));
static_assert(WS_STORE_FAILED == int32_t(GuestCode::Failed));
static_assert(WS_STORE_MAX_KEY == StoreCapability::kMaxKeyBytes);
static_assert(WS_STORE_MAX_DEPTH == StoreCapability::kMaxJsonDepth);

using testing::raw_put;
using testing::StoreDir;

// Every import, re-exported with its raw arguments; one page of memory, never grown.
constexpr std::string_view kForwarder = R"((module
  (import "wasm_sandbox_store" "put" (func $put (param i32 i32 i32 i32) (result i32)))
  (import "wasm_sandbox_store" "get" (func $get (param i32 i32 i32 i32) (result i32)))
  (import "wasm_sandbox_store" "delete" (func $delete (param i32 i32) (result i32)))
  (import "wasm_sandbox_store" "exists" (func $exists (param i32 i32) (result i32)))
  (import "wasm_sandbox_store" "count" (func $count (result i64)))
  (import "wasm_sandbox_store" "usage" (func $usage (param i32) (result i32)))
  (import "wasm_sandbox_store" "list"
    (func $list (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasm_sandbox_store" "last_error" (func $last_error (param i32 i32) (result i32)))
  (memory (export "memory") 1 1)
  (func (export "put") (param i32 i32 i32 i32) (result i32)
    (call $put (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "get") (param i32 i32 i32 i32) (result i32)
    (call $get (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "delete") (param i32 i32) (result i32)
    (call $delete (local.get 0) (local.get 1)))
  (func (export "exists") (param i32 i32) (result i32)
    (call $exists (local.get 0) (local.get 1)))
  (func (export "count") (result i64) (call $count))
  (func (export "usage") (param i32) (result i32) (call $usage (local.get 0)))
  (func (export "list") (param i32 i32 i32 i32 i32 i32) (result i32)
    (call $list (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4)
                (local.get 5)))
  (func (export "last_error") (param i32 i32) (result i32)
    (call $last_error (local.get 0) (local.get 1))))
)";

// Imports the store but exports no memory: every buffer is a Fault.
constexpr std::string_view kNoMemory = R"((module
  (import "wasm_sandbox_store" "put" (func $put (param i32 i32 i32 i32) (result i32)))
  (import "wasm_sandbox_store" "count" (func $count (result i64)))
  (func (export "put") (param i32 i32 i32 i32) (result i32)
    (call $put (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "count") (result i64) (call $count)))
)";

constexpr uint32_t kPage = 65536;
constexpr uint32_t kKey = 0x100;    // where tests put keys
constexpr uint32_t kJson = 0x1000;  // JSON text
constexpr uint32_t kOut = 0x8000;   // output buffers

const Engine& engine() {
  static const Engine* engine = [] {
    EngineConfig config;
    config.tier = Tier::Baseline;
    config.cache.disk = false;
    return new Engine(config);
  }();
  return *engine;
}

// One guest instance with the forwarder module (or another) and a capability.
class Guest {
 public:
  Guest(const StoreCapability& capability, std::string_view wat = kForwarder) {
    auto module = engine().load_wat(wat, "forwarder.wat");
    EXPECT_TRUE(module.ok()) << module.error().message();
    Imports imports;
    capability.add_to(imports);
    auto instance = module->instantiate(imports);
    EXPECT_TRUE(instance.ok()) << instance.error().message();
    instance_.emplace(std::move(*instance));
    if (auto memory = instance_->memory(); memory.ok()) memory_ = *memory;
  }

  void write(uint32_t at, std::string_view bytes) {
    if (bytes.empty()) return;
    std::memcpy(memory_.view(at, bytes.size())->data(), bytes.data(), bytes.size());
  }
  std::string read(uint32_t at, uint32_t len) {
    auto view = memory_.view(at, len);
    return std::string(reinterpret_cast<const char*>(view->data()), len);
  }

  template <class R = int32_t, class... Args>
  R call(std::string_view name, Args... args) {
    auto result = instance_->call<R>(name, static_cast<uint32_t>(args)...);
    EXPECT_TRUE(result.ok()) << name << ": " << result.error().message();
    return result.ok() ? *result : R{};
  }

  // The imports with the key at kKey and the JSON text at kJson.
  int32_t put(std::string_view key, std::string_view json_text) {
    write(kKey, key);
    write(kJson, json_text);
    return call("put", kKey, key.size(), kJson, json_text.size());
  }
  // The text, or the code as a string ("code -1").
  std::string get(std::string_view key, uint32_t cap = 4096) {
    write(kKey, key);
    const int32_t n = call("get", kKey, key.size(), kOut, cap);
    if (n < 0) return "code " + std::to_string(n);
    return read(kOut, static_cast<uint32_t>(n));
  }
  int32_t erase(std::string_view key) {
    write(kKey, key);
    return call("delete", kKey, key.size());
  }
  int32_t exists(std::string_view key) {
    write(kKey, key);
    return call("exists", kKey, key.size());
  }
  // Every key, listed a page of `cap` bytes at a time.
  std::vector<std::string> list(std::string_view prefix = {}, uint32_t cap = 4096) {
    std::vector<std::string> keys;
    write(kKey, prefix);
    std::string after;
    for (;;) {
      write(kJson, after);
      const int32_t used = call("list", kKey, prefix.size(), kJson, after.size(), kOut, cap);
      EXPECT_GE(used, 0) << last_error();
      if (used <= 0) break;
      const std::string page = read(kOut, static_cast<uint32_t>(used));
      uint32_t offset = 0, key_len = 0;
      const char* key = nullptr;
      while (ws_store_list_next(page.data(), page.size(), &offset, &key, &key_len)) {
        keys.emplace_back(key, key_len);
      }
      EXPECT_EQ(offset, page.size());
      after = keys.back();
    }
    return keys;
  }
  std::string last_error() {
    const int32_t n = call("last_error", kOut, 1024);
    return read(kOut, static_cast<uint32_t>(std::min(n, 1024)));
  }

  const Instance& instance() const { return *instance_; }

 private:
  std::optional<Instance> instance_;
  Memory memory_;
};

using GuestCapability = testing::CapabilityFixture;

TEST_F(GuestCapability, PutGetDeleteExistsCountUsage) {
  StoreCapability capability = grant("alice", {.max_bytes = 1000, .max_keys = 10});
  Guest guest(capability);
  EXPECT_EQ(guest.put("best", R"({ "score": 42 })"), 0);
  EXPECT_EQ(guest.get("best"), R"({"score":42})");
  EXPECT_EQ(guest.exists("best"), 1);
  EXPECT_EQ(guest.exists("none"), 0);
  EXPECT_EQ(guest.call<int64_t>("count"), 1);
  ASSERT_EQ(guest.call("usage", kOut), 0);
  const std::string usage = guest.read(kOut, 32);
  uint64_t words[4];
  std::memcpy(words, usage.data(), 32);  // little-endian, as the host is
  EXPECT_EQ(words[0], 4u + 12u);
  EXPECT_EQ(words[1], 1u);
  EXPECT_EQ(words[2], 1000u);
  EXPECT_EQ(words[3], 10u);
  EXPECT_EQ(guest.erase("best"), 0);
  EXPECT_EQ(guest.get("best"), "code -1");
  EXPECT_EQ(guest.erase("best"), WS_STORE_NOT_FOUND);
  EXPECT_EQ(guest.call<int64_t>("count"), 0);
  // What the guest did, the host sees through the same capability.
  EXPECT_EQ(guest.put("k", "[1]"), 0);
  EXPECT_EQ(*capability.get("k"), "[1]");
}

// The get protocol: the length comes back whatever the buffer; the text is written only when
// it fits, so a guest can size a buffer and call again.
TEST_F(GuestCapability, GetReturnsTheLengthAndWritesOnlyWhatFits) {
  StoreCapability capability = grant("alice");
  Guest guest(capability);
  ASSERT_EQ(guest.put("k", R"({"text":"hello, world"})"), 0);
  const std::string sentinel(64, '#');
  guest.write(kOut, sentinel);
  guest.write(kKey, "k");
  EXPECT_EQ(guest.call("get", kKey, 1, kOut, 10), 23);
  EXPECT_EQ(guest.read(kOut, 64), sentinel);  // nothing written
  EXPECT_EQ(guest.call("get", kKey, 1, kOut, 0), 23);
  EXPECT_EQ(guest.call("get", kKey, 1, kOut, 23), 23);
  EXPECT_EQ(guest.read(kOut, 24), R"({"text":"hello, world"}#)");
}

TEST_F(GuestCapability, EveryErrorCodeWithItsMessage) {
  {
    StoreCapability capability =
        grant("alice", {.max_bytes = 40, .max_keys = 2, .max_document_bytes = 200});
    Guest guest(capability);
    EXPECT_EQ(guest.last_error(), "");
    auto expect = [&guest](int32_t code, int32_t expected, std::string_view message) {
      EXPECT_EQ(code, expected);
      const std::string error = guest.last_error();
      EXPECT_NE(error.find(message), std::string::npos) << error;
    };
    expect(guest.erase("missing"), WS_STORE_NOT_FOUND,
           "delete: tree `guests`, namespace `alice`, key `missing`: no such key");
    expect(guest.put("", "1"), WS_STORE_BAD_KEY,
           "put: tree `guests`, namespace `alice`: empty key");
    expect(guest.put(std::string(257, 'k'), "1"), WS_STORE_BAD_KEY, "257 bytes");
    expect(guest.exists(std::string(600, 'k')), WS_STORE_BAD_KEY, "exists:");
    expect(guest.put("k", "{oops}"), WS_STORE_BAD_JSON, "malformed JSON");
    expect(guest.put("k", std::string(65, '[') + std::string(65, ']')), WS_STORE_BAD_JSON,
           "nested deeper than 64");
    expect(guest.put("k", std::string("[1]\0]", 5)), WS_STORE_BAD_JSON, "NUL byte at offset 3");
    expect(guest.put("k", std::string(200, ' ') + "1"), WS_STORE_TOO_LARGE,
           "JSON text of 201 bytes is longer than the 200 allowed");
    ASSERT_EQ(guest.put("a", "\"" + std::string(25, 'x') + "\""), 0);  // 28
    expect(guest.put("b", "\"" + std::string(20, 'x') + "\""), WS_STORE_QUOTA_BYTES,
           "this put would use 51 bytes (28 now), over the quota of 40");
    ASSERT_EQ(guest.put("b", "1"), 0);
    expect(guest.put("c", "1"), WS_STORE_QUOTA_KEYS, "a new key would make 3 keys");
    expect(guest.call("put", kPage - 1, 2, kJson, 1), WS_STORE_FAULT,
           "namespace `alice`: put: key (ptr 0xffff, len 2) lies outside the guest's memory of "
           "65536 bytes");
    guest.write(kKey, "a");
    expect(guest.call("list", kKey, 0, kKey, 0, kOut, 4), WS_STORE_TOO_SMALL,
           "list: the next key and its length take more than the 4 bytes");
    EXPECT_EQ(guest.call("list", kKey, 0, kKey, 0, kOut, 5), 5);
  }  // the store closes: LMDB allows one open per process, and raw_put opens it
  // Failed: a stored value that does not decode (written behind the store's back).
  store_.reset();
  raw_put(dir_, "guests", "alice/corrupt", "abc");
  store_ = open();
  StoreCapability reopened = grant("alice");
  Guest again(reopened);
  EXPECT_EQ(again.get("corrupt"), "code -9");
  EXPECT_NE(again.last_error().find("corrupt stored value"), std::string::npos);
  EXPECT_EQ(again.erase("corrupt"), 0);
  EXPECT_EQ(again.call<int64_t>("count"), 2);
  EXPECT_EQ(*reopened.usage(), (GuestUsage{28 + 2, 2}));
  // Nothing that failed changed anything.
  EXPECT_EQ(again.list(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(again.get("a"), "\"" + std::string(25, 'x') + "\"");
}

// Hostile pointers and lengths: past the end, wrapping around 2^32, huge lengths, in every
// buffer of every function. Each is Fault, the host never reads or writes outside the memory,
// nothing changes, and the instance goes on working.
TEST_F(GuestCapability, BuffersOutsideTheMemoryAreFaultsNeverCrashes) {
  StoreCapability capability = grant("alice");
  Guest guest(capability);
  ASSERT_EQ(guest.put("k", "1"), 0);
  guest.write(kKey, "k");
  struct Range {
    uint32_t ptr, len;
  };
  const Range bad[] = {
      {kPage, 1},       {kPage - 1, 2}, {0xffffffffu, 1},  {0xffffffffu, 0xffffffffu},
      {0, 0xffffffffu}, {1, kPage},     {0x80000000u, 16}, {kPage + 1, 0}};
  for (const Range& r : bad) {
    SCOPED_TRACE("ptr " + std::to_string(r.ptr) + " len " + std::to_string(r.len));
    EXPECT_EQ(guest.call("put", r.ptr, r.len, kJson, 1), WS_STORE_FAULT);
    EXPECT_EQ(guest.call("put", kKey, 1, r.ptr, r.len), WS_STORE_FAULT);
    EXPECT_EQ(guest.call("get", r.ptr, r.len, kOut, 16), WS_STORE_FAULT);
    EXPECT_EQ(guest.call("get", kKey, 1, r.ptr, r.len), WS_STORE_FAULT);
    EXPECT_EQ(guest.call("delete", r.ptr, r.len), WS_STORE_FAULT);
    EXPECT_EQ(guest.call("exists", r.ptr, r.len), WS_STORE_FAULT);
    EXPECT_EQ(guest.call("list", r.ptr, r.len, kKey, 0, kOut, 64), WS_STORE_FAULT);
    EXPECT_EQ(guest.call("list", kKey, 0, r.ptr, r.len, kOut, 64), WS_STORE_FAULT);
    EXPECT_EQ(guest.call("list", kKey, 0, kKey, 0, r.ptr, r.len), WS_STORE_FAULT);
    EXPECT_EQ(guest.call("last_error", r.ptr, r.len), WS_STORE_FAULT);
  }
  EXPECT_EQ(guest.call("usage", kPage - 31), WS_STORE_FAULT);
  EXPECT_EQ(guest.call("usage", 0xffffffffu), WS_STORE_FAULT);
  EXPECT_EQ(guest.call("usage", kPage - 32), 0);  // the last 32 bytes are fine
  // A zero-length buffer right at the end is inside (and an empty key is BadKey).
  EXPECT_EQ(guest.call("put", kPage, 0, kJson, 1), WS_STORE_BAD_KEY);
  EXPECT_EQ(guest.call("get", kKey, 1, kPage, 0), 1);
  // Nothing changed; the instance still works.
  EXPECT_EQ(*capability.usage(), (GuestUsage{2, 1}));
  EXPECT_EQ(guest.get("k"), "1");
  EXPECT_EQ(guest.put("k2", "2"), 0);
}

TEST_F(GuestCapability, AModuleWithoutMemoryGetsFaults) {
  StoreCapability capability = grant("alice");
  Guest guest(capability, kNoMemory);
  EXPECT_EQ(guest.call("put", 0, 1, 0, 1), WS_STORE_FAULT);
  EXPECT_EQ(guest.call<int64_t>("count"), 0);  // needs no memory
  EXPECT_NE(capability.last_error().find("exports no memory"), std::string::npos)
      << capability.last_error();
}

// Inputs are read before outputs are written: a buffer may be both.
TEST_F(GuestCapability, OverlappingBuffersAreHarmless) {
  StoreCapability capability = grant("alice");
  Guest guest(capability);
  ASSERT_EQ(guest.put("{}", "{}"), 0);
  guest.write(kKey, "{}");
  EXPECT_EQ(guest.call("put", kKey, 2, kKey, 2), 0);  // key and text the same bytes
  EXPECT_EQ(*capability.get("{}"), "{}");
  ASSERT_EQ(guest.put("key-one", R"(["a much longer document than the key"])"), 0);
  guest.write(kKey, "key-one");
  // The output buffer starts at the key, and in its middle.
  EXPECT_EQ(guest.call("get", kKey, 7, kKey, 256), 39);
  EXPECT_EQ(guest.read(kKey, 39), R"(["a much longer document than the key"])");
  guest.write(kKey, "key-one");
  EXPECT_EQ(guest.call("get", kKey, 7, kKey + 3, 256), 39);
  // list: prefix and after inside the output buffer.
  guest.write(kKey, "key-one");
  const int32_t used = guest.call("list", kKey, 3, kKey, 0, kKey, 256);
  EXPECT_EQ(used, 4 + 7);
  EXPECT_EQ(guest.read(kKey + 4, 7), "key-one");
}

TEST_F(GuestCapability, ListPagesThroughKeysInOrder) {
  StoreCapability capability = grant("alice");
  StoreCapability other = grant("alice2");
  Guest guest(capability);
  Guest intruder(other);
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "item:%03d", i);
    keys.push_back(key);
    ASSERT_EQ(guest.put(key, std::to_string(i)), 0);
  }
  ASSERT_EQ(guest.put(std::string("bin\0ary", 7), "0"), 0);
  ASSERT_EQ(intruder.put("item:zzz", "0"), 0);
  EXPECT_EQ(guest.list("item:"), keys);
  EXPECT_EQ(guest.list("item:", 12), keys);  // one key per page
  EXPECT_EQ(guest.list("item:", 25), keys);  // two per page
  auto all = guest.list();
  EXPECT_EQ(all.size(), 41u);
  EXPECT_EQ(all.front(), std::string("bin\0ary", 7));
  EXPECT_EQ(intruder.list(), std::vector<std::string>{"item:zzz"});
}

// Two sandboxes, one tree: each sees only its own keys, whatever keys it tries.
TEST_F(GuestCapability, TwoSandboxesNeverSeeEachOther) {
  StoreCapability alice_capability = grant("alice");
  StoreCapability bob_capability = grant("bob");
  Guest alice(alice_capability);
  Guest bob(bob_capability);
  ASSERT_EQ(alice.put("secret", R"("alice's")"), 0);
  ASSERT_EQ(bob.put("secret", R"("bob's")"), 0);
  EXPECT_EQ(alice.get("secret"), R"("alice's")");
  EXPECT_EQ(bob.get("secret"), R"("bob's")");
  for (std::string key : {"../alice/secret", "/alice/secret", "alice/secret", "../secret",
                          "..\\alice\\secret", "alice", "alice/", "%2e%2e/alice/secret"}) {
    EXPECT_EQ(bob.get(key), "code -1") << key;
    EXPECT_EQ(bob.erase(key), WS_STORE_NOT_FOUND) << key;
    EXPECT_EQ(bob.put(key, "0"), 0) << key;  // lands in bob's own namespace
  }
  EXPECT_EQ(bob.get(std::string("secret\0", 7)), "code -1");
  EXPECT_EQ(alice.list(), std::vector<std::string>{"secret"});
  EXPECT_EQ(alice.call<int64_t>("count"), 1);
  EXPECT_EQ(alice.get("secret"), R"("alice's")");
  EXPECT_EQ(bob.call<int64_t>("count"), 9);
}

// The example guest end to end: a counter and best scores that outlive instances and the
// store being reopened, per namespace; a quota that stops a greedy mod without losing what it
// had.
TEST_F(GuestCapability, ExampleGuestKeepsStateAcrossInstancesAndReopening) {
  auto module = engine().load_file(std::string(GUEST_DIR) + "/store_counter.wasm");
  ASSERT_TRUE(module.ok()) << module.error().message();
  auto instantiate = [&](const StoreCapability& capability) {
    Imports imports;
    capability.add_to(imports);
    auto instance = module->instantiate(imports);
    EXPECT_TRUE(instance.ok()) << instance.error().message();
    return std::move(instance).value();
  };
  const GuestQuota small{.max_bytes = 300, .max_keys = 8};
  {
    StoreCapability alice = grant("alice", small);
    StoreCapability bob = grant("bob", small);
    Instance a = instantiate(alice);
    Instance b = instantiate(bob);
    EXPECT_EQ(*a.call<int64_t>("visit"), 1);
    EXPECT_EQ(*a.call<int64_t>("visit"), 2);
    EXPECT_EQ(*b.call<int64_t>("visit"), 1);
    Instance a2 = instantiate(alice);  // another instance of the same sandbox
    EXPECT_EQ(*a2.call<int64_t>("visit"), 3);

    auto data = GuestData::of(a);
    ASSERT_TRUE(data.ok());
    auto submit = [&](std::string_view player, int32_t score) {
      auto in = data->copy_in(player);
      auto result = a.call<int32_t>("submit", in->ptr, in->len, score);
      EXPECT_TRUE(data->free(*in).ok());
      return *result;
    };
    EXPECT_EQ(submit("ada", 10), 1);
    EXPECT_EQ(submit("grace", 30), 1);
    EXPECT_EQ(submit("ada", 5), 0);
    EXPECT_EQ(submit("ada", 20), 1);
    auto best = data->take_string(*a.call<uint64_t>("best"), "best");
    EXPECT_EQ(*best, "grace 30");

    // A greedy fill stops at the quota with its code; what was there stays.
    const int32_t filled = *b.call<int32_t>("fill", 100, 40);
    EXPECT_TRUE(filled == WS_STORE_QUOTA_BYTES || filled == WS_STORE_QUOTA_KEYS) << filled;
    auto b_data = GuestData::of(b);
    auto message = b_data->take_string(*b.call<uint64_t>("last_error"), "last_error");
    EXPECT_NE(message->find("namespace `bob`"), std::string::npos) << *message;
    EXPECT_NE(message->find("quota"), std::string::npos) << *message;
    EXPECT_LE(bob.usage()->bytes, small.max_bytes);
    EXPECT_EQ(*bob.get("visits"), R"({"n":1})");
    EXPECT_FALSE(*alice.exists("junk:0"));
  }
  store_.reset();
  store_ = open();
  StoreCapability alice = grant("alice", small);
  Instance a = instantiate(alice);
  EXPECT_EQ(*a.call<int64_t>("visit"), 4);
  EXPECT_EQ(*a.call<int64_t>("keys"), 3);  // visits, score:ada, score:grace; nothing of bob's
  auto data = GuestData::of(a);
  EXPECT_EQ(*data->take_string(*a.call<uint64_t>("best"), "best"), "grace 30");
  EXPECT_EQ(*alice.usage(), *alice.recount());
}

}  // namespace
}  // namespace wasm_sandbox::store
