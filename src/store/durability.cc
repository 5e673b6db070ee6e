// Durability modes and the Syncer (durability.h).
#include "store/durability.h"

#include "store/lmdb_env.h"
#include "store/store_state.h"

namespace wasm_sandbox::store {

const char* to_string(Durability durability) {
  switch (durability) {
    case Durability::SyncEveryCommit:
      return "sync";
    case Durability::SyncEveryCommitButLast:
      return "sync-but-last";
    case Durability::SyncPeriodically:
      return "periodic";
    case Durability::NoSync:
      return "none";
  }
  return "?";
}

Status Store::flush() { return state_->syncer.sync(); }

namespace detail {

Result<unsigned> durability_flags(const StoreOptions& options, const std::string& where) {
  switch (options.durability) {
    case Durability::SyncEveryCommit:
      return 0u;
    case Durability::SyncEveryCommitButLast:
      return unsigned{MDB_NOMETASYNC};
    case Durability::SyncPeriodically:
      if (options.sync_interval.count() <= 0) {
        return Error(ErrorKind::InvalidArgument,
                     where +
                         ": StoreOptions::sync_interval must be positive for "
                         "Durability::SyncPeriodically (got " +
                         std::to_string(options.sync_interval.count()) + " ms)");
      }
      return unsigned{MDB_NOSYNC};
    case Durability::NoSync:
      return unsigned{MDB_NOSYNC};
  }
  return Error(ErrorKind::InvalidArgument, where + ": unknown StoreOptions::durability");
}

void Syncer::start(MDB_env* env, const StoreOptions& options, std::string where) {
  env_ = env;
  durability_ = options.durability;
  where_ = std::move(where);
  if (durability_ == Durability::SyncPeriodically) {
    thread_ = std::thread([this, interval = options.sync_interval] { run(interval); });
  }
}

void Syncer::run(std::chrono::milliseconds interval) {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
    lock.unlock();
    Status flushed = flush();
    lock.lock();
    if (!flushed.ok() && background_failure_.ok()) background_failure_ = std::move(flushed);
  }
}

Status Syncer::flush() {
  int rc = mdb_env_sync(env_, /*force=*/1);
  if (rc != 0) return lmdb::error(rc, where_ + ": flush to disk");
  return {};
}

Status Syncer::sync() {
  if (!env_) return {};
  Status flushed = flush();
  std::lock_guard lock(mutex_);
  if (!background_failure_.ok()) return background_failure_;
  return flushed;
}

void Syncer::close() {
  if (!env_) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Nothing can report a failure here; a caller who must know calls Store::flush() first.
  if (durability_ != Durability::NoSync) (void)flush();
  env_ = nullptr;
}

}  // namespace detail
}  // namespace wasm_sandbox::store
