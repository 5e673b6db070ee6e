// Durability modes (store.h, Durability): every mode keeps what it committed across a clean
// close, Store::flush() flushes in every mode, periodic flushing stops at once on close.
#include "store/store_test_util.h"

namespace wasm_sandbox::store {
namespace {

using testing::StoreDir;

class StoreDurability : public StoreDir, public ::testing::WithParamInterface<Durability> {};

TEST_P(StoreDurability, CommitsSurviveACleanCloseAndSyncFlushes) {
  StoreOptions options;
  options.durability = GetParam();
  options.sync_interval = std::chrono::milliseconds(1);  // SyncPeriodically: flush all the time
  {
    Store store = open(options);
    Tree t = tree(store, "t");
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(t.stash("n" + std::to_string(i), i).ok());
    Status synced = store.flush();
    EXPECT_TRUE(synced.ok()) << synced.error().message();
    ASSERT_TRUE(store.batch([&](Batch& b) { b.toss(t, "n0"); }).ok());
  }
  Store store = open(options);
  Tree t = tree(store, "t");
  EXPECT_EQ(*t.count(), 49u);
  EXPECT_EQ(t.crack("n49")->payload, 49);
  EXPECT_FALSE(*t.exists("n0"));
}

INSTANTIATE_TEST_SUITE_P(Modes, StoreDurability,
                         ::testing::Values(Durability::SyncEveryCommit,
                                           Durability::SyncEveryCommitButLast,
                                           Durability::SyncPeriodically, Durability::NoSync));

using StoreDurabilityOptions = StoreDir;

TEST_F(StoreDurabilityOptions, ThePeriodicModeNeedsAPositiveInterval) {
  StoreOptions options;
  options.durability = Durability::SyncPeriodically;
  for (auto interval : {std::chrono::milliseconds(0), std::chrono::milliseconds(-5)}) {
    options.sync_interval = interval;
    auto store = Store::open(dir_, options);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(store.error().message().find(dir_.string()), std::string::npos);
    EXPECT_NE(store.error().message().find("sync_interval"), std::string::npos);
  }
  // Other modes ignore the interval.
  options.durability = Durability::NoSync;
  EXPECT_TRUE(Store::open(dir_, options).ok());
}

// The flushing thread waits on a condition variable: closing does not wait out the interval
// (were it a sleep, this test would hang for a day).
TEST_F(StoreDurabilityOptions, ClosingAPeriodicStoreStopsItsThreadAtOnce) {
  StoreOptions options;
  options.durability = Durability::SyncPeriodically;
  options.sync_interval = std::chrono::hours(24);
  for (int i = 0; i < 3; ++i) {
    Store store = open(options);
    ASSERT_TRUE(tree(store, "t").stash("k", i).ok());
  }
  Store store = open(options);
  EXPECT_EQ(tree(store, "t").crack("k")->version, 3u);
}

TEST(StoreDurabilityMemory, SyncOnAMemoryStoreDoesNothingAndSucceeds) {
  auto store = Store::open_memory();
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(store->tree("t")->stash("k", 1).ok());
  EXPECT_TRUE(store->flush().ok());
}

TEST(StoreDurabilityNames, EveryModeHasItsOwnName) {
  EXPECT_STREQ(to_string(Durability::SyncEveryCommit), "sync");
  EXPECT_STREQ(to_string(Durability::SyncEveryCommitButLast), "sync-but-last");
  EXPECT_STREQ(to_string(Durability::SyncPeriodically), "periodic");
  EXPECT_STREQ(to_string(Durability::NoSync), "none");
}

}  // namespace
}  // namespace wasm_sandbox::store
