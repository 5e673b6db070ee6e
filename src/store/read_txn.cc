// Reads inside a transaction: crack, exists, count, scan (store.h, ReadTxn).
#include <lmdb.h>

#include <algorithm>
#include <cerrno>

#include "store/names.h"
#include "store/nut_codec.h"
#include "store/read_value.h"
#include "store/records.h"
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

Result<std::optional<MDB_val>> lookup(StoreState* state, MDB_txn* txn, const Tree& tree,
                                      std::string_view id) {
  if (auto bad = check_owner(state, tree)) return std::move(*bad);
  if (auto bad = names::check_id(tree.name(), id, state->max_key_size)) return std::move(*bad);
  MDB_val key = lmdb::val(id);
  MDB_val value;
  const int rc = mdb_get(txn, Access::dbi(tree), &key, &value);
  if (rc == MDB_NOTFOUND) return std::optional<MDB_val>();
  if (rc != 0) return tree_error(rc, txn, tree, names::where(tree.name(), id));
  return std::optional<MDB_val>(value);
}

}  // namespace detail

using detail::lookup;

Result<Nut> ReadTxn::crack(const Tree& tree, std::string_view id) const {
  auto value = lookup(state_, txn_, tree, id);
  if (!value) return std::move(value).error();
  Nut nut;
  if (*value) {
    nut.id = std::string(id);
    if (auto bad = detail::decode_nut(tree.name(), lmdb::view(**value), &nut)) {
      return std::move(*bad);
    }
    if (!nut.expires_at_ns || *nut.expires_at_ns > detail::now_ns()) return nut;
  }
  return Error(ErrorKind::NotFound, names::where(tree.name(), id) + ": no such nut");
}

Result<bool> ReadTxn::exists(const Tree& tree, std::string_view id) const {
  auto value = lookup(state_, txn_, tree, id);
  if (!value) return std::move(value).error();
  if (!*value) return false;
  codec::Header header;
  std::string_view body;
  if (!codec::decode_header(lmdb::view(**value), &header, &body)) {
    return Error(ErrorKind::Io, names::where(tree.name(), id) + ": corrupt stored value");
  }
  return !detail::expired(header, detail::now_ns());
}

Result<uint64_t> ReadTxn::count(const Tree& tree) const {
  if (auto bad = detail::check_owner(state_, tree)) return std::move(*bad);
  const std::string where = "tree `" + tree.name() + "`";
  MDB_stat stat;
  int rc = mdb_stat(txn_, Access::dbi(tree), &stat);
  if (rc != 0) return detail::tree_error(rc, txn_, tree, where);
  // Less the nuts that have expired but are not purged yet: the head of the expiry index.
  MDB_cursor* raw_cursor = nullptr;
  rc = mdb_cursor_open(txn_, Access::info(tree)->expiry, &raw_cursor);
  if (rc != 0) return detail::tree_error(rc, txn_, tree, where);
  lmdb::Cursor cursor(raw_cursor);
  const uint64_t now = detail::now_ns();
  uint64_t expired = 0;
  MDB_val key, value;
  for (rc = cursor.get(&key, &value, MDB_FIRST); rc == 0; rc = cursor.get(&key, &value, MDB_NEXT)) {
    if (key.mv_size < 8 || detail::get_be64(static_cast<const char*>(key.mv_data)) > now) break;
    ++expired;
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return lmdb::error(rc, where);
  return uint64_t{stat.ms_entries} - std::min<uint64_t>(expired, stat.ms_entries);
}

Status ReadTxn::scan(const Tree& tree, const ScanOptions& options,
                     const ScanCallback& callback) const {
  // scan_view()'s walk (read_raw.cc), each payload decoded.
  Nut nut;
  std::optional<Error> corrupt;
  Status scanned = scan_view(tree, options, [&](const NutView& view) {
    nut.id.assign(view.id);
    nut.version = view.version;
    nut.timestamp_ns = view.timestamp_ns;
    nut.expires_at_ns = view.expires_at_ns;
    if (!codec::decode_payload(view.msgpack, &nut.payload)) {
      corrupt = Error(ErrorKind::Io, names::where(tree.name(), view.id) + ": corrupt stored value");
      return false;
    }
    return callback(nut);
  });
  if (corrupt) return std::move(*corrupt);
  return scanned;
}

Status ReadTxn::changes(const Tree& tree, uint64_t since, size_t limit,
                        const std::function<bool(const Change&)>& callback) const {
  if (auto bad = detail::check_owner(state_, tree)) return std::move(*bad);
  const detail::TreeInfo& info = *Access::info(tree);
  const std::string where = "tree `" + tree.name() + "`: changes";
  MDB_cursor* raw_cursor = nullptr;
  int rc = mdb_cursor_open(txn_, info.feed, &raw_cursor);
  if (rc != 0) return detail::tree_error(rc, txn_, tree, where);
  lmdb::Cursor cursor(raw_cursor);
  char start[8];
  detail::put_be64(start, since + 1);
  MDB_val key = lmdb::val(std::string_view(start, 8));
  MDB_val value;
  Change change;
  size_t visited = 0;
  for (rc = since == ~uint64_t{0} ? MDB_NOTFOUND : cursor.get(&key, &value, MDB_SET_RANGE);
       rc == 0 && (limit == 0 || visited < limit); rc = cursor.get(&key, &value, MDB_NEXT)) {
    if (key.mv_size != 8) return Error(ErrorKind::Io, where + ": corrupt feed entry");
    const uint64_t seq = detail::get_be64(static_cast<const char*>(key.mv_data));
    const std::string_view id = lmdb::view(value);
    auto current = detail::read_current(txn_, info, id);
    if (!current.ok()) return std::move(current).error();
    // An entry older than its id's record was left by toss_corrupt(): the record's own entry
    // comes later.
    if (current->kind != detail::Current::None && current->header.seq > seq) continue;
    if (current->kind == detail::Current::None || current->header.seq != seq) {
      return Error(ErrorKind::Io, names::where(tree.name(), id) + ": feed entry " +
                                      std::to_string(seq) + " does not match the nut");
    }
    change.nut.id.assign(id);
    change.nut.version = current->header.version;
    change.nut.timestamp_ns = current->header.timestamp_ns;
    change.nut.expires_at_ns = current->header.expires_at_ns;
    change.deleted = current->kind == detail::Current::Dead;
    change.seq = seq;
    change.nut.payload = nullptr;
    if (!change.deleted && !codec::decode_payload(current->body, &change.nut.payload)) {
      return Error(ErrorKind::Io, names::where(tree.name(), id) + ": corrupt stored value");
    }
    ++visited;
    if (!callback(change)) return {};
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return lmdb::error(rc, where);
  return {};
}

Result<uint64_t> ReadTxn::last_seq(const Tree& tree) const {
  if (auto bad = detail::check_owner(state_, tree)) return std::move(*bad);
  return detail::read_last_seq(txn_, *Access::info(tree));
}

namespace detail {

Result<uint64_t> read_last_seq(MDB_txn* txn, const TreeInfo& tree) {
  const std::string where = "tree `" + tree.name + "`: feed";
  MDB_cursor* raw_cursor = nullptr;
  int rc = mdb_cursor_open(txn, tree.feed, &raw_cursor);
  if (rc != 0) return lmdb::error(rc, where);
  lmdb::Cursor cursor(raw_cursor);
  MDB_val key, value;
  rc = cursor.get(&key, &value, MDB_LAST);
  if (rc == MDB_NOTFOUND) return uint64_t{0};
  if (rc != 0) return lmdb::error(rc, where);
  if (key.mv_size != 8) return Error(ErrorKind::Io, where + ": corrupt feed entry");
  return get_be64(static_cast<const char*>(key.mv_data));
}

}  // namespace detail

}  // namespace wasm_sandbox::store
