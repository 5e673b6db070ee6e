// Batches and transactions: all or nothing, snapshot isolation, threads.
#include <atomic>
#include <thread>
#include <vector>

#include "store/store_test_util.h"

namespace wasm_sandbox::store {
namespace {

using testing::StoreDir;
using StoreBatch = StoreDir;
using json = nlohmann::json;

TEST_F(StoreBatch, BatchCommitsEveryOperation) {
  Store store = open();
  Tree t = tree(store, "t");
  ASSERT_TRUE(t.stash("old", 0).ok());
  Status status = store.batch([&](Batch& b) {
    for (int i = 0; i < 100; ++i) b.stash(t, "k" + std::to_string(i), {{"i", i}});
    b.stash(t, json{{"id", "from-doc"}});
    b.toss(t, "old");
  });
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(*t.count(), 101u);
  EXPECT_FALSE(*t.exists("old"));
  EXPECT_EQ(t.crack("k42")->payload["i"], 42);
}

TEST_F(StoreBatch, AFailingOperationMidwayLeavesNothing) {
  Store store = open();
  Tree t = tree(store, "t");
  Tree u = tree(store, "u");
  ASSERT_TRUE(t.stash("keep", {{"v", 1}}).ok());
  int after_failure = 0;
  Status status = store.batch([&](Batch& b) {
    b.stash(t, "new1", 1);
    b.stash(t, "keep", {{"v", 2}});
    b.stash(u, "other-tree", 1);
    b.toss(t, "missing");  // fails: NotFound
    after_failure = b.status().ok() ? 0 : 1;
    b.stash(t, "new2", 2);  // skipped
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::NotFound);
  EXPECT_NE(status.error().message().find("missing"), std::string::npos);
  EXPECT_EQ(after_failure, 1);
  EXPECT_EQ(*t.count(), 1u);
  EXPECT_EQ(*u.count(), 0u);
  auto keep = t.crack("keep");
  EXPECT_EQ(keep->payload["v"], 1);
  EXPECT_EQ(keep->version, 1u);
}

TEST_F(StoreBatch, MalformedJsonInABatchAbortsIt) {
  Store store = open();
  Tree t = tree(store, "t");
  Status status = store.batch([&](Batch& b) {
    b.stash_text(t, "good", R"({"a": 1})");
    b.stash_text(t, "bad", R"({"a": )");
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_FALSE(*t.exists("good"));
}

TEST_F(StoreBatch, WriteCommitsOnSuccessAndAbortsOnError) {
  Store store = open();
  Tree t = tree(store, "t");
  Status ok = store.write([&](WriteTxn& txn) -> Status {
    if (auto v = txn.stash(t, "a", 1); !v.ok()) return std::move(v).error();
    // The transaction reads its own writes.
    auto nut = txn.crack(t, "a");
    EXPECT_TRUE(nut.ok());
    EXPECT_EQ(*txn.count(t), 1u);
    return {};
  });
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(*t.exists("a"));

  Status failed = store.write([&](WriteTxn& txn) -> Status {
    EXPECT_TRUE(txn.stash(t, "b", 1).ok());
    EXPECT_TRUE(txn.toss(t, "a").ok());
    return Error(ErrorKind::Internal, "changed my mind");
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message(), "changed my mind");
  EXPECT_TRUE(*t.exists("a"));
  EXPECT_FALSE(*t.exists("b"));
}

TEST_F(StoreBatch, AReadSnapshotDoesNotSeeLaterWrites) {
  Store store = open();
  Tree t = tree(store, "t");
  ASSERT_TRUE(t.stash("a", 1).ok());
  Status status = store.read([&](const ReadTxn& snapshot) {
    // Commits from another thread while the snapshot is open (a write on this thread would be
    // fine too: LMDB readers never block writers).
    std::thread writer([&] {
      EXPECT_TRUE(t.stash("a", 2).ok());
      EXPECT_TRUE(t.stash("b", 1).ok());
    });
    writer.join();
    EXPECT_EQ(snapshot.crack(t, "a")->payload, 1);
    EXPECT_FALSE(*snapshot.exists(t, "b"));
    EXPECT_EQ(*snapshot.count(t), 1u);
    int seen = 0;
    EXPECT_TRUE(snapshot.scan(t, {}, [&](Nut&) { return ++seen, true; }).ok());
    EXPECT_EQ(seen, 1);
  });
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(t.crack("a")->payload, 2);
  EXPECT_EQ(*t.count(), 2u);
}

TEST_F(StoreBatch, ConcurrentWritersAndReaders) {
  StoreOptions options;
  // 1,600 commits: the test is about locking, not the disk.
  options.durability = Durability::NoSync;
  Store store = open(options);
  Tree t = tree(store, "t");
  constexpr int kThreads = 4, kPerThread = 200;
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!t.stash("counter", w).ok()) failed = true;
        if (!t.stash("w" + std::to_string(w) + "-" + std::to_string(i), i).ok()) failed = true;
        if (!t.crack("counter").ok()) failed = true;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_FALSE(failed);
  EXPECT_EQ(t.crack("counter")->version, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(*t.count(), uint64_t{kThreads * kPerThread + 1});
}

TEST_F(StoreBatch, AFullMapIsALimitAndLeavesTheStoreUsable) {
  StoreOptions options;
  options.map_size = 256 * 1024;
  Store store = open(options);
  Tree t = tree(store, "t");
  ASSERT_TRUE(t.stash("small", 1).ok());
  Status status = store.batch([&](Batch& b) {
    for (int i = 0; i < 1000; ++i) b.stash(t, "k" + std::to_string(i), std::string(1000, 'x'));
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::LimitExceeded) << status.error().message();
  EXPECT_EQ(*t.count(), 1u);
  EXPECT_TRUE(t.stash("small", 2).ok());
}

TEST_F(StoreBatch, ATreeCreatedAfterASnapshotBeganIsAnErrorInIt) {
  Store store = open();
  Tree old_tree = tree(store, "old");
  ASSERT_TRUE(old_tree.stash("k", 1).ok());
  Status status = store.read([&](const ReadTxn& snapshot) {
    Tree young = tree(store, "young");  // created (committed) while the snapshot is open
    ASSERT_TRUE(young.stash("k", 1).ok());
    auto nut = snapshot.crack(young, "k");
    ASSERT_FALSE(nut.ok());
    EXPECT_EQ(nut.error().kind(), ErrorKind::NotFound) << nut.error().message();
    EXPECT_NE(nut.error().message().find("tree `young` did not exist"), std::string::npos)
        << nut.error().message();
    EXPECT_FALSE(snapshot.count(young).ok());
    EXPECT_FALSE(snapshot.scan(young, {}, [](Nut&) { return true; }).ok());
    EXPECT_EQ(snapshot.crack(old_tree, "k")->payload, 1);
  });
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(tree(store, "young").crack("k")->payload, 1);
}

}  // namespace
}  // namespace wasm_sandbox::store
