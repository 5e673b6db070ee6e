// Tree: each operation in a transaction of its own (store.h).
#include "store/store_state.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store {

using detail::with_read;
using detail::with_write;

Result<uint64_t> Tree::stash(std::string_view id, const nlohmann::json& payload,
                             const StashOptions& options) const {
  return with_write(*state_, [&](WriteTxn& txn) { return txn.stash(*this, id, payload, options); });
}

Result<uint64_t> Tree::stash(const nlohmann::json& document, const StashOptions& options) const {
  return with_write(*state_, [&](WriteTxn& txn) { return txn.stash(*this, document, options); });
}

Result<uint64_t> Tree::stash_text(std::string_view id, std::string_view json_text,
                                  const StashOptions& options) const {
  return with_write(*state_,
                    [&](WriteTxn& txn) { return txn.stash_text(*this, id, json_text, options); });
}

Result<Nut> Tree::crack(std::string_view id) const {
  return with_read(*state_, [&](const ReadTxn& txn) { return txn.crack(*this, id); });
}

Status Tree::toss(std::string_view id) const {
  return with_write(*state_, [&](WriteTxn& txn) { return txn.toss(*this, id); });
}

Result<bool> Tree::exists(std::string_view id) const {
  return with_read(*state_, [&](const ReadTxn& txn) { return txn.exists(*this, id); });
}

Result<uint64_t> Tree::count() const {
  return with_read(*state_, [&](const ReadTxn& txn) { return txn.count(*this); });
}

Status Tree::scan(const ScanOptions& options, const ScanCallback& callback) const {
  return with_read(*state_, [&](const ReadTxn& txn) { return txn.scan(*this, options, callback); });
}

}  // namespace wasm_sandbox::store
