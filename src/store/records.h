// The records behind one nut id in a tree, and the writes that keep them consistent.
//
// An id has at most one record: a nut in the tree's live database or a tombstone in its `$dead`
// database. Either has one entry in the tree's feed (`$feed`, under its sequence number); a nut
// with an expiry also has one in `$expiry`. write_nut() and write_tombstone() replace whatever
// the id had with a new record and move its feed entry to the next sequence number, all in the
// caller's write transaction. Internal to src/store.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "store/nut_codec.h"
#include "store/store_state.h"
#include "wasm_sandbox/result.h"

namespace wasm_sandbox::store::detail {

// What an id holds now. `body` points into LMDB's page: valid until the transaction writes.
struct Current {
  enum Kind { None, Live, Dead } kind = None;
  codec::Header header;
  std::string_view body;  // the MessagePack payload of a Live record
};

// The record of `id` (valid, checked by the caller); Io naming it if it does not decode.
Result<Current> read_current(MDB_txn* txn, const TreeInfo& tree, std::string_view id);

// Whether a nut with this header has expired at `now_ns`.
inline bool expired(const codec::Header& header, uint64_t now_ns) {
  return header.expires_at_ns && *header.expires_at_ns <= now_ns;
}
uint64_t now_ns();

// Replaces `old` (what `id` holds, from read_current) with a nut of `header` (its seq is
// assigned here) and MessagePack `body`; `payload` is the same document, handed to subscribers.
Status write_nut(WriteTxn& txn, TreeInfo& tree, std::string_view id, const Current& old,
                 codec::Header header, std::string_view body, const nlohmann::json& payload);
// Replaces `old` with a tombstone of `header` (version and timestamp; seq assigned here, expiry
// dropped).
Status write_tombstone(WriteTxn& txn, TreeInfo& tree, std::string_view id, const Current& old,
                       codec::Header header);

// Tombstones for the nuts of `tree` that expire at or before `now_ns`; returns how many.
Result<uint64_t> purge_expired_nuts(WriteTxn& txn, TreeInfo& tree, uint64_t now_ns);
// Forgets the tombstones of `tree` stashed before `before_ns` (but the feed's last entry);
// returns how many (WriteTxn::purge_tombstones).
Result<uint64_t> purge_old_tombstones(WriteTxn& txn, TreeInfo& tree, uint64_t before_ns);

// Replaces a live record of `id` that does not decode (its version and feed entry are unknown)
// with a tombstone of version 1 and `timestamp_ns`. Its old feed entry stays, stale: readers of
// the feed skip an entry older than its id's record. NotFound if there is no live record.
Status toss_corrupt(WriteTxn& txn, TreeInfo& tree, std::string_view id, uint64_t timestamp_ns);

// A feed or expiry key: `value` as 8 bytes big-endian (so LMDB's bytewise order is numeric).
void put_be64(char* out, uint64_t value);
uint64_t get_be64(const char* in);

}  // namespace wasm_sandbox::store::detail
