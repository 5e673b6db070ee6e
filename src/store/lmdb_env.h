// Thin RAII wrappers over LMDB's handles, and LMDB error codes as Errors.
//
// Assumes the caller follows LMDB's rules (lmdb.h): an environment is opened once per process,
// a write transaction stays on the thread that began it, read transactions may move between
// threads because environments are opened with MDB_NOTLS.
#pragma once

#include <lmdb.h>

#include <string>
#include <string_view>

#include "wasm_sandbox/result.h"

namespace wasm_sandbox::store::lmdb {

// An Error for LMDB return code `rc` (an MDB_* code or an errno), the message prefixed with
// `context`: MDB_NOTFOUND -> NotFound; MDB_MAP_FULL, MDB_DBS_FULL, MDB_READERS_FULL ->
// LimitExceeded; MDB_INVALID, MDB_VERSION_MISMATCH, MDB_BAD_VALSIZE -> InvalidArgument;
// anything else -> Io.
Error error(int rc, const std::string& context);

inline MDB_val val(std::string_view bytes) {
  return MDB_val{bytes.size(), const_cast<char*>(bytes.data())};
}
// Points into the LMDB page (or the caller's buffer) `v` points to: valid only as long as that.
inline std::string_view view(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

// An environment; closed on destruction.
class Env {
 public:
  Env() = default;
  explicit Env(MDB_env* env) : env_(env) {}
  Env(Env&& other) noexcept : env_(other.env_) { other.env_ = nullptr; }
  Env& operator=(Env&& other) noexcept;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  ~Env() { close(); }

  MDB_env* get() const { return env_; }
  void close();

 private:
  MDB_env* env_ = nullptr;
};

// A transaction; aborted on destruction unless committed.
class Txn {
 public:
  // Begins a transaction on `env`: read-only when `read_only`.
  static Result<Txn> begin(MDB_env* env, bool read_only);
  Txn(Txn&& other) noexcept : txn_(other.txn_) { other.txn_ = nullptr; }
  Txn& operator=(Txn&&) = delete;
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn() { abort(); }

  MDB_txn* get() const { return txn_; }
  // Commits; the transaction is gone afterwards, committed or not. Errors as error(rc, ...).
  Status commit();
  void abort();

 private:
  explicit Txn(MDB_txn* txn) : txn_(txn) {}
  MDB_txn* txn_ = nullptr;
};

// A cursor; closed on destruction. Must not outlive its transaction.
class Cursor {
 public:
  // Takes ownership of an open cursor.
  explicit Cursor(MDB_cursor* cursor) : cursor_(cursor) {}
  Cursor(Cursor&& other) noexcept : cursor_(other.cursor_) { other.cursor_ = nullptr; }
  Cursor& operator=(Cursor&&) = delete;
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  ~Cursor() {
    if (cursor_) mdb_cursor_close(cursor_);
  }

  // mdb_cursor_get: 0, MDB_NOTFOUND or an error code.
  int get(MDB_val* key, MDB_val* value, MDB_cursor_op op) {
    return mdb_cursor_get(cursor_, key, value, op);
  }

 private:
  MDB_cursor* cursor_ = nullptr;
};

// Calls `fn(key, value)` (returning bool) for each record of `dbi` in key order, until it
// returns false. 0 when done or stopped, else LMDB's error code (opening the cursor or moving
// it). The records are valid only during the call; `fn` must not write to `dbi`.
template <class F>
int for_each(MDB_txn* txn, MDB_dbi dbi, F&& fn) {
  MDB_cursor* raw = nullptr;
  int rc = mdb_cursor_open(txn, dbi, &raw);
  if (rc != 0) return rc;
  Cursor cursor(raw);
  MDB_val key, value;
  for (rc = cursor.get(&key, &value, MDB_FIRST); rc == 0; rc = cursor.get(&key, &value, MDB_NEXT)) {
    if (!fn(key, value)) return 0;
  }
  return rc == MDB_NOTFOUND ? 0 : rc;
}

}  // namespace wasm_sandbox::store::lmdb
