// Helpers shared by the store tests: a fresh directory per test, removed afterwards.
#pragma once

#include <gtest/gtest.h>
#include <lmdb.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store::testing {

// Writes one record straight into LMDB database `db` (nullptr: the main one) of the closed
// environment in `dir`, bypassing the store: for corruption tests.
inline void raw_put(const std::filesystem::path& dir, const char* db, std::string_view key,
                    std::string_view value) {
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), 0);
  ASSERT_EQ(mdb_env_set_maxdbs(env, 8), 0);
  ASSERT_EQ(mdb_env_open(env, dir.c_str(), 0, 0644), 0);
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  MDB_dbi dbi;
  ASSERT_EQ(mdb_dbi_open(txn, db, MDB_CREATE, &dbi), 0);
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  MDB_val v{value.size(), const_cast<char*>(value.data())};
  ASSERT_EQ(mdb_put(txn, dbi, &k, &v, 0), 0);
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
}

// Now, in ns since the Unix epoch (the clock nut timestamps come from).
inline uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// A change as a peer would send it (squabble(), sync).
inline Change make_change(std::string id, uint64_t version, uint64_t timestamp,
                          nlohmann::json payload, bool deleted = false) {
  Change c;
  c.nut.id = std::move(id);
  c.nut.version = version;
  c.nut.timestamp_ns = timestamp;
  c.nut.payload = std::move(payload);
  c.deleted = deleted;
  return c;
}

class StoreDir : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "-" + info->name();
    // Parameterized tests are named "Prefix/Suite.Test/Param": one directory, not a nest.
    for (char& c : name) c = c == '/' ? '_' : c;
    dir_ = std::filesystem::temp_directory_path() /
           ("ws-store-test-" + std::to_string(getpid()) + "-" + name);
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Store open(const StoreOptions& options = {}) {
    auto store = Store::open(dir_, options);
    if (!store.ok()) ADD_FAILURE() << store.error().message();
    return std::move(store).value();
  }
  static Tree tree(Store& store, std::string_view name) {
    auto tree = store.tree(name);
    if (!tree.ok()) ADD_FAILURE() << tree.error().message();
    return std::move(tree).value();
  }

  std::filesystem::path dir_;
};

// A store in the test's directory and one tree of it, for fixtures that work on one tree.
class OneTree : public StoreDir {
 protected:
  // Opens the store with `options` and its tree `name` (call from SetUp, after
  // StoreDir::SetUp()).
  void open_tree(std::string_view name = "t", const StoreOptions& options = {}) {
    store_ = open(options);
    t_.emplace(tree(*store_, name));
  }
  std::optional<Store> store_;
  std::optional<Tree> t_;
};

}  // namespace wasm_sandbox::store::testing
