// Guests reach the store through a capability: a set of imported functions (module
// "wasm_sandbox_store") that give one sandbox its own namespaced part of one tree, with quotas
// on the bytes and keys it keeps. The guest side is guests/sdk/wasm_sandbox_store.h; the
// design, the ABI and its error codes are in docs/store.md, "Guests".
//
//   auto store = store::Store::open("data/mods");
//   auto alice = store::StoreCapability::create(*store, "mods", "alice", {.max_bytes = 64 << 10});
//   Imports imports;
//   alice->add_to(imports);                       // like Wasi::add_to
//   auto instance = module->instantiate(imports); // the guest now sees only alice's keys
//
// Namespacing: the host chooses the tree and each sandbox's namespace (1 to 64 bytes of
// [A-Za-z0-9_.-], starting with a letter or digit). A guest key `k` (1 to kMaxKeyBytes bytes,
// any bytes) is stored as nut `<namespace>/k`; since a namespace cannot contain '/', no two
// (namespace, key) pairs share an id and no namespace's ids are a prefix of another's. A guest
// names keys only relative to its namespace, and every scan it makes is confined to it.
// The tree is the capability's: nuts the host stashes in it directly are not counted.
//
// Quotas: a nut costs the bytes of its key plus the bytes of its document as compact JSON text
// (what `get` returns). The usage of each namespace is kept in tree `<tree>.usage` (nut id =
// the namespace, {"bytes": n, "keys": n}), read and updated in the same write transaction as the
// write it accounts for, so it survives reopening and stays exact. A write that would take the
// usage over a quota, and above what it was, changes nothing and fails with QuotaBytes or
// QuotaKeys. The quotas themselves are the host's policy, given at each create(), not stored.
//
// Thread safety: create() and every host-side method (put ... recount) may be called from any
// thread (they are Store operations). The imported functions keep the message of the last
// failure for the guest (last_error()): like a Wasi, a capability belongs to the instances it
// was added to and must not serve two threads at once. A guest call runs Store transactions:
// calling into a guest that uses the capability from inside a Store::write()/batch() callback
// on the same thread deadlocks (LMDB's writer lock is not re-entrant).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "wasm_sandbox/engine.h"
#include "wasm_sandbox/result.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store {

// X(name, value, description): the status codes the imported functions return. The guest
// header (guests/sdk/wasm_sandbox_store.h) defines the same numbers as WS_STORE_*.
#define WASM_SANDBOX_GUEST_STORE_CODES(X)                                                 \
  X(Ok, 0, "ok")                                                                          \
  X(NotFound, -1, "no such key")                                                          \
  X(BadKey, -2, "bad key")              /* empty, or longer than kMaxKeyBytes */          \
  X(BadJson, -3, "malformed JSON")      /* a NUL byte, or nested past kMaxJsonDepth */    \
  X(TooLarge, -4, "document too large") /* over GuestQuota::max_document_bytes */         \
  X(QuotaBytes, -5, "byte quota exceeded")                                                \
  X(QuotaKeys, -6, "key quota exceeded")                                                  \
  X(Fault, -7, "buffer outside the guest's memory") /* or no exported memory */           \
  X(TooSmall, -8, "buffer too small")               /* list: the next key does not fit */ \
  X(Failed, -9, "the host's store failed") /* I/O, corrupt value, map full: see last_error */

enum class GuestCode : int32_t {
#define WASM_SANDBOX_X(name, value, text) name = value,
  WASM_SANDBOX_GUEST_STORE_CODES(WASM_SANDBOX_X)
#undef WASM_SANDBOX_X
};

// "no such key", "byte quota exceeded"; "unknown code" for any other value.
const char* to_string(GuestCode code);

// What one sandbox may keep. The defaults are the safe ones.
struct GuestQuota {
  uint64_t max_bytes = uint64_t{1} << 20;  // keys + documents as compact JSON text
  uint64_t max_keys = 1024;
  // The longest JSON text one put accepts, as sent (checked before it is parsed). Keep it
  // under half of StoreOptions::max_document_bytes: a document's MessagePack form can be up to
  // about twice its text (numbers), and the store's own limit fails a put with Failed.
  uint32_t max_document_bytes = 64 << 10;
};

// A namespace's usage, as accounted (see the file comment).
struct GuestUsage {
  uint64_t bytes = 0;
  uint64_t keys = 0;
  bool operator==(const GuestUsage&) const = default;
};

class StoreCapability {
 public:
  static constexpr std::string_view kImportModule = "wasm_sandbox_store";
  static constexpr size_t kMaxKeyBytes = 256;
  // Deepest nesting of arrays and objects a put accepts (deeper is BadJson).
  static constexpr size_t kMaxJsonDepth = 64;

  // The capability for namespace `name_space` of tree `tree` (created with `tree`.usage if
  // missing). Must not be called inside Store::write()/batch(). Errors: InvalidArgument for a
  // bad namespace, a tree name over 58 bytes (its usage tree's name must fit in 64), one
  // ending in ".usage", or a bad tree name; LimitExceeded if the store cannot hold two more
  // trees.
  static Result<StoreCapability> create(Store store, std::string_view tree,
                                        std::string_view name_space, const GuestQuota& quota = {});

  // Adds the imported functions (module kImportModule) to `imports`. They keep this
  // capability's state alive; a guest calling them must export its memory as "memory".
  void add_to(Imports& imports) const;

  const std::string& name_space() const;
  const GuestQuota& quota() const;
  // The message of the last imported call that returned a negative code ("" before any).
  // Between guest calls only (the rule of the instance it serves).
  std::string last_error() const;

  // --- The same operations for the host, with the same keys, rules and accounting; errors
  // name the tree, the namespace and the key. Kinds: NotFound; InvalidArgument (bad key,
  // malformed JSON); LimitExceeded (a quota, or a document over max_document_bytes); Io (the
  // store failed).
  Status put(std::string_view key, std::string_view json_text) const;
  Result<std::string> get(std::string_view key) const;  // compact JSON text
  Status erase(std::string_view key) const;
  Result<bool> exists(std::string_view key) const;
  // Keys starting with `prefix` and greater than `after` (all if empty), in order, at most
  // `limit` (0: no limit).
  Result<std::vector<std::string>> keys(std::string_view prefix = {}, std::string_view after = {},
                                        size_t limit = 0) const;
  Result<GuestUsage> usage() const;
  // Recomputes the namespace's usage from its nuts and stores it, in one write transaction:
  // the repair after the host changed the tree behind the capability's back.
  Result<GuestUsage> recount() const;

  struct State;  // the implementation's (src/store/guest/)

 private:
  explicit StoreCapability(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace wasm_sandbox::store
