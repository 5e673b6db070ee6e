// Raw reads: nuts as stored, payloads left as MessagePack (store.h ReadTxn::crack_raw,
// crack_view, scan_view and their Tree forms; nut_view.h).
//
// These exist for speed (docs/store.md, Performance): a crack_raw is a B-tree lookup, a header
// decode and one copy. The payload bytes are not checked here (a walk over them costs ~45 ns,
// a tenth of a crack_raw): NutView::payload()/json_text() report corrupt ones.
#include <lmdb.h>

#include <algorithm>

#include "store/names.h"
#include "store/nut_codec.h"
#include "store/read_value.h"
#include "store/records.h"
#include "store/store_state.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store {
namespace {

// The view of stored value `value` under `id`; Io naming `tree` and `id` if its header is
// corrupt.
std::optional<Error> view_of(std::string_view tree, std::string_view id, std::string_view value,
                             NutView* view) {
  codec::Header header;
  std::string_view body;
  if (!codec::decode_header(value, &header, &body)) {
    return Error(ErrorKind::Io, names::where(tree, id) + ": corrupt stored value");
  }
  view->id = id;
  view->msgpack = body;
  view->version = header.version;
  view->timestamp_ns = header.timestamp_ns;
  view->expires_at_ns = header.expires_at_ns;
  return std::nullopt;
}

}  // namespace

Result<NutView> ReadTxn::crack_view(const Tree& tree, std::string_view id) const {
  auto value = detail::lookup(state_, txn_, tree, id);
  if (!value) return std::move(value).error();
  if (!*value) return Error(ErrorKind::NotFound, names::where(tree.name(), id) + ": no such nut");
  NutView view;
  if (auto bad = view_of(tree.name(), id, lmdb::view(**value), &view)) return std::move(*bad);
  if (view.expires_at_ns && *view.expires_at_ns <= detail::now_ns()) {
    return Error(ErrorKind::NotFound, names::where(tree.name(), id) + ": no such nut");
  }
  return view;
}

Result<RawNut> ReadTxn::crack_raw(const Tree& tree, std::string_view id) const {
  auto view = crack_view(tree, id);
  if (!view) return std::move(view).error();
  return RawNut::from(*view);
}

Status ReadTxn::scan_view(const Tree& tree, const ScanOptions& options,
                          const ScanViewCallback& callback) const {
  if (auto bad = detail::check_owner(state_, tree)) return std::move(*bad);
  const std::string where = "tree `" + tree.name() + "`: scan";
  MDB_cursor* raw_cursor = nullptr;
  int opened = mdb_cursor_open(txn_, detail::Access::dbi(tree), &raw_cursor);
  if (opened != 0) return detail::tree_error(opened, txn_, tree, where);
  lmdb::Cursor cursor(raw_cursor);
  const std::string& start = std::max(options.prefix, options.from);
  MDB_val key = lmdb::val(start);
  MDB_val value;
  int rc =
      start.empty() ? cursor.get(&key, &value, MDB_FIRST) : cursor.get(&key, &value, MDB_SET_RANGE);
  NutView view;
  size_t visited = 0;
  const uint64_t now = detail::now_ns();
  for (; rc == 0; rc = cursor.get(&key, &value, MDB_NEXT)) {
    std::string_view id = lmdb::view(key);
    if (!id.starts_with(options.prefix)) break;
    if (!options.to.empty() && id >= options.to) break;
    if (options.limit != 0 && visited == options.limit) break;
    if (auto bad = view_of(tree.name(), id, lmdb::view(value), &view)) return std::move(*bad);
    if (view.expires_at_ns && *view.expires_at_ns <= now) continue;  // absent, as to scan()
    ++visited;
    if (!callback(view)) break;
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return lmdb::error(rc, where);
  return {};
}

Result<RawNut> Tree::crack_raw(std::string_view id) const {
  return detail::with_read(*state_, [&](const ReadTxn& txn) { return txn.crack_raw(*this, id); });
}

Status Tree::crack_view(std::string_view id, const std::function<void(const NutView&)>& fn) const {
  return detail::with_read(*state_, [&](const ReadTxn& txn) -> Status {
    auto view = txn.crack_view(*this, id);
    if (!view) return std::move(view).error();
    fn(*view);
    return {};
  });
}

Status Tree::scan_view(const ScanOptions& options, const ScanViewCallback& callback) const {
  return detail::with_read(
      *state_, [&](const ReadTxn& txn) { return txn.scan_view(*this, options, callback); });
}

}  // namespace wasm_sandbox::store
