// The store: an embedded document database on LMDB (the AcornDB model).
//
// A Store is one LMDB environment (a directory holding data.mdb and lock.mdb, or a private
// temporary directory for open_memory()). It holds named Trees; a Tree holds "nuts": JSON
// documents under a string id, each with a version (1 on the first stash, +1 on every stash), a
// timestamp (ns since the Unix epoch, set on every stash) and an optional expiry.
//
// Errors are values (result.h); nothing here throws. Every message names the store path, the
// tree and the id involved.
//
// Thread safety: Store, Tree and every method on them may be used from any number of threads at
// once. Reads run in parallel on LMDB snapshots; writes (stash, toss, batch, write) take LMDB's
// single writer lock, one at a time. On a store whose commits flush (Durability::
// SyncEveryCommit, SyncEveryCommitButLast), Tree::stash, stash_text and toss called by several
// threads at once are committed in groups: the writes queued while one group commits share the
// next transaction, its commit and its flush, each with its own result (a write that fails
// leaves the others of its group committed as if alone). A write inside a
// write()/batch() callback must go through the transaction it was given: calling Store::tree(),
// Tree::stash/toss, write() or batch() from inside a write()/batch() callback on the same thread
// deadlocks (LMDB's writer lock is not re-entrant). ReadTxn, WriteTxn and Batch objects live only
// for the callback they are passed to and must not be shared between threads.
//
// Lifetimes: every value returned (Nut, ids, payloads) is owned by the caller; nothing points
// into LMDB's pages, so nothing is invalidated by later writes or by closing the store.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wasm_sandbox/nut_view.h"
#include "wasm_sandbox/result.h"
#include "wasm_sandbox/store_query.h"

struct MDB_txn;

namespace wasm_sandbox::store {

namespace detail {
struct StoreState;
struct TreeInfo;
struct WriteLog;
struct Access;  // the implementation's door to the private constructors below
}  // namespace detail

// When a durable store's commits reach the disk (docs/store.md, "Durability"). In every mode a
// process crash loses nothing: a commit that returned is in the kernel's page cache, and the
// next open sees it. The modes differ in what an operating-system crash or a power loss loses.
enum class Durability {
  // Every commit is flushed before it returns (fdatasync of the data pages, then a synchronous
  // write of the meta page): nothing that committed is lost. Two flushes per commit.
  SyncEveryCommit,
  // Every commit flushes its data pages but not the meta page that makes it current; the next
  // commit's flush (or closing the store, or Store::flush()) carries it (LMDB's
  // MDB_NOMETASYNC). An OS crash may undo the last commit, never more, and never leaves a
  // commit half-done or the file damaged. One flush per commit.
  SyncEveryCommitButLast,
  // Commits are not flushed; a background thread flushes every StoreOptions::sync_interval,
  // and closing the store flushes. An OS crash loses the commits since the last flush, and a
  // crash between two flushes can leave the file damaged (LMDB's MDB_NOSYNC: the OS may write
  // pages in any order).
  SyncPeriodically,
  // Commits are never flushed by the store, not even on close: only Store::flush() flushes,
  // else the OS writes pages back when it chooses. An OS crash loses any number of commits
  // and can leave the file damaged (MDB_NOSYNC). For data that can be rebuilt.
  NoSync,
};

// "sync", "sync-but-last", "periodic", "none".
const char* to_string(Durability durability);

// Knobs, set before open. Defaults are the safe ones.
struct StoreOptions {
  // LMDB map size: the most the store's file can grow to. A write that would exceed it fails
  // with ErrorKind::LimitExceeded. Reserves address space, not disk (the file grows as used).
  size_t map_size = size_t{1} << 30;  // 1 GiB
  // The largest document accepted, measured on its encoded (MessagePack) form; larger stashes
  // fail with ErrorKind::LimitExceeded.
  size_t max_document_bytes = size_t{16} << 20;  // 16 MiB
  // How many trees the store can hold (LMDB named databases, besides the internal ones).
  unsigned max_trees = 128;
  // How many secondary indexes (Tree::create_index) the store can hold, over all trees. Each is
  // an LMDB named database; one dropped since the store was opened still counts until reopen.
  unsigned max_indexes = 64;
  // Durable stores only: when commits are flushed to the disk (Durability). open_memory()
  // never flushes and ignores both.
  Durability durability = Durability::SyncEveryCommit;
  // Durability::SyncPeriodically: the time between two flushes; must be positive.
  std::chrono::milliseconds sync_interval{1000};
  // When positive, a thread of the store's own purges expired nuts (Tree::purge_expired) from
  // every tree opened so far, this often; 0 (the default): only when purge_expired() is
  // called. Subscribers see those tombstones on that thread. Negative is InvalidArgument.
  std::chrono::milliseconds expiry_sweep_interval{0};
  // When positive, the same sweep also forgets tombstones older than this
  // (Tree::purge_tombstones), so deletes stop taking room; requires a positive
  // expiry_sweep_interval. 0 (the default): tombstones stay until purge_tombstones() is called.
  // A peer that syncs less often than this misses those deletes, and may bring the documents
  // back: choose it longer than any peer stays away. Negative is InvalidArgument.
  std::chrono::milliseconds tombstone_lifetime{0};
  // Opens an existing store for reading only (LMDB's MDB_RDONLY): NotFound if there is no
  // store at the path (nothing is created), NotFound from Store::tree() for a tree the store
  // does not hold, and InvalidArgument naming the path from every write (stash, toss, write,
  // batch, squabble, sync into it, the purges, create_index, drop_index). Another process may
  // write the store meanwhile; reads see its commits. LMDB still needs to write its lock file
  // (lock.mdb), except on a read-only file system. Not with open_memory() or an
  // expiry_sweep_interval (InvalidArgument).
  bool read_only = false;
};

// One document. An owned value.
struct Nut {
  std::string id;
  nlohmann::json payload;
  // 1 after the first stash, +1 on every later stash and on a toss (a later stash of a tossed
  // id continues from there, so versions never go back).
  uint64_t version = 0;
  uint64_t timestamp_ns = 0;  // when it was last stashed, ns since the Unix epoch
  // When it expires (ns since the Unix epoch): from then on reads treat the nut as absent, and
  // purge_expired() removes it.
  std::optional<uint64_t> expires_at_ns;
};

// One entry of a tree's change feed: the latest state of one id, a nut or a tombstone. What
// subscriptions receive and what sync exchanges.
struct Change {
  Nut nut;               // for a tombstone: id, version, timestamp; payload null, no expiry
  bool deleted = false;  // a tombstone: the nut was tossed (or purged after expiring)
  // Its position in the tree's feed (changes()): every write to a tree takes the next number,
  // and an id appears in the feed once, at its latest write. Local to one store: a change applied
  // from a peer gets a number of this store.
  uint64_t seq = 0;
};

// How squabble() settles a conflict between the local state of an id and an incoming change
// (either may be a tombstone). Returns true when `incoming` should replace `local`. Called only
// when both exist and differ. A judge must be a pure function of its arguments: sync converges
// when the judge is a total order (timestamp and version judges are; local_wins and
// remote_wins are not, and two stores syncing with them may keep different states).
using Judge = std::function<bool(const Change& local, const Change& incoming)>;

namespace judges {
// The later timestamp wins; ties broken by version, then a tombstone, then payload bytes, then
// expiry.
Judge timestamp();
// The higher version wins; ties broken by timestamp, then a tombstone, then payload bytes, then
// expiry.
Judge version();
Judge local_wins();   // the local state stays (an id never seen locally is still taken)
Judge remote_wins();  // the incoming change replaces the local state
}  // namespace judges

// What squabble() did with one incoming change.
enum class Outcome {
  Taken,      // applied: it was new here, or the judge preferred it
  Kept,       // the judge preferred the local state; nothing written
  Duplicate,  // the local state is already this change; nothing written
};

struct StashOptions {
  std::optional<uint64_t> expires_at_ns;
};

// What a scan visits, in increasing id order (bytewise, shorter first on a tie).
// Ids visited: start with `prefix`, are >= `from` (when not empty) and < `to` (when not empty).
struct ScanOptions {
  std::string prefix = {};
  std::string from = {};
  std::string to = {};
  size_t limit = 0;  // the most nuts visited; 0 = no limit
};

// Called once per nut visited; return false to stop the scan early. The Nut is owned by the
// scan and reused: copy or move out of it what must outlive the call.
using ScanCallback = std::function<bool(Nut& nut)>;
// The same for scan_view(): the NutView is valid only during the call (RawNut::from copies it).
using ScanViewCallback = std::function<bool(const NutView& nut)>;

class Tree;
class Subscription;

// Reads on one LMDB snapshot: everything read through one ReadTxn sees the store as it was when
// the transaction began, whatever commits meanwhile. Valid only inside the callback of
// Store::read() (or, as the base of WriteTxn, of Store::write()); not thread-safe.
// Every method fails with InvalidArgument if `tree` belongs to another Store, and with NotFound
// if `tree` was created after this (read) transaction began.
class ReadTxn {
 public:
  ReadTxn(const ReadTxn&) = delete;
  ReadTxn& operator=(const ReadTxn&) = delete;
  ~ReadTxn() = default;

  // The nut, or NotFound ("tree `t`, id `k`: no such nut"); Io if the stored value is corrupt;
  // InvalidArgument for an empty or over-long id (no such nut can exist).
  Result<Nut> crack(const Tree& tree, std::string_view id) const;
  Result<bool> exists(const Tree& tree, std::string_view id) const;
  Result<uint64_t> count(const Tree& tree) const;
  // Visits the nuts `options` selects (see ScanOptions), in id order.
  Status scan(const Tree& tree, const ScanOptions& options, const ScanCallback& callback) const;
  // Visits the tree's change feed after sequence number `since` (0: from the start), in
  // sequence order, at most `limit` entries (0: all); return false to stop. Tombstones
  // included, expired nuts too (they are changes the tree has seen).
  Status changes(const Tree& tree, uint64_t since, size_t limit,
                 const std::function<bool(const Change&)>& callback) const;
  // The tree's last sequence number (0 for a tree never written).
  Result<uint64_t> last_seq(const Tree& tree) const;
  // A sync checkpoint: the last sequence number of peer `peer`'s feed for `tree` that this
  // store has applied (0 if none). `peer` is any name up to 400 bytes (pull() uses the peer's
  // store id and tree name). Stored in the store, so it survives reopening.
  Result<uint64_t> checkpoint(const Tree& tree, std::string_view peer) const;

  // --- Queries (store_query.h; docs/store.md, "Queries") ---
  // The nuts `query` selects, in its order. Uses a secondary index of `tree` when one applies
  // (explain() says which); the result is the same with or without it. InvalidArgument for a
  // malformed field path or a Prefix operand that is not a string; Io for a corrupt nut.
  Result<std::vector<Nut>> query(const Tree& tree, const Query& query) const;
  // How many nuts query() would return (after skip and take), without decoding them.
  Result<uint64_t> count(const Tree& tree, const Query& query) const;
  // How query() would run on this snapshot.
  Result<Plan> explain(const Tree& tree, const Query& query) const;

  // Raw reads (nut_view.h): the payload as its stored MessagePack, neither decoded nor checked
  // (NutView/RawNut::payload() and json_text() report corrupt bytes). Errors as crack(), with
  // Io only for a corrupt header. The nut copied out of the store: an owned value.
  Result<RawNut> crack_raw(const Tree& tree, std::string_view id) const;
  // The nut in place, zero-copy: valid until this transaction ends, or (in a WriteTxn) until
  // its next write.
  Result<NutView> crack_view(const Tree& tree, std::string_view id) const;
  // scan() without decoding: the same nuts, in the same order, as NutViews valid during the call.
  Status scan_view(const Tree& tree, const ScanOptions& options,
                   const ScanViewCallback& callback) const;

 protected:
  ReadTxn(detail::StoreState* state, MDB_txn* txn) : state_(state), txn_(txn) {}
  detail::StoreState* state_;
  MDB_txn* txn_;
  friend struct detail::Access;
};

// One LMDB write transaction: its writes are visible to its own reads, to nobody else until it
// commits, and are committed all together or not at all. Valid only inside the callback of
// Store::write(); not thread-safe.
class WriteTxn : public ReadTxn {
 public:
  // Stores `payload` under `id`: version 1 if new, else the old version + 1; timestamp now, but
  // above the nut's previous timestamp and every timestamp this open Store handed out before.
  // Returns the new version. Errors (nothing is changed): InvalidArgument for an empty id or
  // one longer than 511 bytes, LimitExceeded for a document over
  // StoreOptions::max_document_bytes or a full map, Io if the stored nut it replaces is corrupt.
  Result<uint64_t> stash(const Tree& tree, std::string_view id, const nlohmann::json& payload,
                         const StashOptions& options = {});
  // The same, with the id taken from the document's "id" field, else its "key" field; either
  // must be a string (InvalidArgument otherwise).
  Result<uint64_t> stash(const Tree& tree, const nlohmann::json& document,
                         const StashOptions& options = {});
  // The same from JSON text; malformed text is InvalidArgument with the parser's message.
  Result<uint64_t> stash_text(const Tree& tree, std::string_view id, std::string_view json_text,
                              const StashOptions& options = {});
  // Removes the nut, leaving a tombstone (version + 1, a new timestamp) in the change feed;
  // NotFound if there is none (or it has expired).
  Status toss(const Tree& tree, std::string_view id);
  // Merges a change from elsewhere (another tree's feed, a peer over HTTP): taken as is
  // (version, timestamp, expiry, payload or tombstone: nothing is incremented) if the id is new
  // here or `judge` prefers it; a Duplicate of the local state changes nothing, so applying a
  // change twice, or late, is harmless under a convergent judge. InvalidArgument for a bad id,
  // a version of 0, or a deleted change carrying a payload.
  Result<Outcome> squabble(const Tree& tree, const Change& incoming, const Judge& judge);
  // Removes every nut whose expiry is at or before `now_ns`, leaving tombstones; returns how
  // many.
  Result<uint64_t> purge_expired(const Tree& tree, uint64_t now_ns);
  // Forgets the tombstones of `tree` stamped before `before_ns` (they leave the feed too), but
  // for one that is the feed's last entry; returns how many. A peer that has not synced since then
  // may bring such an id back: its older write no longer meets the tombstone that beat it. Choose
  // `before_ns` older than any peer's last sync.
  Result<uint64_t> purge_tombstones(const Tree& tree, uint64_t before_ns);

  // Sets the sync checkpoint of `tree` for `peer` (ReadTxn::checkpoint). Set it in the
  // transaction that applies the changes, so both commit together or neither does.
  Status set_checkpoint(const Tree& tree, std::string_view peer, uint64_t seq);

 private:
  WriteTxn(detail::StoreState* state, MDB_txn* txn, detail::WriteLog* log)
      : ReadTxn(state, txn), log_(log) {}
  detail::WriteLog* log_;
  friend struct detail::Access;
};

// A group of writes committed as one LMDB write transaction, all or nothing: the first failing
// operation fails the whole batch, later operations are skipped and nothing is committed. Valid
// only inside the callback of Store::batch(); not thread-safe.
class Batch {
 public:
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  void stash(const Tree& tree, std::string_view id, const nlohmann::json& payload,
             const StashOptions& options = {});
  void stash(const Tree& tree, const nlohmann::json& document, const StashOptions& options = {});
  void stash_text(const Tree& tree, std::string_view id, std::string_view json_text,
                  const StashOptions& options = {});
  void toss(const Tree& tree, std::string_view id);
  // The first failure so far (the one Store::batch() will return), or success.
  const Status& status() const { return status_; }

 private:
  explicit Batch(WriteTxn& txn) : txn_(txn) {}
  WriteTxn& txn_;
  Status status_;
  friend struct detail::Access;
};

// A named tree of nuts: a cheap, copyable handle that keeps its Store open. Each method runs in
// its own LMDB transaction (see WriteTxn/ReadTxn for what each does and its errors), but for
// stash, stash_text and toss from threads writing at once to a store whose commits flush,
// which may share one (grouped writes, at the top of this file).
class Tree {
 public:
  const std::string& name() const;

  Result<uint64_t> stash(std::string_view id, const nlohmann::json& payload,
                         const StashOptions& options = {}) const;
  Result<uint64_t> stash(const nlohmann::json& document, const StashOptions& options = {}) const;
  Result<uint64_t> stash_text(std::string_view id, std::string_view json_text,
                              const StashOptions& options = {}) const;
  Result<Nut> crack(std::string_view id) const;
  Status toss(std::string_view id) const;
  Result<bool> exists(std::string_view id) const;
  Result<uint64_t> count() const;
  // A point-in-time scan: one read transaction for the whole scan.
  Status scan(const ScanOptions& options, const ScanCallback& callback) const;
  // The change feed after `since`, at most `limit` entries (0: all), in one snapshot.
  Result<std::vector<Change>> changes(uint64_t since, size_t limit = 0) const;
  Result<uint64_t> last_seq() const;
  Result<Outcome> squabble(const Change& incoming, const Judge& judge) const;
  // Removes the nuts that have expired by now; returns how many.
  Result<uint64_t> purge_expired() const;
  // WriteTxn::purge_tombstones in a transaction of its own.
  Result<uint64_t> purge_tombstones(uint64_t before_ns) const;

  // Calls `fn` with every change committed to this tree from now on, after its transaction
  // commits, in commit order, on the committing thread (so a slow callback slows writers; for
  // grouped writes, the thread that committed the group, which may not be the one that wrote);
  // until the returned Subscription is destroyed or reset. `fn` must not write to this store
  // (such writes fail with InvalidArgument), must not throw, and must not subscribe or end a
  // subscription of this store (that waits for the delivery in progress). Changes a callback misses
  // (before subscribing, or between two subscriptions) are in changes(): resume from the last
  // seq seen.
  class Subscription subscribe(std::function<void(const Change&)> fn) const;

  // --- Queries and secondary indexes (store_query.h; docs/store.md) ---
  // ReadTxn::query/count/explain, each on a read transaction of its own.
  Result<std::vector<Nut>> query(const Query& query) const;
  Result<uint64_t> count(const Query& query) const;
  Result<Plan> explain(const Query& query) const;
  // Indexes the payload field `field` (a path, as in Query) over every nut, in one write
  // transaction; from then on every stash and toss of the tree keeps it current in the same
  // transaction, and it persists. Creating an index that exists does nothing. Errors:
  // InvalidArgument for a malformed path (or over 255 bytes), LimitExceeded past
  // StoreOptions::max_indexes, Io for a corrupt nut. Must not be called inside write()/batch().
  Status create_index(std::string_view field) const;
  // Removes the index on `field` (the same path, in either spelling); NotFound if none.
  Status drop_index(std::string_view field) const;
  // The indexed fields, sorted, each in the form create_index took ("a.b", or a JSON pointer
  // for a path a dotted form cannot spell).
  std::vector<std::string> indexes() const;

  // Raw reads (nut_view.h), each in one read transaction: see ReadTxn::crack_raw.
  Result<RawNut> crack_raw(std::string_view id) const;
  // Calls `fn` with the nut in place (zero-copy, valid during the call); crack()'s errors, else
  // success once `fn` has run.
  Status crack_view(std::string_view id, const std::function<void(const NutView&)>& fn) const;
  Status scan_view(const ScanOptions& options, const ScanViewCallback& callback) const;

 private:
  Tree(std::shared_ptr<detail::StoreState> state, detail::TreeInfo* info);
  std::shared_ptr<detail::StoreState> state_;
  detail::TreeInfo* info_;  // owned by *state_, lives as long as it
  friend struct detail::Access;
};

// A live subscription (Tree::subscribe); ends when destroyed or reset(). Movable. Once
// reset() or the destructor returns, the callback is not running and will not be called again
// (so they must not be called from inside the callback itself).
class Subscription {
 public:
  Subscription() = default;
  Subscription(Subscription&& other) noexcept;
  Subscription& operator=(Subscription&& other) noexcept;
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { reset(); }
  void reset();
  bool active() const { return state_ != nullptr; }

 private:
  Subscription(std::shared_ptr<detail::StoreState> state, uint64_t id)
      : state_(std::move(state)), id_(id) {}
  std::shared_ptr<detail::StoreState> state_;
  uint64_t id_ = 0;
  friend struct detail::Access;
};

// What sync() did, per direction.
struct SyncReport {
  uint64_t sent = 0;       // changes read from the source feed
  uint64_t taken = 0;      // applied at the destination
  uint64_t kept = 0;       // refused by the judge
  uint64_t duplicate = 0;  // already there
};

// Brings `to` up to date with `from`: applies `from`'s changes since `to`'s checkpoint for it
// (peer name: `from`'s store id and tree name) with squabble(judge), in one transaction with the
// new checkpoint; then nothing is re-sent next time. Both trees may be in one store or two.
Result<SyncReport> pull(const Tree& from, const Tree& to, const Judge& judge);
// Both directions: pull(a, b) then pull(b, a). With a convergent judge, after a sync with no
// writes in between both trees hold the same nuts (ids, versions, timestamps, payloads).
Result<SyncReport> sync(const Tree& a, const Tree& b, const Judge& judge);

// An open store. A cheap, copyable handle; the environment closes (and open_memory()'s
// directory is deleted) when the last Store and Tree handle referring to it is gone.
class Store {
 public:
  // Opens the store in directory `path`, creating the directory and the store if needed.
  // Errors: Io naming the path (cannot create or open; e.g. a file where the directory should
  // be), InvalidArgument naming the path for a file that is not an LMDB environment, is from an
  // incompatible LMDB, is an LMDB environment that is not a store, or a store in an on-disk
  // format this build does not read; InvalidArgument for Durability::SyncPeriodically with a
  // sync_interval that is not positive. Opening one directory twice in one process is not
  // supported (LMDB's rule): share the handle instead.
  static Result<Store> open(const std::filesystem::path& path, const StoreOptions& options = {});
  // A store in a private temporary directory (under $TMPDIR, else /tmp) that is deleted when
  // the store closes; nothing is fsynced (MDB_NOSYNC | MDB_WRITEMAP), so it lives in the page
  // cache. `options.durability` and `options.sync_interval` are ignored.
  static Result<Store> open_memory(const StoreOptions& options = {});

  // The tree called `name`, created if missing. Names are 1 to 64 bytes of [A-Za-z0-9_.-]
  // starting with a letter or digit (InvalidArgument otherwise); LimitExceeded if the store
  // already holds StoreOptions::max_trees trees. Must not be called inside write()/batch().
  Result<Tree> tree(std::string_view name);

  // Runs `fn` in one write transaction; commits if it returns success, else aborts and returns
  // its error. Nothing written is visible to anyone else before the commit.
  Status write(const std::function<Status(WriteTxn&)>& fn);
  // Runs `fn` on one read snapshot. Fails only if the transaction cannot begin.
  Status read(const std::function<void(const ReadTxn&)>& fn) const;
  // Runs `fn` and commits its operations as one transaction, or none of them (Batch).
  Status batch(const std::function<void(Batch&)>& fn);

  // The names of the trees the store holds (opened or not), in bytewise order.
  Result<std::vector<std::string>> trees() const;

  // Removes expired nuts from every tree opened through this store so far; returns how many.
  Result<uint64_t> purge_expired();

  // Flushes every commit made so far to the disk now (fdatasync), whatever the durability: a
  // point of durability for users of SyncPeriodically or NoSync. Errors: Io naming the path;
  // a failure of the background flush (SyncPeriodically) is kept and returned by this and
  // every later call. Does nothing for open_memory() stores. Thread-safe, and may run
  // alongside writes (a commit that has not returned yet may or may not be flushed); inside a
  // write()/batch() callback it flushes what committed before that transaction.
  Status flush();

  // The directory holding the store (the temporary one for open_memory()).
  const std::filesystem::path& path() const;
  // This store's identity: 32 hex digits chosen at random when it was created; how peers name
  // it in sync checkpoints.
  const std::string& id() const;

 private:
  explicit Store(std::shared_ptr<detail::StoreState> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::StoreState> state_;
  friend struct detail::Access;
};

}  // namespace wasm_sandbox::store
