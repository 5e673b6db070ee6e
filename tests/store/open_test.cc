// Opening stores: persistence across reopen, memory stores, foreign and corrupt files.
#include <lmdb.h>

#include <fstream>

#include "store/store_test_util.h"

namespace wasm_sandbox::store {
namespace {

using testing::raw_put;
using testing::StoreDir;
using StoreOpen = StoreDir;

TEST_F(StoreOpen, CreatesTheDirectoryAndPersistsAcrossReopen) {
  {
    Store store = open();
    EXPECT_EQ(store.path(), dir_);
    Tree users = tree(store, "users");
    ASSERT_TRUE(users.stash("alice", {{"age", 31}}).ok());
  }
  EXPECT_TRUE(std::filesystem::exists(dir_ / "data.mdb"));
  Store store = open();
  Tree users = tree(store, "users");
  auto nut = users.crack("alice");
  ASSERT_TRUE(nut.ok()) << nut.error().message();
  EXPECT_EQ(nut->payload["age"], 31);
  EXPECT_EQ(*users.count(), 1u);
}

TEST_F(StoreOpen, TreesAreSeparate) {
  Store store = open();
  Tree a = tree(store, "a");
  Tree b = tree(store, "b");
  ASSERT_TRUE(a.stash("x", 1).ok());
  EXPECT_TRUE(*a.exists("x"));
  EXPECT_FALSE(*b.exists("x"));
  EXPECT_EQ(*b.count(), 0u);
}

TEST_F(StoreOpen, TreeNamesAreValidated) {
  Store store = open();
  for (std::string bad : {std::string(), std::string("$meta"), std::string("a/b"),
                          std::string("_x"), std::string(65, 'n'), std::string("sp ace")}) {
    auto tree = store.tree(bad);
    ASSERT_FALSE(tree.ok()) << bad;
    EXPECT_EQ(tree.error().kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(tree.error().message().find("tree name"), std::string::npos);
  }
  EXPECT_TRUE(store.tree("Users-2.v_1").ok());
  EXPECT_TRUE(store.tree(std::string(64, 'n')).ok());
}

TEST_F(StoreOpen, TreesAreListedAfterReopeningWithoutTheirCompanions) {
  {
    Store store = open();
    tree(store, "zeta");
    Tree alpha = tree(store, "alpha");
    ASSERT_TRUE(alpha.create_index("age").ok());
    ASSERT_TRUE(alpha.stash("k", {{"age", 1}}).ok());
  }
  Store store = open();
  EXPECT_EQ(*store.trees(), (std::vector<std::string>{"alpha", "zeta"}));
}

TEST_F(StoreOpen, TooManyTreesIsALimit) {
  StoreOptions options;
  options.max_trees = 2;
  Store store = open(options);
  ASSERT_TRUE(store.tree("one").ok());
  ASSERT_TRUE(store.tree("two").ok());
  auto third = store.tree("three");
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().kind(), ErrorKind::LimitExceeded);
  EXPECT_NE(third.error().message().find("three"), std::string::npos);
}

TEST_F(StoreOpen, GarbageDataFileIsRefusedNamingThePath) {
  std::filesystem::create_directories(dir_);
  {
    std::ofstream out(dir_ / "data.mdb", std::ios::binary);
    std::string garbage(64 * 1024, '\0');
    for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 7 + 3);
    out << garbage;
  }
  auto store = Store::open(dir_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind(), ErrorKind::InvalidArgument) << store.error().message();
  EXPECT_NE(store.error().message().find((dir_ / "data.mdb").string() + ": not an LMDB file"),
            std::string::npos)
      << store.error().message();
}

TEST_F(StoreOpen, ShortGarbageDataFileIsRefused) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "data.mdb", std::ios::binary) << "this is not a database";
  auto store = Store::open(dir_);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message().find(dir_.string()), std::string::npos)
      << store.error().message();
}

TEST_F(StoreOpen, ForeignLmdbEnvironmentIsRefused) {
  // An LMDB environment some other program wrote: records in its main database, no "$meta".
  std::filesystem::create_directories(dir_);
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), 0);
  ASSERT_EQ(mdb_env_open(env, dir_.c_str(), 0, 0644), 0);
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  MDB_dbi dbi;
  ASSERT_EQ(mdb_dbi_open(txn, nullptr, 0, &dbi), 0);
  MDB_val key{3, const_cast<char*>("foo")}, value{3, const_cast<char*>("bar")};
  ASSERT_EQ(mdb_put(txn, dbi, &key, &value, 0), 0);
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);

  auto store = Store::open(dir_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_NE(store.error().message().find("not a wasm-sandbox store"), std::string::npos)
      << store.error().message();
  EXPECT_NE(store.error().message().find(dir_.string()), std::string::npos);
}

TEST_F(StoreOpen, AnotherFormatVersionIsRefused) {
  { open(); }
  raw_put(dir_, "$meta", "format", std::string("\x01\0\0\0", 4));
  auto store = Store::open(dir_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_EQ(store.error().message(), dir_.string() + ": store format 1, this build reads format 2");
}

TEST_F(StoreOpen, AFileWhereTheDirectoryShouldBeIsAnIoError) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "plain") << "x";
  auto store = Store::open(dir_ / "plain");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind(), ErrorKind::Io);
  EXPECT_NE(store.error().message().find((dir_ / "plain").string()), std::string::npos);
}

TEST(StoreMemory, WorksAndDeletesItsDirectoryOnClose) {
  std::filesystem::path path;
  {
    auto store = Store::open_memory();
    ASSERT_TRUE(store.ok()) << store.error().message();
    path = store->path();
    EXPECT_TRUE(std::filesystem::is_directory(path));
    auto tree = store->tree("t");
    ASSERT_TRUE(tree.ok());
    ASSERT_TRUE(tree->stash("k", {{"v", 1}}).ok());
    EXPECT_EQ(tree->crack("k")->payload["v"], 1);
    // A Tree keeps the store open after the Store handle is gone.
    Tree kept = *tree;
    store = Error(ErrorKind::Internal, "dropped");
    EXPECT_TRUE(std::filesystem::is_directory(path));
    EXPECT_EQ(*kept.count(), 1u);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(StoreMemory, TwoMemoryStoresAreIndependent) {
  auto one = Store::open_memory();
  auto two = Store::open_memory();
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_NE(one->path(), two->path());
  ASSERT_TRUE(one->tree("t")->stash("k", 1).ok());
  EXPECT_FALSE(*two->tree("t")->exists("k"));
}

// StoreOptions::read_only: reads work, every write is refused naming the path, nothing of the
// store changes, and nothing is created.
TEST_F(StoreOpen, AReadOnlyStoreReadsAndRefusesEveryWrite) {
  {
    Store store = open();
    Tree t = tree(store, "t");
    ASSERT_TRUE(t.stash("a", nlohmann::json{{"v", 1}}).ok());
    ASSERT_TRUE(t.stash("b", nlohmann::json{{"v", 2}}).ok());
    ASSERT_TRUE(t.toss("b").ok());
    ASSERT_TRUE(t.create_index("v").ok());
  }
  {
    StoreOptions options;
    options.read_only = true;
    Store store = open(options);
    Tree t = tree(store, "t");
    EXPECT_EQ(t.crack("a")->payload, (nlohmann::json{{"v", 1}}));
    EXPECT_EQ(*t.count(), 1u);
    EXPECT_EQ(t.changes(0)->size(), 2u);
    EXPECT_EQ(t.query(Query().where("v", Op::Eq, 1))->size(), 1u);
    EXPECT_EQ(t.explain(Query().where("v", Op::Eq, 1))->index, "v");
    EXPECT_EQ(*store.trees(), std::vector<std::string>{"t"});

    auto refused = [&](const Status& status, const char* what) {
      ASSERT_FALSE(status.ok()) << what;
      EXPECT_EQ(status.error().kind(), ErrorKind::InvalidArgument) << what;
      EXPECT_NE(status.error().message().find(dir_.string()), std::string::npos)
          << what << ": " << status.error().message();
      EXPECT_NE(status.error().message().find("opened read-only"), std::string::npos)
          << what << ": " << status.error().message();
    };
    auto status = [](const auto& result) -> Status {
      if (result.ok()) return {};
      return result.error();
    };
    refused(status(t.stash("a", 2)), "stash");
    refused(status(t.stash_text("c", "{}")), "stash_text");
    refused(t.toss("a"), "toss");
    refused(store.write([&](WriteTxn& txn) { return status(txn.stash(t, "d", 4)); }), "write");
    refused(store.batch([&](Batch& batch) { batch.stash(t, "e", 5); }), "batch");
    refused(status(t.squabble(testing::make_change("f", 1, 1, 6), judges::version())), "squabble");
    refused(status(t.purge_expired()), "purge_expired");
    refused(status(t.purge_tombstones(UINT64_MAX)), "purge_tombstones");
    refused(t.create_index("w"), "create_index");
    refused(t.drop_index("v"), "drop_index");

    auto missing = store.tree("other");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().kind(), ErrorKind::NotFound);
    EXPECT_NE(missing.error().message().find("tree `other`: no such tree"), std::string::npos)
        << missing.error().message();
    EXPECT_TRUE(store.flush().ok());  // nothing to flush
  }

  // Reopened for writing: as it was.
  Store writable = open();
  Tree again = tree(writable, "t");
  EXPECT_EQ(again.crack("a")->version, 1u);
  EXPECT_EQ(*again.last_seq(), 3u);
  EXPECT_EQ(*writable.trees(), std::vector<std::string>{"t"});
}

TEST_F(StoreOpen, AReadOnlyOpenCreatesNothing) {
  StoreOptions options;
  options.read_only = true;
  auto store = Store::open(dir_, options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind(), ErrorKind::NotFound);
  EXPECT_NE(store.error().message().find(dir_.string() + ": no store here"), std::string::npos)
      << store.error().message();
  EXPECT_FALSE(std::filesystem::exists(dir_));

  options.expiry_sweep_interval = std::chrono::milliseconds(10);
  { Store made = open(); }
  auto swept = Store::open(dir_, options);
  ASSERT_FALSE(swept.ok());
  EXPECT_EQ(swept.error().kind(), ErrorKind::InvalidArgument);
  auto memory = Store::open_memory(StoreOptions{.read_only = true});
  ASSERT_FALSE(memory.ok());
  EXPECT_EQ(memory.error().kind(), ErrorKind::InvalidArgument);
}

}  // namespace
}  // namespace wasm_sandbox::store
