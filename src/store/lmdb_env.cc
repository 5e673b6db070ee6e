// LMDB handles and errors (lmdb_env.h).
#include "store/lmdb_env.h"

#include <cerrno>

namespace wasm_sandbox::store::lmdb {

Error error(int rc, const std::string& context) {
  ErrorKind kind = ErrorKind::Io;
  std::string text = mdb_strerror(rc);
  switch (rc) {
    case MDB_NOTFOUND:
      kind = ErrorKind::NotFound;
      break;
    case MDB_MAP_FULL:
      kind = ErrorKind::LimitExceeded;
      text += " (raise StoreOptions::map_size)";
      break;
    case MDB_DBS_FULL:
      kind = ErrorKind::LimitExceeded;
      text += " (raise StoreOptions::max_trees)";
      break;
    case MDB_READERS_FULL:
      kind = ErrorKind::LimitExceeded;
      break;
    case MDB_INVALID:
      kind = ErrorKind::InvalidArgument;
      text = "not an LMDB file (" + text + ")";
      break;
    case MDB_VERSION_MISMATCH:
      kind = ErrorKind::InvalidArgument;
      text = "written by an incompatible LMDB version (" + text + ")";
      break;
    case MDB_BAD_VALSIZE:
      kind = ErrorKind::InvalidArgument;
      break;
    default:
      break;
  }
  return Error(kind, context.empty() ? text : context + ": " + text);
}

Env& Env::operator=(Env&& other) noexcept {
  if (this != &other) {
    close();
    env_ = other.env_;
    other.env_ = nullptr;
  }
  return *this;
}

void Env::close() {
  if (env_) mdb_env_close(env_);
  env_ = nullptr;
}

Result<Txn> Txn::begin(MDB_env* env, bool read_only) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env, nullptr, read_only ? MDB_RDONLY : 0, &txn);
  if (rc != 0) return error(rc, read_only ? "begin read transaction" : "begin write transaction");
  return Txn(txn);
}

Status Txn::commit() {
  MDB_txn* txn = txn_;
  txn_ = nullptr;
  int rc = mdb_txn_commit(txn);
  if (rc != 0) return error(rc, "commit");
  return {};
}

void Txn::abort() {
  if (txn_) mdb_txn_abort(txn_);
  txn_ = nullptr;
}

}  // namespace wasm_sandbox::store::lmdb
