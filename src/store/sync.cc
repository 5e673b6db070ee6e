// Judges, sync checkpoints, and sync between two trees (store.h).
#include <lmdb.h>

#include <compare>
#include <tuple>

#include "store/read_value.h"
#include "store/records.h"
#include "store/store_state.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store {

using detail::Access;

namespace judges {
namespace {

// The last tie-break of both ordered judges: a tombstone wins over a nut (a delete is not undone
// by a write it never saw), then the larger payload in MessagePack bytes, then the later expiry
// (none first), so the order is total.
bool later_by_content(const Change& local, const Change& incoming) {
  if (local.deleted != incoming.deleted) return incoming.deleted;
  const auto mine = nlohmann::json::to_msgpack(local.nut.payload);
  const auto theirs = nlohmann::json::to_msgpack(incoming.nut.payload);
  if (mine != theirs) return theirs > mine;
  return incoming.nut.expires_at_ns > local.nut.expires_at_ns;
}

// A judge ordering changes by `rank(change)` (a tuple), then by content.
template <class Rank>
Judge ordered_by(Rank rank) {
  return [rank](const Change& local, const Change& incoming) {
    const auto l = rank(local);
    const auto r = rank(incoming);
    if (l != r) return r > l;
    return later_by_content(local, incoming);
  };
}

}  // namespace

Judge timestamp() {
  return ordered_by([](const Change& c) { return std::tuple(c.nut.timestamp_ns, c.nut.version); });
}

Judge version() {
  return ordered_by([](const Change& c) { return std::tuple(c.nut.version, c.nut.timestamp_ns); });
}

Judge local_wins() {
  return [](const Change&, const Change&) { return false; };
}

Judge remote_wins() {
  return [](const Change&, const Change&) { return true; };
}

}  // namespace judges

namespace {

// With "peer:", a 64-byte tree name and ":", within LMDB's 511-byte keys.
constexpr size_t kMaxPeerName = 400;

std::string checkpoint_key(const Tree& tree, std::string_view peer) {
  return "peer:" + tree.name() + ":" + std::string(peer);
}

}  // namespace

Result<uint64_t> ReadTxn::checkpoint(const Tree& tree, std::string_view peer) const {
  if (auto bad = detail::check_owner(state_, tree)) return std::move(*bad);
  const std::string name = checkpoint_key(tree, peer);
  MDB_val key = lmdb::val(name);
  MDB_val value;
  if (peer.size() > kMaxPeerName) {
    return Error(ErrorKind::InvalidArgument, "tree `" + tree.name() + "`: peer name of " +
                                                 std::to_string(peer.size()) +
                                                 " bytes is longer than the 400 allowed");
  }
  int rc = mdb_get(txn_, state_->meta, &key, &value);
  if (rc == MDB_NOTFOUND) return uint64_t{0};
  if (rc != 0) return lmdb::error(rc, "tree `" + tree.name() + "`: checkpoint");
  if (value.mv_size != 8) {
    return Error(ErrorKind::Io, "tree `" + tree.name() + "`: corrupt checkpoint in $meta");
  }
  return detail::get_be64(static_cast<const char*>(value.mv_data));
}

Status WriteTxn::set_checkpoint(const Tree& tree, std::string_view peer, uint64_t seq) {
  if (auto bad = detail::check_owner(state_, tree)) return std::move(*bad);
  const std::string name = checkpoint_key(tree, peer);
  if (peer.size() > kMaxPeerName) {
    return Error(ErrorKind::InvalidArgument, "tree `" + tree.name() + "`: peer name of " +
                                                 std::to_string(peer.size()) +
                                                 " bytes is longer than the 400 allowed");
  }
  char bytes[8];
  detail::put_be64(bytes, seq);
  MDB_val key = lmdb::val(name);
  MDB_val value = lmdb::val(std::string_view(bytes, 8));
  int rc = mdb_put(txn_, state_->meta, &key, &value, 0);
  if (rc != 0) return lmdb::error(rc, "tree `" + tree.name() + "`: checkpoint");
  return {};
}

Result<SyncReport> pull(const Tree& from, const Tree& to, const Judge& judge) {
  detail::StoreState& target = *Access::state(to);
  const std::string peer = Access::state(from)->id + ":" + from.name();
  // Pages of the source's feed, each applied in one transaction with the checkpoint after it.
  // Each page is read before its transaction begins: the source may be the same store, whose
  // writer lock the transaction takes.
  constexpr size_t kPage = 1000;
  SyncReport report;
  for (;;) {
    auto since =
        detail::with_read(target, [&](const ReadTxn& txn) { return txn.checkpoint(to, peer); });
    if (!since.ok()) return std::move(since).error();
    auto changes = from.changes(*since, kPage);
    if (!changes.ok()) return std::move(changes).error();
    if (changes->empty()) return report;
    report.sent += changes->size();
    Status applied = detail::with_write(target, [&](WriteTxn& txn) -> Status {
      for (const Change& change : *changes) {
        auto outcome = txn.squabble(to, change, judge);
        if (!outcome.ok()) return std::move(outcome).error();
        if (*outcome == Outcome::Taken) ++report.taken;
        if (*outcome == Outcome::Kept) ++report.kept;
        if (*outcome == Outcome::Duplicate) ++report.duplicate;
      }
      return txn.set_checkpoint(to, peer, changes->back().seq);
    });
    if (!applied.ok()) return std::move(applied).error();
    if (changes->size() < kPage) return report;
  }
}

Result<SyncReport> sync(const Tree& a, const Tree& b, const Judge& judge) {
  auto forth = pull(a, b, judge);
  if (!forth.ok()) return forth;
  auto back = pull(b, a, judge);
  if (!back.ok()) return back;
  return SyncReport{forth->sent + back->sent, forth->taken + back->taken, forth->kept + back->kept,
                    forth->duplicate + back->duplicate};
}

}  // namespace wasm_sandbox::store
