// Loading secondary indexes and keeping them current (index.h).
//
// The stash path is the hot one: a tree without indexes costs one atomic load (any()), and one
// with indexes a lock to copy the list, a field lookup in the old and new payloads, and two
// LMDB writes per index whose key changed (none when the field kept its value).
#include "store/index.h"

#include <algorithm>
#include <vector>

#include "store/index_key.h"
#include "store/names.h"
#include "store/nut_codec.h"
#include "store/store_state.h"

namespace wasm_sandbox::store::detail {
namespace {

std::string where(const std::string& tree, const IndexDef& def) {
  return "tree `" + tree + "`, index `" + def.field + "`";
}

// Removes every entry whose data is `id`: for a nut whose stored payload is corrupt, so its
// key is unknown. Reads the whole index; only corrupt nuts take this path.
Status remove_everywhere(MDB_txn* txn, const std::string& tree, const IndexDef& def,
                         std::string_view id) {
  std::vector<std::string> keys;  // collected first: no deleting under a moving cursor
  int rc = lmdb::for_each(txn, def.dbi, [&](const MDB_val& key, const MDB_val& value) {
    if (lmdb::view(value) == id) keys.emplace_back(lmdb::view(key));
    return true;
  });
  if (rc != 0) return lmdb::error(rc, where(tree, def));
  for (const std::string& k : keys) {
    MDB_val key = lmdb::val(k), data = lmdb::val(id);
    rc = mdb_del(txn, def.dbi, &key, &data);
    if (rc != 0 && rc != MDB_NOTFOUND) return lmdb::error(rc, where(tree, def));
  }
  return {};
}

// Replaces (old_key, id) by (new_key, id) in the index; either may be absent.
Status move_entry(MDB_txn* txn, const std::string& tree, const IndexDef& def, std::string_view id,
                  const std::string* old_key, const std::string* new_key) {
  MDB_val data = lmdb::val(id);
  if (old_key) {
    MDB_val key = lmdb::val(*old_key);
    int rc = mdb_del(txn, def.dbi, &key, &data);
    if (rc != 0 && rc != MDB_NOTFOUND) return lmdb::error(rc, where(tree, def));
  }
  if (new_key) {
    MDB_val key = lmdb::val(*new_key);
    int rc = mdb_put(txn, def.dbi, &key, &data, 0);
    if (rc != 0) return lmdb::error(rc, where(tree, def));
  }
  return {};
}

}  // namespace

std::string index_db_name(std::string_view tree, std::string_view field) {
  return std::string(tree) + "$ix:" + std::string(field);
}

bool key_of_body(const StoreState& state, const IndexDef& def, std::string_view body,
                 std::string* key) {
  std::optional<nlohmann::json> value;
  if (!field_path::decode_field(body, def.path, &value)) return false;
  *key = index_key::encode(value ? &*value : nullptr, state.max_key_size);
  return true;
}

Status load_indexes(StoreState& state) {
  const std::string where = state.path.string();
  auto txn = lmdb::Txn::begin(state.env.get(), state.options.read_only);
  if (!txn.ok()) return std::move(txn).error().with_context(where);
  MDB_dbi meta;
  int rc = mdb_dbi_open(txn->get(), kMetaDb, 0, &meta);
  if (rc != 0) return lmdb::error(rc, where);
  MDB_cursor* raw = nullptr;
  rc = mdb_cursor_open(txn->get(), meta, &raw);
  if (rc != 0) return lmdb::error(rc, where);
  std::unordered_map<std::string, TreeIndexes> found;
  {
    lmdb::Cursor cursor(raw);
    MDB_val key = lmdb::val(kIndexMetaPrefix), value;
    for (rc = cursor.get(&key, &value, MDB_SET_RANGE); rc == 0;
         rc = cursor.get(&key, &value, MDB_NEXT)) {
      std::string_view entry = lmdb::view(key);
      if (!entry.starts_with(kIndexMetaPrefix)) break;
      entry.remove_prefix(kIndexMetaPrefix.size());
      const size_t colon = entry.find(':');
      auto path = field_path::parse(colon == entry.npos ? "" : entry.substr(colon + 1));
      if (colon == entry.npos || !path.ok() || lmdb::view(value) != "\x01") {
        return Error(
            ErrorKind::InvalidArgument,
            where + ": malformed index record " + names::quote(lmdb::view(key)) + " in " + kMetaDb);
      }
      IndexDef def;
      def.path = std::move(path).value();
      def.field = field_path::canonical(def.path);
      const std::string tree(entry.substr(0, colon));
      const std::string name = index_db_name(tree, def.field);
      rc = mdb_dbi_open(txn->get(), name.c_str(), MDB_DUPSORT, &def.dbi);
      if (rc != 0) return lmdb::error(rc, where + ": index database " + names::quote(name));
      state.indexes.handles.emplace(name, def.dbi);
      found[tree].push_back(std::move(def));
    }
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return lmdb::error(rc, where);
  Status committed = txn->commit();
  if (!committed.ok()) return std::move(committed).error().with_context(where);
  for (auto& [tree, list] : found) {
    std::sort(list.begin(), list.end(),
              [](const IndexDef& a, const IndexDef& b) { return a.field < b.field; });
    state.indexes.pending_or_live += static_cast<unsigned>(list.size());
    state.indexes.by_tree[tree] = std::make_shared<const TreeIndexes>(std::move(list));
  }
  return {};
}

Status index_stash(StoreState& state, MDB_txn* txn, const TreeInfo& tree, std::string_view id,
                   const std::string_view* old_body, const nlohmann::json& payload) {
  if (!state.indexes.any()) return {};
  auto list = state.indexes.lookup(tree.name);
  if (list->empty()) return {};
  // Every old key first: `old_body` points into a page that a write may move.
  thread_local std::vector<std::string> old_keys;
  old_keys.resize(list->size());
  bool corrupt = false;
  if (old_body) {
    for (size_t i = 0; i < list->size(); ++i) {
      corrupt = corrupt || !key_of_body(state, (*list)[i], *old_body, &old_keys[i]);
    }
  }
  for (size_t i = 0; i < list->size(); ++i) {
    const IndexDef& def = (*list)[i];
    const std::string new_key =
        index_key::encode(field_path::find(payload, def.path), state.max_key_size);
    if (old_body && !corrupt && old_keys[i] == new_key) continue;
    if (old_body && corrupt) {
      if (Status s = remove_everywhere(txn, tree.name, def, id); !s.ok()) return s;
    }
    const bool had = old_body && !corrupt;
    if (Status s = move_entry(txn, tree.name, def, id, had ? &old_keys[i] : nullptr, &new_key);
        !s.ok()) {
      return s;
    }
  }
  return {};
}

Status index_toss(StoreState& state, MDB_txn* txn, const TreeInfo& tree, std::string_view id) {
  if (!state.indexes.any()) return {};
  auto list = state.indexes.lookup(tree.name);
  if (list->empty()) return {};
  MDB_val key = lmdb::val(id), value;
  int rc = mdb_get(txn, tree.live, &key, &value);
  if (rc == MDB_NOTFOUND) return {};
  if (rc != 0) return lmdb::error(rc, names::where(tree.name, id));
  codec::Header header;
  std::string_view body;
  const bool header_ok = codec::decode_header(lmdb::view(value), &header, &body);
  std::vector<std::string> keys(list->size());
  std::vector<bool> known(list->size(), false);
  for (size_t i = 0; i < list->size(); ++i) {
    known[i] = header_ok && key_of_body(state, (*list)[i], body, &keys[i]);
  }
  for (size_t i = 0; i < list->size(); ++i) {
    Status s = known[i] ? move_entry(txn, tree.name, (*list)[i], id, &keys[i], nullptr)
                        : remove_everywhere(txn, tree.name, (*list)[i], id);
    if (!s.ok()) return s;
  }
  return {};
}

std::shared_ptr<const TreeIndexes> visible_indexes(StoreState& state, MDB_txn* txn,
                                                   const std::string& tree) {
  if (!state.indexes.any()) return state.indexes.empty;
  auto list = state.indexes.lookup(tree);
  const uint64_t snapshot = mdb_txn_id(txn);
  bool all = true;
  for (const IndexDef& def : *list) all = all && def.built_txnid <= snapshot;
  if (all) return list;
  auto visible = std::make_shared<TreeIndexes>();
  for (const IndexDef& def : *list) {
    if (def.built_txnid <= snapshot) visible->push_back(def);
  }
  return visible;
}

}  // namespace wasm_sandbox::store::detail
