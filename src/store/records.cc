// Reading and replacing the records of one id (records.h).
#include "store/records.h"

#include <chrono>
#include <cstring>
#include <string>

#include "store/index.h"
#include "store/names.h"

namespace wasm_sandbox::store::detail {
namespace {

// The `$expiry` key of `id` expiring at `at`: 8 bytes big-endian then the id.
std::string expiry_key(uint64_t at, std::string_view id) {
  std::string key(8 + id.size(), '\0');
  put_be64(key.data(), at);
  std::memcpy(key.data() + 8, id.data(), id.size());
  return key;
}

// Deletes `key` from `dbi`; a missing key is not an error.
int del_if_present(MDB_txn* txn, MDB_dbi dbi, std::string_view key) {
  MDB_val k = lmdb::val(key);
  int rc = mdb_del(txn, dbi, &k, nullptr);
  return rc == MDB_NOTFOUND ? 0 : rc;
}

// Removes the feed and expiry entries of what `id` holds, and moves it to the next sequence
// number, recording it in the feed. Leaves `old`'s own record (the caller overwrites or deletes
// it).
int move_in_feed(MDB_txn* txn, WriteLog& log, TreeInfo& tree, std::string_view id,
                 const Current& old, codec::Header* header) {
  int rc = 0;
  if (old.kind != Current::None) {
    char seq[8];
    put_be64(seq, old.header.seq);
    rc = del_if_present(txn, tree.feed, std::string_view(seq, 8));
    if (rc == 0 && old.kind == Current::Live && old.header.expires_at_ns) {
      rc = del_if_present(txn, tree.expiry, expiry_key(*old.header.expires_at_ns, id));
    }
    if (rc != 0) return rc;
  }
  auto next = log.next_seq(txn, &tree);
  if (!next.ok()) return EIO;  // the feed's last key is not 8 bytes
  header->seq = *next;
  char seq[8];
  put_be64(seq, header->seq);
  MDB_val key = lmdb::val(std::string_view(seq, 8));
  MDB_val value = lmdb::val(id);
  // Numbers only grow, so the new entry goes at the end: no search.
  return mdb_put(txn, tree.feed, &key, &value, MDB_APPEND);
}

void record_change(WriteLog& log, TreeInfo& tree, std::string_view id, const codec::Header& header,
                   const nlohmann::json* payload) {
  if (tree.subscribers.load(std::memory_order_acquire) == 0) return;
  Change change;
  change.nut.id = std::string(id);
  change.nut.version = header.version;
  change.nut.timestamp_ns = header.timestamp_ns;
  change.nut.expires_at_ns = header.expires_at_ns;
  change.deleted = payload == nullptr;
  if (payload) change.nut.payload = *payload;
  change.seq = header.seq;
  log.changes.emplace_back(&tree, std::move(change));
}

}  // namespace

void put_be64(char* out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(value >> (56 - 8 * i));
}

uint64_t get_be64(const char* in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<uint8_t>(in[i]);
  return value;
}

uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

Result<Current> read_current(MDB_txn* txn, const TreeInfo& tree, std::string_view id) {
  MDB_val key = lmdb::val(id);
  MDB_val value;
  Current current;
  int rc = mdb_get(txn, tree.live, &key, &value);
  if (rc == 0) {
    current.kind = Current::Live;
  } else if (rc == MDB_NOTFOUND) {
    rc = mdb_get(txn, tree.dead, &key, &value);
    if (rc == MDB_NOTFOUND) return current;
    current.kind = Current::Dead;
  }
  if (rc != 0) return lmdb::error(rc, names::where(tree.name, id));
  if (!codec::decode_header(lmdb::view(value), &current.header, &current.body) ||
      (current.kind == Current::Dead && !current.body.empty())) {
    return Error(ErrorKind::Io, names::where(tree.name, id) + ": corrupt stored value");
  }
  return current;
}

Status write_nut(WriteTxn& txn, TreeInfo& tree, std::string_view id, const Current& old,
                 codec::Header header, std::string_view body, const nlohmann::json& payload) {
  MDB_txn* raw = Access::txn(txn);
  WriteLog& log = *Access::log(txn);
  // Secondary indexes first: `old.body` points into a page the writes below may move.
  const std::string_view* old_body = old.kind == Current::Live ? &old.body : nullptr;
  if (Status indexed = index_stash(*Access::state(txn), raw, tree, id, old_body, payload);
      !indexed.ok()) {
    return indexed;
  }
  int rc = move_in_feed(raw, log, tree, id, old, &header);
  if (rc == 0 && old.kind == Current::Dead) rc = del_if_present(raw, tree.dead, id);
  if (rc == 0 && header.expires_at_ns) {
    const std::string expiry = expiry_key(*header.expires_at_ns, id);
    MDB_val key = lmdb::val(expiry);
    MDB_val empty{0, nullptr};
    rc = mdb_put(raw, tree.expiry, &key, &empty, 0);
  }
  if (rc != 0) return lmdb::error(rc, names::where(tree.name, id));
  // Reserve the value's room in the page and write it there: one copy of the body, not two.
  const size_t head = codec::header_size(header);
  MDB_val key = lmdb::val(id);
  MDB_val value{head + body.size(), nullptr};
  rc = mdb_put(raw, tree.live, &key, &value, MDB_RESERVE);
  if (rc != 0) return lmdb::error(rc, names::where(tree.name, id));
  char* out = static_cast<char*>(value.mv_data);
  codec::encode_header(header, out);
  if (!body.empty()) std::memcpy(out + head, body.data(), body.size());
  record_change(log, tree, id, header, &payload);
  return {};
}

Status write_tombstone(WriteTxn& txn, TreeInfo& tree, std::string_view id, const Current& old,
                       codec::Header header) {
  MDB_txn* raw = Access::txn(txn);
  WriteLog& log = *Access::log(txn);
  header.expires_at_ns.reset();
  if (old.kind == Current::Live) {
    if (Status indexed = index_toss(*Access::state(txn), raw, tree, id); !indexed.ok()) {
      return indexed;
    }
  }
  int rc = move_in_feed(raw, log, tree, id, old, &header);
  if (rc == 0 && old.kind == Current::Live) rc = del_if_present(raw, tree.live, id);
  if (rc != 0) return lmdb::error(rc, names::where(tree.name, id));
  char bytes[64];
  codec::encode_header(header, bytes);
  MDB_val key = lmdb::val(id);
  MDB_val value = lmdb::val(std::string_view(bytes, codec::header_size(header)));
  rc = mdb_put(raw, tree.dead, &key, &value, 0);
  if (rc != 0) return lmdb::error(rc, names::where(tree.name, id));
  record_change(log, tree, id, header, nullptr);
  return {};
}

Status toss_corrupt(WriteTxn& txn, TreeInfo& tree, std::string_view id, uint64_t timestamp_ns) {
  MDB_txn* raw = Access::txn(txn);
  // Finds the nut's index entries however much of it is readable.
  if (Status indexed = index_toss(*Access::state(txn), raw, tree, id); !indexed.ok()) {
    return indexed;
  }
  MDB_val key = lmdb::val(id);
  int rc = mdb_del(raw, tree.live, &key, nullptr);
  if (rc == MDB_NOTFOUND) {
    return Error(ErrorKind::NotFound, names::where(tree.name, id) + ": no such nut");
  }
  if (rc == 0) rc = del_if_present(raw, tree.dead, id);
  if (rc != 0) return lmdb::error(rc, names::where(tree.name, id));
  codec::Header header;
  header.version = 1;
  header.timestamp_ns = timestamp_ns;
  return write_tombstone(txn, tree, id, Current{}, header);
}

}  // namespace wasm_sandbox::store::detail
