// Helpers the transaction code shares. Internal to src/store.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store/store_state.h"
#include "wasm_sandbox/result.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store::detail {

// InvalidArgument unless `tree` belongs to the store `state`.
std::optional<Error> check_owner(const StoreState* state, const Tree& tree);
// Decodes a stored value into *nut (all but its id, which names it in the error): Io if the
// value is corrupt.
std::optional<Error> decode_nut(std::string_view tree, std::string_view value, Nut* nut);

// The Error for LMDB code `rc` from an operation on `tree` in `txn`, with `where` as context:
// NotFound ("tree `t` did not exist when this transaction began") when the tree was created
// after the (read) transaction's snapshot, which LMDB reports as EINVAL; else lmdb::error().
Error tree_error(int rc, MDB_txn* txn, const Tree& tree, const std::string& where);

// The stored value of nut `id` in `tree` (pointing into LMDB's pages for the life of `txn`),
// nullopt if there is none; errors for a tree of another store, a bad id or LMDB's own.
// Shared by crack/exists (read_txn.cc) and the raw reads (read_raw.cc).
Result<std::optional<MDB_val>> lookup(StoreState* state, MDB_txn* txn, const Tree& tree,
                                      std::string_view id);

}  // namespace wasm_sandbox::store::detail
