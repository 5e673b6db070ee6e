// One namespace of a tree, with its quotas: the operations behind both the imported functions
// (imports.cc) and StoreCapability's host-side methods. Keys and text come in as plain bytes;
// whoever calls has already taken them out of guest memory.
//
// Nut id of guest key k: `<namespace>/k`. Usage record: nut `<namespace>` of the usage tree,
// {"bytes": n, "keys": n}, absent = zero; a write that leaves the usage as it was does not
// rewrite it. A nut costs its key's bytes plus the size of its document's compact JSON text
// (nlohmann dump(), invalid UTF-8 replaced), measured on the stored MessagePack without
// writing the text (msgpack::json_text_size), by one function wherever a cost is taken: so the
// usage is a function of what is stored, and recount() recomputes it from the nuts.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "wasm_sandbox/store.h"
#include "wasm_sandbox/store_capability.h"

namespace wasm_sandbox::store::guest {

// A status code and, on failure, the one-line message that goes with it.
struct SpaceResult {
  GuestCode code = GuestCode::Ok;
  std::string message;

  bool ok() const { return code == GuestCode::Ok; }
  static SpaceResult failure(GuestCode code, std::string message) {
    return {code, std::move(message)};
  }
};

// The error for the host side: the code's ErrorKind, the same message.
Error to_error(SpaceResult outcome);

// Called per key a list visits (without the namespace); false stops the list.
using KeyVisitor = std::function<bool(std::string_view key)>;

class Space {
 public:
  // REQUIRES: `name_space` is valid (check_name_space), `usage` is not `data`.
  Space(Store store, Tree data, Tree usage, std::string name_space, GuestQuota quota);

  // An error if `name_space` is not 1 to 64 bytes of [A-Za-z0-9_.-] starting with a letter or
  // digit.
  static std::optional<Error> check_name_space(std::string_view name_space);

  const std::string& name_space() const { return name_space_; }
  const GuestQuota& quota() const { return quota_; }

  // Thread-safe, all of them (Store operations only).
  SpaceResult put(std::string_view key, std::string_view json_text) const;
  SpaceResult get(std::string_view key, std::string& json_text) const;
  SpaceResult erase(std::string_view key) const;
  SpaceResult exists(std::string_view key, bool& found) const;
  SpaceResult usage(GuestUsage& out) const;
  // Keys starting with `prefix`, greater than `after` (when not empty), in order.
  SpaceResult list(std::string_view prefix, std::string_view after, const KeyVisitor& visit) const;
  SpaceResult recount(GuestUsage& out) const;

 private:
  // An error naming the key unless it is 1 to kMaxKeyBytes bytes.
  std::optional<SpaceResult> check_key(std::string_view key, const char* what = "key") const;
  std::string id(std::string_view key) const;  // the nut id of `key`
  std::string where(std::string_view key) const;
  std::string where() const;
  // The usage record as of `txn`; zero if there is none.
  SpaceResult read_usage(const ReadTxn& txn, GuestUsage& out) const;
  SpaceResult write_usage(WriteTxn& txn, const GuestUsage& usage) const;
  SpaceResult sum_nuts(const ReadTxn& txn, GuestUsage& out) const;
  // Runs `fn` in a write transaction, committed only if it returns Ok; the transaction may be
  // shared with other threads' grouped writes (src/store/write_group.h), and `fn` may then run
  // again, alone, if the group fails.
  SpaceResult write(const std::function<SpaceResult(WriteTxn&)>& fn) const;

  Store store_;  // keeps the store open
  Tree data_;
  Tree usage_;
  std::string name_space_;
  std::string prefix_;  // name_space_ + '/'
  GuestQuota quota_;
};

}  // namespace wasm_sandbox::store::guest
