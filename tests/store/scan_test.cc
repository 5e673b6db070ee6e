// Scans: all, prefix, range, limit, early stop, id order.
#include <thread>
#include <vector>

#include "store/store_test_util.h"

namespace wasm_sandbox::store {
namespace {

using testing::StoreDir;
using StoreScan = StoreDir;

class StoreScanFixture : public testing::OneTree {
 protected:
  void SetUp() override {
    StoreDir::SetUp();
    open_tree();
    // Stashed out of order: scans return id order.
    for (const char* id : {"user:3", "item:1", "user:1", "user:10", "user:2", "usex", "a", "z"}) {
      ASSERT_TRUE(t_->stash(id, {{"id", id}}).ok());
    }
  }
  std::vector<std::string> ids(const ScanOptions& options) {
    std::vector<std::string> out;
    Status status = t_->scan(options, [&](Nut& nut) {
      EXPECT_EQ(nut.payload["id"], nut.id);
      EXPECT_EQ(nut.version, 1u);
      out.push_back(nut.id);
      return true;
    });
    EXPECT_TRUE(status.ok());
    return out;
  }
};

using Ids = std::vector<std::string>;

TEST_F(StoreScanFixture, AllInIdOrder) {
  EXPECT_EQ(ids({}), (Ids{"a", "item:1", "user:1", "user:10", "user:2", "user:3", "usex", "z"}));
}

TEST_F(StoreScanFixture, Prefix) {
  EXPECT_EQ(ids({.prefix = "user:"}), (Ids{"user:1", "user:10", "user:2", "user:3"}));
  EXPECT_EQ(ids({.prefix = "user:1"}), (Ids{"user:1", "user:10"}));
  EXPECT_EQ(ids({.prefix = "nothing"}), Ids{});
  EXPECT_EQ(ids({.prefix = "zz"}), Ids{});
}

TEST_F(StoreScanFixture, HalfOpenRange) {
  EXPECT_EQ(ids({.from = "item:1", .to = "user:2"}), (Ids{"item:1", "user:1", "user:10"}));
  EXPECT_EQ(ids({.from = "b"}),
            (Ids{"item:1", "user:1", "user:10", "user:2", "user:3", "usex", "z"}));
  EXPECT_EQ(ids({.to = "item:1"}), Ids{"a"});
  EXPECT_EQ(ids({.from = "user:2", .to = "user:2"}), Ids{});
}

TEST_F(StoreScanFixture, PrefixAndRangeTogether) {
  EXPECT_EQ(ids({.prefix = "user:", .from = "user:10", .to = "user:3"}),
            (Ids{"user:10", "user:2"}));
}

TEST_F(StoreScanFixture, LimitAndEarlyStop) {
  EXPECT_EQ(ids({.prefix = "user:", .limit = 2}), (Ids{"user:1", "user:10"}));
  EXPECT_EQ(ids({.limit = 100}).size(), 8u);
  std::vector<std::string> seen;
  ASSERT_TRUE(t_->scan({}, [&](Nut& nut) {
                  seen.push_back(nut.id);
                  return seen.size() < 3;
                }).ok());
  EXPECT_EQ(seen, (Ids{"a", "item:1", "user:1"}));
}

TEST_F(StoreScan, EmptyTree) {
  Store store = open();
  Tree t = tree(store, "empty");
  int calls = 0;
  ASSERT_TRUE(t.scan({}, [&](Nut&) { return ++calls, true; }).ok());
  EXPECT_EQ(calls, 0);
}

TEST_F(StoreScan, ScanIsAPointInTimeSnapshot) {
  Store store = open();
  Tree t = tree(store, "t");
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(t.stash("k" + std::to_string(i), i).ok());
  int calls = 0;
  // Writes from inside the callback (another thread: this one holds the read transaction,
  // which is allowed; LMDB readers do not block writers) are not seen by the scan.
  ASSERT_TRUE(t.scan({}, [&](Nut& nut) {
                 ++calls;
                 if (nut.id == "k0") {
                   std::thread([&] {
                     for (int i = 0; i < 10; ++i) EXPECT_TRUE(t.toss("k" + std::to_string(i)).ok());
                     EXPECT_TRUE(t.stash("k5x", 1).ok());
                   }).join();
                 }
                 return true;
               }).ok());
  EXPECT_EQ(calls, 10);
  EXPECT_EQ(*t.count(), 1u);
}

}  // namespace
}  // namespace wasm_sandbox::store
