// Opening and closing stores, trees, and the transaction entry points (store.h).
//
// Layout of the LMDB environment: the main database holds only the names of the named
// databases; "$meta" holds the store's format version under the key "format" (uint32
// little-endian), its identity under "id" and sync checkpoints under "peer:<tree>:<peer>";
// every tree is four named
// databases, `<tree>` keyed by nut id (nut_codec.h) and `<tree>$dead`, `<tree>$feed`,
// `<tree>$expiry` (records.h).
#include "wasm_sandbox/store.h"

#include <lmdb.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <system_error>

#include "store/index.h"
#include "store/names.h"
#include "store/nut_codec.h"
#include "store/records.h"
#include "store/store_state.h"

namespace wasm_sandbox::store {
namespace detail {

StoreState::~StoreState() {
  sweeper.close();  // a sweep writes: before anything it uses goes
  syncer.close();   // durability: stop the periodic flush, flush a last time
  readers.close();
  env.close();
  if (temporary) {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
}

uint64_t StoreState::next_timestamp(uint64_t at_least) {
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  uint64_t wanted = std::max<uint64_t>(static_cast<uint64_t>(now.count()), at_least);
  uint64_t last = last_timestamp_ns.load(std::memory_order_relaxed);
  uint64_t next;
  do {
    next = std::max(wanted, last + 1);
  } while (!last_timestamp_ns.compare_exchange_weak(last, next, std::memory_order_relaxed));
  return next;
}

}  // namespace detail

namespace {

using detail::StoreState;

constexpr const char* kMetaDb = "$meta";
constexpr std::string_view kFormatKey = "format";
constexpr std::string_view kIdKey = "id";
// LMDB databases per tree: the nuts, tombstones, feed and expiry index.
constexpr unsigned kDatabasesPerTree = 4;

std::string random_id() {
  std::random_device random;
  std::string id;
  const char* hex = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    uint32_t bits = random();
    for (int j = 0; j < 4; ++j) id += hex[(bits >> (4 * j)) & 15];
  }
  return id;
}

// Reads the store's identity into state.id.
Status read_id(StoreState& state, MDB_txn* txn) {
  MDB_val key = lmdb::val(kIdKey);
  MDB_val value;
  int rc = mdb_get(txn, state.meta, &key, &value);
  if (rc == 0 && value.mv_size == 32) {
    state.id = std::string(lmdb::view(value));
    return {};
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return lmdb::error(rc, state.path.string());
  return Error(ErrorKind::InvalidArgument,
               state.path.string() + ": not a wasm-sandbox store (no valid id in $meta)");
}

// Creates "$meta" in a new environment, or checks the format of an existing store.
Status check_meta(StoreState& state) {
  const std::string where = state.path.string();
  auto txn = lmdb::Txn::begin(state.env.get(), state.options.read_only);
  if (!txn.ok()) return std::move(txn).error().with_context(where);
  MDB_dbi meta;
  int rc = mdb_dbi_open(txn->get(), kMetaDb, 0, &meta);
  if (rc == MDB_NOTFOUND) {
    MDB_dbi main;
    MDB_stat stat;
    rc = mdb_dbi_open(txn->get(), nullptr, 0, &main);
    if (rc == 0) rc = mdb_stat(txn->get(), main, &stat);
    if (rc != 0) return lmdb::error(rc, where);
    if (stat.ms_entries != 0) {
      return Error(ErrorKind::InvalidArgument,
                   where + ": an LMDB environment that is not a wasm-sandbox store (no " + kMetaDb +
                       " database)");
    }
    if (state.options.read_only) {
      return Error(ErrorKind::InvalidArgument,
                   where +
                       ": an empty LMDB environment, not yet a wasm-sandbox store (a read-only "
                       "open creates nothing)");
    }
    rc = mdb_dbi_open(txn->get(), kMetaDb, MDB_CREATE, &meta);
    if (rc != 0) return lmdb::error(rc, where);
    char format[4];
    for (int i = 0; i < 4; ++i) format[i] = static_cast<char>(codec::kFormatVersion >> (8 * i));
    MDB_val key = lmdb::val(kFormatKey);
    MDB_val value = lmdb::val(std::string_view(format, 4));
    rc = mdb_put(txn->get(), meta, &key, &value, 0);
    const std::string id = random_id();
    key = lmdb::val(kIdKey);
    value = lmdb::val(id);
    if (rc == 0) rc = mdb_put(txn->get(), meta, &key, &value, 0);
    if (rc != 0) return lmdb::error(rc, where);
    Status committed = txn->commit();
    if (!committed.ok()) return std::move(committed).error().with_context(where);
    state.meta = meta;
    state.id = id;
    return {};
  }
  if (rc != 0) return lmdb::error(rc, where);
  MDB_val key = lmdb::val(kFormatKey);
  MDB_val value;
  rc = mdb_get(txn->get(), meta, &key, &value);
  if (rc == 0 && value.mv_size == 4) {
    uint32_t format = 0;
    for (int i = 0; i < 4; ++i) {
      format |= uint32_t(static_cast<const uint8_t*>(value.mv_data)[i]) << (8 * i);
    }
    if (format == codec::kFormatVersion) {
      state.meta = meta;
      Status id = read_id(state, txn->get());
      if (!id.ok()) return id;
      // A handle opened in a write transaction is closed if it aborts.
      Status committed = txn->commit();
      if (!committed.ok()) return std::move(committed).error().with_context(where);
      return {};
    }
    return Error(ErrorKind::InvalidArgument, where + ": store format " + std::to_string(format) +
                                                 ", this build reads format " +
                                                 std::to_string(codec::kFormatVersion));
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return lmdb::error(rc, where);
  return Error(ErrorKind::InvalidArgument,
               where + ": not a wasm-sandbox store (no valid format record in " + kMetaDb + ")");
}

Result<Store> open_env(std::filesystem::path path, const StoreOptions& options, unsigned flags,
                       bool temporary) {
  const std::string where = path.string();
  if (options.expiry_sweep_interval.count() < 0) {
    return Error(ErrorKind::InvalidArgument,
                 where + ": StoreOptions::expiry_sweep_interval must not be negative (got " +
                     std::to_string(options.expiry_sweep_interval.count()) + " ms)");
  }
  if (options.tombstone_lifetime.count() < 0) {
    return Error(ErrorKind::InvalidArgument,
                 where + ": StoreOptions::tombstone_lifetime must not be negative (got " +
                     std::to_string(options.tombstone_lifetime.count()) + " ms)");
  }
  if (options.tombstone_lifetime.count() > 0 && options.expiry_sweep_interval.count() == 0) {
    return Error(ErrorKind::InvalidArgument,
                 where +
                     ": StoreOptions::tombstone_lifetime needs a positive "
                     "expiry_sweep_interval (the sweep that forgets old tombstones)");
  }
  auto state = std::make_shared<StoreState>();
  state->path = std::move(path);
  state->options = options;
  state->temporary = temporary;
  // Grouping pays where a commit waits for the disk. Where commits are cheap (microseconds),
  // handing groups between threads costs more than it saves: the write transaction's pages
  // and LMDB's own state move between processor caches with every new leader, and two threads
  // stashing into a memory store at once did 0.34 M stashes/s without grouping, 0.16 M/s with.
  state->group_writes = !temporary && !options.read_only &&
                        (options.durability == Durability::SyncEveryCommit ||
                         options.durability == Durability::SyncEveryCommitButLast);

  std::error_code ec;
  if (options.read_only) {
    if (options.expiry_sweep_interval.count() > 0) {
      return Error(ErrorKind::InvalidArgument,
                   where + ": StoreOptions::read_only and expiry_sweep_interval: the sweep writes");
    }
    if (!std::filesystem::is_regular_file(state->path / "data.mdb", ec)) {
      return Error(ErrorKind::NotFound, where +
                                            ": no store here (no data.mdb), and a read-only "
                                            "open creates nothing");
    }
    flags |= MDB_RDONLY;
  } else {
    std::filesystem::create_directories(state->path, ec);
  }
  if (ec || !std::filesystem::is_directory(state->path, ec)) {
    return Error(ErrorKind::Io,
                 where + ": cannot create the store directory" + (ec ? ": " + ec.message() : ""));
  }
  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc != 0) return lmdb::error(rc, where);
  state->env = lmdb::Env(env);
  rc = mdb_env_set_mapsize(env, options.map_size);
  // Trees (four databases each), indexes (index.h), and "$meta".
  if (rc == 0) {
    rc = mdb_env_set_maxdbs(env, options.max_trees * kDatabasesPerTree + options.max_indexes + 1);
  }
  if (rc != 0) return lmdb::error(rc, where);
  rc = mdb_env_open(env, state->path.c_str(), flags | MDB_NOTLS, 0644);
  if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) {
    return lmdb::error(rc, (state->path / "data.mdb").string());
  }
  if (rc != 0) return lmdb::error(rc, where);
  state->max_key_size = static_cast<size_t>(mdb_env_get_maxkeysize(env));
  Status meta = check_meta(*state);
  if (!meta.ok()) return std::move(meta).error();
  Status indexes = detail::load_indexes(*state);
  if (!indexes.ok()) return std::move(indexes).error();
  if (!temporary && !options.read_only) state->syncer.start(env, options, where);  // durability.h
  if (options.expiry_sweep_interval.count() > 0) {
    state->sweeper.start(state.get(), options.expiry_sweep_interval);  // expiry_sweeper.h
  }
  return detail::Access::store(std::move(state));
}

}  // namespace

Result<Store> Store::open(const std::filesystem::path& path, const StoreOptions& options) {
  auto flags = detail::durability_flags(options, path.string());  // durability.h
  if (!flags.ok()) return std::move(flags).error();
  return open_env(path, options, *flags, /*temporary=*/false);
}

Result<Store> Store::open_memory(const StoreOptions& options) {
  if (options.read_only) {
    return Error(
        ErrorKind::InvalidArgument,
        "open_memory(): StoreOptions::read_only (a new, empty store could never be written)");
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/wasm-sandbox-store-XXXXXX";
  if (!mkdtemp(pattern.data())) {
    return Error(ErrorKind::Io, pattern + ": cannot create a temporary directory: " +
                                    std::generic_category().message(errno));
  }
  auto store = open_env(pattern, options, MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP,
                        /*temporary=*/true);
  if (!store.ok()) {
    std::error_code ignored;
    std::filesystem::remove_all(pattern, ignored);
  }
  return store;
}

Result<Tree> Store::tree(std::string_view name) {
  if (auto bad = names::check_tree_name(name)) return std::move(*bad);
  std::string key(name);
  std::lock_guard lock(state_->trees_mutex);
  auto found = state_->trees.find(key);
  if (found != state_->trees.end()) return detail::Access::tree(state_, found->second.get());
  if (Status busy = detail::check_not_notifying(*state_); !busy.ok()) {
    return std::move(busy).error();
  }
  const std::string where = state_->path.string() + ": tree `" + key + "`";
  // Counted here, not by LMDB: index databases share LMDB's table (StoreOptions::max_indexes).
  if (state_->trees.size() >= state_->options.max_trees) {
    return Error(ErrorKind::LimitExceeded, where + ": the store holds StoreOptions::max_trees (" +
                                               std::to_string(state_->options.max_trees) +
                                               ") trees already");
  }
  // Read-only: found, never created (a read transaction's handles stay open once it commits).
  const bool read_only = state_->options.read_only;
  const unsigned create = read_only ? 0 : MDB_CREATE;
  auto txn = lmdb::Txn::begin(state_->env.get(), read_only);
  if (!txn.ok()) return std::move(txn).error().with_context(where);
  auto info = std::make_unique<detail::TreeInfo>();
  info->name = key;
  int rc = mdb_dbi_open(txn->get(), key.c_str(), create, &info->live);
  if (rc == 0) rc = mdb_dbi_open(txn->get(), (key + "$dead").c_str(), create, &info->dead);
  if (rc == 0) rc = mdb_dbi_open(txn->get(), (key + "$feed").c_str(), create, &info->feed);
  if (rc == 0) rc = mdb_dbi_open(txn->get(), (key + "$expiry").c_str(), create, &info->expiry);
  if (rc == MDB_NOTFOUND && read_only) {
    return Error(ErrorKind::NotFound, where + ": no such tree (a read-only open creates none)");
  }
  if (rc == MDB_DBS_FULL) {
    return Error(ErrorKind::LimitExceeded, where + ": the store holds StoreOptions::max_trees (" +
                                               std::to_string(state_->options.max_trees) +
                                               ") trees already");
  }
  if (rc != 0) return lmdb::error(rc, where);
  auto last = detail::read_last_seq(txn->get(), *info);
  if (!last.ok()) return std::move(last).error().with_context(state_->path.string());
  info->last_seq = *last;
  info->last_seq_txnid = mdb_txn_id(txn->get());
  Status committed = txn->commit();
  if (!committed.ok()) return std::move(committed).error().with_context(where);
  state_->readers.reset_idle();  // idle readers must not pin the old snapshot (reader_pool.h)
  detail::TreeInfo* tree = info.get();
  state_->trees.emplace(key, std::move(info));
  return detail::Access::tree(state_, tree);
}

Result<std::vector<std::string>> Store::trees() const {
  // The main database lists every named database: the trees, and their `$...` companions and
  // `$meta`, which a tree name cannot spell.
  return detail::with_read(*state_, [&](const ReadTxn& txn) -> Result<std::vector<std::string>> {
    const std::string where = state_->path.string() + ": listing trees";
    MDB_txn* raw = detail::Access::txn(txn);
    MDB_dbi main;
    int rc = mdb_dbi_open(raw, nullptr, 0, &main);
    if (rc != 0) return lmdb::error(rc, where);
    std::vector<std::string> names;
    rc = lmdb::for_each(raw, main, [&](const MDB_val& key, const MDB_val&) {
      const std::string_view name = lmdb::view(key);
      if (name.find('$') == std::string_view::npos) names.emplace_back(name);
      return true;
    });
    if (rc != 0) return lmdb::error(rc, where);
    return names;
  });
}

Result<uint64_t> Store::purge_expired() {
  std::vector<Tree> trees;
  {
    std::lock_guard lock(state_->trees_mutex);
    for (auto& [name, info] : state_->trees) {
      trees.push_back(detail::Access::tree(state_, info.get()));
    }
  }
  uint64_t purged = 0;
  for (const Tree& tree : trees) {
    auto done = tree.purge_expired();
    if (!done.ok()) return std::move(done).error();
    purged += *done;
  }
  return purged;
}

Status Store::write(const std::function<Status(WriteTxn&)>& fn) {
  return detail::with_write(*state_, fn);
}

Status Store::read(const std::function<void(const ReadTxn&)>& fn) const {
  return detail::with_read(*state_, [&](const ReadTxn& txn) -> Status {
    fn(txn);
    return {};
  });
}

Status Store::batch(const std::function<void(Batch&)>& fn) {
  return detail::with_write(*state_, [&](WriteTxn& txn) -> Status {
    Batch batch = detail::Access::batch(txn);
    fn(batch);
    return batch.status();
  });
}

const std::filesystem::path& Store::path() const { return state_->path; }

const std::string& Store::id() const { return state_->id; }

}  // namespace wasm_sandbox::store
