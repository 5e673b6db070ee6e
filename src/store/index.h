// Secondary indexes: one LMDB database per indexed field, kept current in the write
// transaction of every stash and toss (docs/store.md, "Indexes").
//
// An index on field F of tree T is the named database "T$ix:F" (tree names cannot hold '$';
// F canonical, field_path.h), MDB_DUPSORT: key = index_key::encode(the nut's value of F,
// absent included), data = the nut's id. Every nut of T has exactly one entry per index. The
// definitions are in "$meta" under "index:T:F" (value: 1 byte, the index format, 1), and are
// opened with the store.
#pragma once

#include <lmdb.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "store/index_registry.h"
#include "wasm_sandbox/result.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store::detail {

struct StoreState;

inline constexpr const char* kMetaDb = "$meta";
inline constexpr std::string_view kIndexMetaPrefix = "index:";

// The LMDB database name of the index on `field` (canonical) of `tree`.
std::string index_db_name(std::string_view tree, std::string_view field);

// Opens the indexes "$meta" lists and registers them; at open, before any other use.
Status load_indexes(StoreState& state);

// The stash hook: in the stash's write transaction, after the old value was read and before
// the new one is put. `old_body` is the old payload's MessagePack bytes (nullptr when the nut
// is new); it is read before anything is written. Does nothing when `tree` has no index.
Status index_stash(StoreState& state, MDB_txn* txn, const TreeInfo& tree, std::string_view id,
                   const std::string_view* old_body, const nlohmann::json& payload);
// The toss hook: in the toss's write transaction, before the delete. Reads the nut itself (only
// when `tree` has an index); does nothing if it is not there.
Status index_toss(StoreState& state, MDB_txn* txn, const TreeInfo& tree, std::string_view id);

// The indexes of `tree` that the snapshot of `txn` holds.
std::shared_ptr<const TreeIndexes> visible_indexes(StoreState& state, MDB_txn* txn,
                                                   const std::string& tree);

// The key of the nut's value at `def.path` in payload `body` (MessagePack); false if the bytes
// walked are corrupt.
bool key_of_body(const StoreState& state, const IndexDef& def, std::string_view body,
                 std::string* key);

}  // namespace wasm_sandbox::store::detail
