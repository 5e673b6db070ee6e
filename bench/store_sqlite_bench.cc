// The store's workload (store_workload.h) on SQLite 3 with its JSON functions, beside
// store_bench.cc: sqlite/X measures what store/X does, with prepared statements throughout.
//
// The table is clustered on the id like an LMDB tree (WITHOUT ROWID: one B-tree, no rowid
// index beside it), the document is JSON text:
//   CREATE TABLE nuts(id TEXT PRIMARY KEY, doc TEXT NOT NULL, version INTEGER NOT NULL,
//                     ts INTEGER NOT NULL) WITHOUT ROWID
// A stash is an upsert that bumps the version, as the store's does. The in-memory pair of
// Store::open_memory() (an LMDB file in /tmp, never fsynced, in the page cache) is a file in
// /tmp with journal_mode=WAL and synchronous=OFF: committed atomically, never fsynced
// (sqlite/stash_memory); ":memory:" (no file at all) is measured beside it for reference. The
// durable pair is journal_mode=WAL, synchronous=FULL: an fsync per commit, like the store's.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "store_workload.h"

namespace {

using namespace store_bench;

uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// One SQLite connection and the statements of the workload; the database file (if any) is
// removed on destruction. Failures end the benchmark with SQLite's message.
class Db {
 public:
  // `path` empty: ":memory:". `sync`: synchronous=FULL, else OFF.
  Db(benchmark::State& state, const std::filesystem::path& path, bool sync)
      : state_(state), path_(path) {
    if (!path_.empty()) remove_files();
    check(sqlite3_open(path_.empty() ? ":memory:" : path_.c_str(), &db_), "open");
    exec(path_.empty() ? "PRAGMA journal_mode=MEMORY" : "PRAGMA journal_mode=WAL");
    exec(sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF");
    exec(
        "CREATE TABLE nuts(id TEXT PRIMARY KEY, doc TEXT NOT NULL, version INTEGER NOT NULL, "
        "ts INTEGER NOT NULL) WITHOUT ROWID");
    upsert_ = prepare(
        "INSERT INTO nuts(id, doc, version, ts) VALUES(?1, ?2, 1, ?3) ON CONFLICT(id) DO UPDATE "
        "SET doc = excluded.doc, version = version + 1, ts = excluded.ts");
    get_ = prepare("SELECT doc, version, ts FROM nuts WHERE id = ?1");
    begin_ = prepare("BEGIN");
    commit_ = prepare("COMMIT");
  }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db() {
    for (sqlite3_stmt* stmt : {upsert_, get_, begin_, commit_}) sqlite3_finalize(stmt);
    sqlite3_close(db_);
    if (!path_.empty()) remove_files();
  }

  sqlite3* get() { return db_; }
  void exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      state_.SkipWithError((std::string(sql) + ": " + (message ? message : "?")).c_str());
    }
    sqlite3_free(message);
  }
  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    check(sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr), sql);
    return stmt;
  }
  void check(int rc, const char* what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
      state_.SkipWithError((std::string(what) + ": " + sqlite3_errmsg(db_)).c_str());
    }
  }
  void step(sqlite3_stmt* stmt, const char* what) {
    check(sqlite3_step(stmt), what);
    sqlite3_reset(stmt);
  }

  void begin() { step(begin_, "BEGIN"); }
  void commit() { step(commit_, "COMMIT"); }
  // The stash: the document's JSON text under `key`, version + 1.
  void stash(const std::string& key, const json& doc) {
    const std::string text = doc.dump();
    sqlite3_bind_text(upsert_, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_text(upsert_, 2, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    sqlite3_bind_int64(upsert_, 3, static_cast<sqlite3_int64>(now_ns()));
    step(upsert_, "upsert");
  }
  // The crack: the document's text, copied out, and its version.
  bool crack(const std::string& key, std::string* doc, uint64_t* version) {
    sqlite3_bind_text(get_, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    const bool found = sqlite3_step(get_) == SQLITE_ROW;
    if (found) {
      doc->assign(reinterpret_cast<const char*>(sqlite3_column_text(get_, 0)),
                  static_cast<size_t>(sqlite3_column_bytes(get_, 0)));
      *version = static_cast<uint64_t>(sqlite3_column_int64(get_, 1));
    }
    sqlite3_reset(get_);
    return found;
  }
  void fill() {
    begin();
    for (uint64_t i = 0; i < kCount; ++i) stash(id(i), document(i));
    commit();
  }

 private:
  void remove_files() {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(path_.string() + suffix);
    }
  }

  benchmark::State& state_;
  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* upsert_ = nullptr;
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
};

std::filesystem::path db_file(const char* what) {
  return std::filesystem::temp_directory_path() /
         ("ws-sqlite-bench-" + std::string(what) + "-" + std::to_string(getpid()) + ".db");
}

// One upsert per (autocommit) transaction. range(0): 1 = a file in /tmp, 0 = ":memory:".
void stash_memory(benchmark::State& state) {
  Db db(state, state.range(0) ? db_file("memory") : std::filesystem::path(), /*sync=*/false);
  json doc = document(0);
  uint64_t i = 0;
  for (auto _ : state) {
    doc["visits"] = i;
    db.stash(id(i++ % 100000), doc);
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK(stash_memory)->Name("sqlite/stash_memory")->Arg(1)->ArgName("tmpfile");
BENCHMARK(stash_memory)->Name("sqlite/stash_memory")->Arg(0)->ArgName("in_memory_db");

void stash_durable_batch_1000(benchmark::State& state) {
  Db db(state, db_file("durable"), /*sync=*/true);
  json doc = document(0);
  uint64_t i = 0;
  for (auto _ : state) {
    db.begin();
    for (int n = 0; n < 1000; ++n) {
      doc["visits"] = i;
      db.stash(id(i++ % 100000), doc);
    }
    db.commit();
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK(stash_durable_batch_1000)->Name("sqlite/stash_durable_batch_1000")->UseRealTime();

// The document as text (pairs with store/crack_text), each read its own transaction.
void crack(benchmark::State& state) {
  Db db(state, db_file("crack"), /*sync=*/false);
  db.fill();
  const auto ids = read_order();
  uint64_t i = 0, version = 0;
  for (auto _ : state) {
    std::string doc;
    if (!db.crack(ids[i++ % kCount], &doc, &version)) state.SkipWithError("missing row");
    benchmark::DoNotOptimize(doc);
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK(crack)->Name("sqlite/crack_text");

// The document parsed into an nlohmann::json (pairs with store/crack).
void crack_json(benchmark::State& state) {
  Db db(state, db_file("crack-json"), /*sync=*/false);
  db.fill();
  const auto ids = read_order();
  uint64_t i = 0, version = 0;
  std::string doc;
  for (auto _ : state) {
    if (!db.crack(ids[i++ % kCount], &doc, &version)) state.SkipWithError("missing row");
    json value = json::parse(doc, nullptr, false);
    benchmark::DoNotOptimize(value);
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK(crack_json)->Name("sqlite/crack");

// kAgeFrom <= age < kAgeTo through an expression index: 100 of the 10k documents, as text.
void query_age(benchmark::State& state) {
  Db db(state, db_file("query"), /*sync=*/false);
  db.fill();
  db.exec("CREATE INDEX nuts_age ON nuts(json_extract(doc, '$.age'))");
  sqlite3_stmt* query = db.prepare(
      "SELECT id, doc FROM nuts WHERE json_extract(doc, '$.age') >= ?1 AND "
      "json_extract(doc, '$.age') < ?2");
  size_t found = 0;
  for (auto _ : state) {
    std::vector<std::string> docs;
    sqlite3_bind_int64(query, 1, kAgeFrom);
    sqlite3_bind_int64(query, 2, kAgeTo);
    while (sqlite3_step(query) == SQLITE_ROW) {
      docs.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(query, 1)),
                        static_cast<size_t>(sqlite3_column_bytes(query, 1)));
    }
    sqlite3_reset(query);
    found = docs.size();
  }
  sqlite3_finalize(query);
  state.counters["found"] = static_cast<double>(found);
}
BENCHMARK(query_age)->Name("sqlite/query_age");

// Every row in id order, the document's text copied into one reused buffer (pairs with
// store/scan_10k_text).
void scan_text(benchmark::State& state) {
  Db db(state, db_file("scan"), /*sync=*/false);
  db.fill();
  sqlite3_stmt* scan = db.prepare("SELECT id, doc, version, ts FROM nuts ORDER BY id");
  std::string text;
  for (auto _ : state) {
    uint64_t bytes = 0;
    while (sqlite3_step(scan) == SQLITE_ROW) {
      text.assign(reinterpret_cast<const char*>(sqlite3_column_text(scan, 1)),
                  static_cast<size_t>(sqlite3_column_bytes(scan, 1)));
      bytes += text.size();
    }
    sqlite3_reset(scan);
    benchmark::DoNotOptimize(bytes);
  }
  sqlite3_finalize(scan);
  state.SetItemsProcessed(state.iterations() * kCount);
}
BENCHMARK(scan_text)->Name("sqlite/scan_10k_text");

// What kCount documents cost beyond their JSON text: page_count * page_size of the database
// file after a checkpoint, minus the documents' text; filled like store/space_10k (batches of
// range(0)). Without the age index (the store has none either).
void space(benchmark::State& state) {
  const uint64_t per_txn = static_cast<uint64_t>(state.range(0));
  uint64_t data = 0;
  for (uint64_t i = 0; i < kCount; ++i) data += document(i).dump().size();
  for (auto _ : state) {
    Db db(state, db_file("space"), /*sync=*/false);
    for (uint64_t i = 0; i < kCount; i += per_txn) {
      db.begin();
      for (uint64_t j = i; j < i + per_txn && j < kCount; ++j) db.stash(id(j), document(j));
      db.commit();
    }
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_stmt* pages = db.prepare(
        "SELECT page_count * page_size FROM pragma_page_count(), "
        "pragma_page_size()");
    double used = 0;
    if (sqlite3_step(pages) == SQLITE_ROW)
      used = static_cast<double>(sqlite3_column_int64(pages, 0));
    sqlite3_finalize(pages);
    state.counters["data_MB"] = static_cast<double>(data) / 1e6;
    state.counters["used_MB"] = used / 1e6;
    state.counters["overhead_MB"] = (used - static_cast<double>(data)) / 1e6;
  }
}
BENCHMARK(space)
    ->Name("sqlite/space_10k")
    ->Arg(1000)
    ->Arg(1)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
