// Writes inside a transaction: stash, toss, squabble, purging, checkpoints (store.h, WriteTxn).
#include <lmdb.h>

#include <cstring>
#include <vector>

#include "store/json_text.h"
#include "store/msgpack_writer.h"
#include "store/names.h"
#include "store/nut_codec.h"
#include "store/read_value.h"
#include "store/records.h"
#include "store/store_state.h"
#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store {

using detail::Access;
using detail::Current;

namespace {

// `payload` as MessagePack (msgpack::encode_scratch: valid until this thread's next encoding);
// LimitExceeded naming the nut if it is larger than the store allows.
Result<std::string_view> encode(const detail::StoreState& state, std::string_view tree,
                                std::string_view id, const nlohmann::json& payload) {
  const std::string_view body = msgpack::encode_scratch(payload);
  if (body.size() > state.options.max_document_bytes) {
    return Error(ErrorKind::LimitExceeded,
                 names::where(tree, id) + ": document of " + std::to_string(body.size()) +
                     " bytes (encoded) is larger than StoreOptions::max_document_bytes (" +
                     std::to_string(state.options.max_document_bytes) + ")");
  }
  return body;
}

// The checks every write of `id` to `tree` starts with.
std::optional<Error> check_write(const detail::StoreState* state, const Tree& tree,
                                 std::string_view id) {
  if (auto bad = detail::check_owner(state, tree)) return bad;
  return names::check_id(tree.name(), id, state->max_key_size);
}

// What `id` holds, as the local side a judge compares (without its payload).
Change as_change(const Current& current, std::string_view id) {
  Change change;
  change.nut.id = std::string(id);
  change.nut.version = current.header.version;
  change.nut.timestamp_ns = current.header.timestamp_ns;
  change.nut.expires_at_ns = current.header.expires_at_ns;
  change.deleted = current.kind == Current::Dead;
  change.seq = current.header.seq;
  return change;
}

}  // namespace

Result<uint64_t> WriteTxn::stash(const Tree& tree, std::string_view id,
                                 const nlohmann::json& payload, const StashOptions& options) {
  if (auto bad = check_write(state_, tree, id)) return std::move(*bad);
  auto body = encode(*state_, tree.name(), id, payload);
  if (!body.ok()) return std::move(body).error();
  detail::TreeInfo& info = *Access::info(tree);
  auto old = detail::read_current(txn_, info, id);
  if (!old.ok()) return std::move(old).error();
  codec::Header header;
  header.version = old->kind == Current::None ? 1 : old->header.version + 1;
  header.timestamp_ns =
      state_->next_timestamp(old->kind == Current::None ? 0 : old->header.timestamp_ns + 1);
  header.expires_at_ns = options.expires_at_ns;
  Status written = detail::write_nut(*this, info, id, *old, header, *body, payload);
  if (!written.ok()) return std::move(written).error();
  return header.version;
}

Result<uint64_t> WriteTxn::stash(const Tree& tree, const nlohmann::json& document,
                                 const StashOptions& options) {
  auto id = json_text::document_id(tree.name(), document);
  if (!id.ok()) return std::move(id).error();
  return stash(tree, *id, document, options);
}

Result<uint64_t> WriteTxn::stash_text(const Tree& tree, std::string_view id,
                                      std::string_view json_text, const StashOptions& options) {
  if (auto bad = names::check_id(tree.name(), id, state_->max_key_size)) return std::move(*bad);
  auto payload = json_text::parse(json_text);
  if (!payload.ok()) {
    return std::move(payload).error().with_context(names::where(tree.name(), id));
  }
  return stash(tree, id, *payload, options);
}

Status WriteTxn::toss(const Tree& tree, std::string_view id) {
  if (auto bad = check_write(state_, tree, id)) return std::move(*bad);
  detail::TreeInfo& info = *Access::info(tree);
  auto old = detail::read_current(txn_, info, id);
  if (!old.ok()) {
    if (old.error().kind() != ErrorKind::Io) return std::move(old).error();
    // A nut that does not decode can still be tossed: otherwise nothing could remove it.
    return detail::toss_corrupt(*this, info, id, state_->next_timestamp(0));
  }
  if (old->kind != Current::Live || detail::expired(old->header, detail::now_ns())) {
    return Error(ErrorKind::NotFound, names::where(tree.name(), id) + ": no such nut");
  }
  codec::Header header;
  header.version = old->header.version + 1;
  header.timestamp_ns = state_->next_timestamp(old->header.timestamp_ns + 1);
  return detail::write_tombstone(*this, info, id, *old, header);
}

Result<Outcome> WriteTxn::squabble(const Tree& tree, const Change& incoming, const Judge& judge) {
  const std::string_view id = incoming.nut.id;
  if (auto bad = check_write(state_, tree, id)) return std::move(*bad);
  // Later writes add 1 to both: the largest values would wrap around.
  constexpr uint64_t kMax = ~uint64_t{0};
  if (incoming.nut.version == 0 || incoming.nut.version == kMax ||
      incoming.nut.timestamp_ns == kMax) {
    return Error(ErrorKind::InvalidArgument,
                 names::where(tree.name(), id) + ": incoming change has version " +
                     std::to_string(incoming.nut.version) + " and timestamp " +
                     std::to_string(incoming.nut.timestamp_ns) +
                     ": the version must be 1 to 2^64-2 and the timestamp below 2^64-1");
  }
  if (incoming.deleted && !incoming.nut.payload.is_null()) {
    return Error(ErrorKind::InvalidArgument,
                 names::where(tree.name(), id) + ": incoming tombstone carries a payload");
  }
  std::string_view body;
  if (!incoming.deleted) {
    auto encoded = encode(*state_, tree.name(), id, incoming.nut.payload);
    if (!encoded.ok()) return std::move(encoded).error();
    body = *encoded;
  }
  detail::TreeInfo& info = *Access::info(tree);
  auto old = detail::read_current(txn_, info, id);
  if (!old.ok()) return std::move(old).error();
  if (old->kind != Current::None) {
    const bool same = old->header.version == incoming.nut.version &&
                      old->header.timestamp_ns == incoming.nut.timestamp_ns &&
                      (old->kind == Current::Dead) == incoming.deleted &&
                      old->header.expires_at_ns == incoming.nut.expires_at_ns && old->body == body;
    if (same) return Outcome::Duplicate;
    Change local = as_change(*old, id);
    if (old->kind == Current::Live && !codec::decode_payload(old->body, &local.nut.payload)) {
      return Error(ErrorKind::Io, names::where(tree.name(), id) + ": corrupt stored value");
    }
    if (!judge(local, incoming)) return Outcome::Kept;
  }
  codec::Header header;
  header.version = incoming.nut.version;
  header.timestamp_ns = incoming.nut.timestamp_ns;
  Status written;
  if (incoming.deleted) {
    written = detail::write_tombstone(*this, info, id, *old, header);
  } else {
    header.expires_at_ns = incoming.nut.expires_at_ns;
    written = detail::write_nut(*this, info, id, *old, header, body, incoming.nut.payload);
  }
  if (!written.ok()) return std::move(written).error();
  return Outcome::Taken;
}

Result<uint64_t> detail::purge_expired_nuts(WriteTxn& txn, TreeInfo& info, uint64_t now_ns) {
  MDB_txn* raw_txn = Access::txn(txn);
  const std::string where = "tree `" + info.name + "`: purging expired nuts";
  // Collect first: the writes below move the cursor's database under it.
  std::vector<std::string> ids;
  bool corrupt = false;
  int rc = lmdb::for_each(raw_txn, info.expiry, [&](const MDB_val& key, const MDB_val&) {
    if (key.mv_size < 8) {
      corrupt = true;
      return false;
    }
    const char* bytes = static_cast<const char*>(key.mv_data);
    if (detail::get_be64(bytes) > now_ns) return false;
    ids.emplace_back(bytes + 8, key.mv_size - 8);
    return true;
  });
  if (rc != 0) return lmdb::error(rc, where);
  if (corrupt) return Error(ErrorKind::Io, where + ": corrupt expiry entry");
  for (const std::string& id : ids) {
    auto old = detail::read_current(raw_txn, info, id);
    if (!old.ok()) return std::move(old).error();
    if (old->kind != Current::Live) {
      return Error(ErrorKind::Io, names::where(info.name, id) + ": expiry entry of no nut");
    }
    codec::Header header;
    header.version = old->header.version + 1;
    header.timestamp_ns = Access::state(txn)->next_timestamp(old->header.timestamp_ns + 1);
    Status written = detail::write_tombstone(txn, info, id, *old, header);
    if (!written.ok()) return std::move(written).error();
  }
  return uint64_t{ids.size()};
}

Result<uint64_t> WriteTxn::purge_expired(const Tree& tree, uint64_t now_ns) {
  if (auto bad = detail::check_owner(state_, tree)) return std::move(*bad);
  return detail::purge_expired_nuts(*this, *Access::info(tree), now_ns);
}

Result<uint64_t> detail::purge_old_tombstones(WriteTxn& txn, TreeInfo& info, uint64_t before_ns) {
  MDB_txn* raw_txn = Access::txn(txn);
  const std::string where = "tree `" + info.name + "`: purging tombstones";
  // The feed's last entry stays whatever it is: its number is how a reopened store knows where
  // the feed is (read_last_seq), so that numbers are never handed out twice.
  auto last = detail::read_last_seq(raw_txn, info);
  if (!last.ok()) return std::move(last).error();
  // Collect first: the deletes below would move the cursor's database under it.
  std::vector<std::pair<std::string, uint64_t>> old;  // id, its feed seq
  std::optional<std::string> corrupt;                 // the id of a tombstone that is not one
  int rc = lmdb::for_each(raw_txn, info.dead, [&](const MDB_val& key, const MDB_val& value) {
    codec::Header header;
    std::string_view body;
    if (!codec::decode_header(lmdb::view(value), &header, &body)) {
      corrupt.emplace(lmdb::view(key));
      return false;
    }
    if (header.timestamp_ns < before_ns && header.seq != *last) {
      old.emplace_back(lmdb::view(key), header.seq);
    }
    return true;
  });
  if (rc != 0) return lmdb::error(rc, where);
  if (corrupt)
    return Error(ErrorKind::Io, names::where(info.name, *corrupt) + ": corrupt tombstone");
  for (const auto& [id, seq] : old) {
    char seq_key[8];
    detail::put_be64(seq_key, seq);
    MDB_val feed_key = lmdb::val(std::string_view(seq_key, 8));
    MDB_val dead_key = lmdb::val(id);
    rc = mdb_del(raw_txn, info.feed, &feed_key, nullptr);
    if (rc == 0 || rc == MDB_NOTFOUND) rc = mdb_del(raw_txn, info.dead, &dead_key, nullptr);
    if (rc != 0) return lmdb::error(rc, names::where(info.name, id));
  }
  return uint64_t{old.size()};
}

Result<uint64_t> WriteTxn::purge_tombstones(const Tree& tree, uint64_t before_ns) {
  if (auto bad = detail::check_owner(state_, tree)) return std::move(*bad);
  return detail::purge_old_tombstones(*this, *Access::info(tree), before_ns);
}

}  // namespace wasm_sandbox::store
