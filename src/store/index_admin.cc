// Creating, dropping and listing secondary indexes (store.h: Tree::create_index; index.h).
//
// Each runs one write transaction and publishes the tree's new index list while it still holds
// the registry's mutex across the commit (index_registry.h says why).
#include <algorithm>

#include "store/index.h"
#include "store/index_key.h"
#include "store/names.h"
#include "store/nut_codec.h"
#include "store/store_state.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store {

using detail::Access;
using detail::IndexDef;
using detail::StoreState;
using detail::TreeIndexes;

namespace {

constexpr size_t kMaxFieldBytes = 255;

std::string where(const Tree& tree, std::string_view field) {
  return "tree `" + tree.name() + "`, index `" + std::string(field) + "`";
}

Result<field_path::Path> index_path(const Tree& tree, std::string_view field) {
  auto path = field_path::parse(field);
  if (!path.ok()) return std::move(path).error().with_context("tree `" + tree.name() + "`");
  const std::string canonical = field_path::canonical(*path);
  if (canonical.size() > kMaxFieldBytes || canonical.find('\0') != std::string::npos) {
    return Error(ErrorKind::InvalidArgument,
                 where(tree, names::quote(field)) + ": an indexed field is at most " +
                     std::to_string(kMaxFieldBytes) + " bytes, without NUL");
  }
  return path;
}

const IndexDef* find(const TreeIndexes& list, const std::string& field) {
  for (const IndexDef& def : list) {
    if (def.field == field) return &def;
  }
  return nullptr;
}

Status put_meta(MDB_txn* txn, const std::string& key, bool present) {
  MDB_dbi meta;
  int rc = mdb_dbi_open(txn, detail::kMetaDb, 0, &meta);
  MDB_val k = lmdb::val(key);
  MDB_val v = lmdb::val("\x01");
  if (rc == 0) rc = present ? mdb_put(txn, meta, &k, &v, 0) : mdb_del(txn, meta, &k, nullptr);
  if (rc != 0 && !(rc == MDB_NOTFOUND && !present)) return lmdb::error(rc, detail::kMetaDb);
  return {};
}

// Adds an entry for every nut of `tree` to the (empty) index.
Status build(StoreState& state, MDB_txn* txn, const Tree& tree, const IndexDef& def) {
  MDB_cursor* raw = nullptr;
  int rc = mdb_cursor_open(txn, Access::dbi(tree), &raw);
  if (rc != 0) return lmdb::error(rc, "tree `" + tree.name() + "`");
  lmdb::Cursor cursor(raw);
  MDB_val id, value;
  std::string key;
  for (rc = cursor.get(&id, &value, MDB_FIRST); rc == 0; rc = cursor.get(&id, &value, MDB_NEXT)) {
    codec::Header header;
    std::string_view body;
    if (!codec::decode_header(lmdb::view(value), &header, &body) ||
        !detail::key_of_body(state, def, body, &key)) {
      return Error(ErrorKind::Io, names::where(tree.name(), lmdb::view(id)) +
                                      ": corrupt stored value (toss it, then index)");
    }
    MDB_val k = lmdb::val(key);
    rc = mdb_put(txn, def.dbi, &k, &id, 0);
    if (rc != 0) return lmdb::error(rc, names::where(tree.name(), lmdb::view(id)));
  }
  if (rc != MDB_NOTFOUND) return lmdb::error(rc, "tree `" + tree.name() + "`");
  return {};
}

}  // namespace

Status Tree::create_index(std::string_view field) const {
  StoreState& state = *state_;
  auto path = index_path(*this, field);
  if (!path.ok()) return std::move(path).error();
  IndexDef def;
  def.field = field_path::canonical(*path);
  def.path = std::move(path).value();
  const std::string context = state.path.string() + ": " + where(*this, def.field);
  if (find(*state.indexes.lookup(name()), def.field)) return {};

  auto txn = detail::begin_write(state);  // the writer lock
  if (!txn.ok()) return std::move(txn).error().with_context(context);
  if (find(*state.indexes.lookup(name()), def.field)) return {};  // made meanwhile
  const std::string db_name = detail::index_db_name(name(), def.field);
  {
    std::lock_guard lock(state.indexes.mutex);
    if (!state.indexes.handles.contains(db_name) &&
        state.indexes.handles.size() >= state.options.max_indexes) {
      return Error(ErrorKind::LimitExceeded,
                   context + ": the store holds StoreOptions::max_indexes (" +
                       std::to_string(state.options.max_indexes) +
                       ") indexes already (dropped ones count until the store is reopened)");
    }
  }
  int rc = mdb_dbi_open(txn->get(), db_name.c_str(), MDB_CREATE | MDB_DUPSORT, &def.dbi);
  if (rc == 0) rc = mdb_drop(txn->get(), def.dbi, 0);  // a dropped index's database: empty
  if (rc != 0) return lmdb::error(rc, context);
  if (Status s = build(state, txn->get(), *this, def); !s.ok()) {
    return std::move(s).error().with_context(state.path.string());
  }
  const std::string meta_key = std::string(detail::kIndexMetaPrefix) + name() + ":" + def.field;
  if (Status s = put_meta(txn->get(), meta_key, true); !s.ok()) {
    return std::move(s).error().with_context(context);
  }
  def.built_txnid = mdb_txn_id(txn->get());

  // Writers that begin after the commit see a non-zero count and wait for the list below.
  state.indexes.pending_or_live.fetch_add(1, std::memory_order_acq_rel);
  std::lock_guard lock(state.indexes.mutex);
  Status committed = txn->commit();
  if (!committed.ok()) {
    state.indexes.pending_or_live.fetch_sub(1, std::memory_order_acq_rel);
    return std::move(committed).error().with_context(context);
  }
  state.indexes.handles.emplace(db_name, def.dbi);
  auto& slot = state.indexes.by_tree[name()];
  auto list = std::make_shared<TreeIndexes>(slot ? *slot : TreeIndexes{});
  list->push_back(std::move(def));
  std::sort(list->begin(), list->end(),
            [](const IndexDef& a, const IndexDef& b) { return a.field < b.field; });
  slot = std::move(list);
  return {};
}

Status Tree::drop_index(std::string_view field) const {
  StoreState& state = *state_;
  auto path = field_path::parse(field);
  if (!path.ok()) return std::move(path).error().with_context("tree `" + name() + "`");
  const std::string canonical = field_path::canonical(*path);
  const std::string context = state.path.string() + ": " + where(*this, canonical);
  auto txn = detail::begin_write(state);
  if (!txn.ok()) return std::move(txn).error().with_context(context);
  const auto current = state.indexes.lookup(name());  // only this writer replaces it
  const IndexDef* def = find(*current, canonical);
  if (!def) return Error(ErrorKind::NotFound, context + ": no such index");
  // Emptied, not deleted: deleting closes the handle, which readers may still be using.
  int rc = mdb_drop(txn->get(), def->dbi, 0);
  if (rc != 0) return lmdb::error(rc, context);
  const std::string meta_key = std::string(detail::kIndexMetaPrefix) + name() + ":" + canonical;
  if (Status s = put_meta(txn->get(), meta_key, false); !s.ok()) {
    return std::move(s).error().with_context(context);
  }
  std::lock_guard lock(state.indexes.mutex);
  Status committed = txn->commit();
  if (!committed.ok()) return std::move(committed).error().with_context(context);
  auto& slot = state.indexes.by_tree[name()];
  auto list = std::make_shared<TreeIndexes>(*slot);
  std::erase_if(*list, [&](const IndexDef& d) { return d.field == canonical; });
  slot = std::move(list);
  state.indexes.pending_or_live.fetch_sub(1, std::memory_order_acq_rel);
  return {};
}

std::vector<std::string> Tree::indexes() const {
  std::vector<std::string> fields;
  for (const IndexDef& def : *state_->indexes.lookup(name())) fields.push_back(def.field);
  return fields;
}

}  // namespace wasm_sandbox::store
