// Reads inside a transaction: crack, exists, count, scan (store.h, ReadTxn).
#include <lmdb.h>

#include <algorithm>
#include <cerrno>

#include "store/names.h"
#include "store/nut_codec.h"
#include "store/read_value.h"
#include "store/store_state.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store {

using detail::Access;

namespace detail {

std::optional<Error> check_owner(const StoreState* state, const Tree& tree) {
  if (Access::state(tree) == state) return std::nullopt;
  return Error(ErrorKind::InvalidArgument,
               "tree `" + tree.name() + "` belongs to another store than this transaction's");
}

std::optional<Error> decode_nut(std::string_view tree, std::string_view value, Nut* nut) {
  codec::Header header;
  std::string_view body;
  if (!codec::decode_header(value, &header, &body) || !codec::decode_payload(body, &nut->payload)) {
    return Error(ErrorKind::Io, names::where(tree, nut->id) + ": corrupt stored value");
  }
  nut->version = header.version;
  nut->timestamp_ns = header.timestamp_ns;
  nut->expires_at_ns = header.expires_at_ns;
  return std::nullopt;
}

Error tree_error(int rc, MDB_txn* txn, const Tree& tree, const std::string& where) {
  unsigned flags;
  if (rc == EINVAL && mdb_dbi_flags(txn, Access::dbi(tree), &flags) == EINVAL) {
    return Error(ErrorKind::NotFound,
                 where + ": tree `" + tree.name() + "` did not exist when this transaction began");
  }
  return lmdb::error(rc, where);
}

}  // namespace detail

namespace {

// The stored value of nut `id` in `tree` (pointing into LMDB's pages for the life of `txn`),
// nullopt if there is none; errors for a tree of another store, a bad id or LMDB's own.
Result<std::optional<MDB_val>> lookup(detail::StoreState* state, MDB_txn* txn, const Tree& tree,
                                      std::string_view id) {
  if (auto bad = detail::check_owner(state, tree)) return std::move(*bad);
  if (auto bad = names::check_id(tree.name(), id, state->max_key_size)) return std::move(*bad);
  MDB_val key = lmdb::val(id);
  MDB_val value;
  const int rc = mdb_get(txn, Access::dbi(tree), &key, &value);
  if (rc == MDB_NOTFOUND) return std::optional<MDB_val>();
  if (rc != 0) return detail::tree_error(rc, txn, tree, names::where(tree.name(), id));
  return std::optional<MDB_val>(value);
}

}  // namespace

Result<Nut> ReadTxn::crack(const Tree& tree, std::string_view id) const {
  auto value = lookup(state_, txn_, tree, id);
  if (!value) return std::move(value).error();
  if (!*value) return Error(ErrorKind::NotFound, names::where(tree.name(), id) + ": no such nut");
  Nut nut;
  nut.id = std::string(id);
  if (auto bad = detail::decode_nut(tree.name(), lmdb::view(**value), &nut)) {
    return std::move(*bad);
  }
  return nut;
}

Result<bool> ReadTxn::exists(const Tree& tree, std::string_view id) const {
  auto value = lookup(state_, txn_, tree, id);
  if (!value) return std::move(value).error();
  return value->has_value();
}

Result<uint64_t> ReadTxn::count(const Tree& tree) const {
  if (auto bad = detail::check_owner(state_, tree)) return std::move(*bad);
  MDB_stat stat;
  int rc = mdb_stat(txn_, Access::dbi(tree), &stat);
  if (rc != 0) return detail::tree_error(rc, txn_, tree, "tree `" + tree.name() + "`");
  return uint64_t{stat.ms_entries};
}

Status ReadTxn::scan(const Tree& tree, const ScanOptions& options,
                     const ScanCallback& callback) const {
  if (auto bad = detail::check_owner(state_, tree)) return std::move(*bad);
  const std::string where = "tree `" + tree.name() + "`: scan";
  MDB_cursor* raw_cursor = nullptr;
  int opened = mdb_cursor_open(txn_, Access::dbi(tree), &raw_cursor);
  if (opened != 0) return detail::tree_error(opened, txn_, tree, where);
  lmdb::Cursor cursor(raw_cursor);
  const std::string& start = std::max(options.prefix, options.from);
  MDB_val key = lmdb::val(start);
  MDB_val value;
  int rc =
      start.empty() ? cursor.get(&key, &value, MDB_FIRST) : cursor.get(&key, &value, MDB_SET_RANGE);
  Nut nut;
  size_t visited = 0;
  for (; rc == 0; rc = cursor.get(&key, &value, MDB_NEXT)) {
    std::string_view id = lmdb::view(key);
    if (!id.starts_with(options.prefix)) break;
    if (!options.to.empty() && id >= options.to) break;
    if (options.limit != 0 && visited == options.limit) break;
    nut.id.assign(id);
    if (auto bad = detail::decode_nut(tree.name(), lmdb::view(value), &nut)) {
      return std::move(*bad);
    }
    ++visited;
    if (!callback(nut)) break;
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return lmdb::error(rc, where);
  return {};
}

}  // namespace wasm_sandbox::store
