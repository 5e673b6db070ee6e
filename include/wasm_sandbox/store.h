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
// single writer lock, one at a time. A write inside a write()/batch() callback must go through
// the transaction it was given: calling Store::tree(), Tree::stash/toss, write() or batch() from
// inside a write()/batch() callback on the same thread deadlocks (LMDB's writer lock is not
// re-entrant). ReadTxn, WriteTxn and Batch objects live only for the callback they are passed to
// and must not be shared between threads.
//
// Lifetimes: every value returned (Nut, ids, payloads) is owned by the caller; nothing points
// into LMDB's pages, so nothing is invalidated by later writes or by closing the store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "wasm_sandbox/result.h"

struct MDB_txn;

namespace wasm_sandbox::store {

namespace detail {
struct StoreState;
struct Access;  // the implementation's door to the private constructors below
}  // namespace detail

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
  // Durable stores only: fsync on every commit. Off trades the last commits on a system crash
  // (never on a process crash) for speed. open_memory() never syncs.
  bool sync = true;
};

// One document. An owned value.
struct Nut {
  std::string id;
  nlohmann::json payload;
  uint64_t version = 0;       // 1 after the first stash, +1 on every later stash
  uint64_t timestamp_ns = 0;  // when it was last stashed, ns since the Unix epoch
  // Stored with the nut and returned; not yet enforced (expired nuts are still returned).
  std::optional<uint64_t> expires_at_ns;
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

class Tree;

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
  // Removes the nut; NotFound if there is none.
  Status toss(const Tree& tree, std::string_view id);

 private:
  using ReadTxn::ReadTxn;
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
// its own LMDB transaction (see WriteTxn/ReadTxn for what each does and its errors).
class Tree {
 public:
  const std::string& name() const { return name_; }

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

 private:
  Tree(std::shared_ptr<detail::StoreState> state, unsigned dbi, std::string name)
      : state_(std::move(state)), dbi_(dbi), name_(std::move(name)) {}
  std::shared_ptr<detail::StoreState> state_;
  unsigned dbi_;  // the LMDB database handle (MDB_dbi)
  std::string name_;
  friend struct detail::Access;
};

// An open store. A cheap, copyable handle; the environment closes (and open_memory()'s
// directory is deleted) when the last Store and Tree handle referring to it is gone.
class Store {
 public:
  // Opens the store in directory `path`, creating the directory and the store if needed.
  // Errors: Io naming the path (cannot create or open; e.g. a file where the directory should
  // be), InvalidArgument naming the path for a file that is not an LMDB environment, is from an
  // incompatible LMDB, is an LMDB environment that is not a store, or a store in an on-disk
  // format this build does not read. Opening one directory twice in one process is not
  // supported (LMDB's rule): share the handle instead.
  static Result<Store> open(const std::filesystem::path& path, const StoreOptions& options = {});
  // A store in a private temporary directory (under $TMPDIR, else /tmp) that is deleted when
  // the store closes; nothing is fsynced (MDB_NOSYNC | MDB_WRITEMAP), so it lives in the page
  // cache. `options.sync` is ignored.
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

  // The directory holding the store (the temporary one for open_memory()).
  const std::filesystem::path& path() const;

 private:
  explicit Store(std::shared_ptr<detail::StoreState> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::StoreState> state_;
  friend struct detail::Access;
};

}  // namespace wasm_sandbox::store
