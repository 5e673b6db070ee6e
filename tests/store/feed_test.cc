// The change feed: tombstones, sequence numbers, expiry and subscriptions (store.h).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "store_test_util.h"

namespace wasm_sandbox::store::testing {
namespace {

using json = nlohmann::json;
using StoreFeed = StoreDir;

std::vector<std::string> feed_ids(const Tree& tree, uint64_t since = 0) {
  std::vector<std::string> ids;
  const std::vector<Change> changes = tree.changes(since).value();
  for (const Change& change : changes) ids.push_back(change.nut.id);
  return ids;
}

TEST_F(StoreFeed, EveryWriteMovesItsIdToTheEndOfTheFeed) {
  Store store = open();
  Tree t = tree(store, "t");
  EXPECT_EQ(*t.last_seq(), 0u);
  ASSERT_TRUE(t.stash("a", 1).ok());
  ASSERT_TRUE(t.stash("b", 2).ok());
  ASSERT_TRUE(t.stash("c", 3).ok());
  ASSERT_TRUE(t.stash("a", 4).ok());
  EXPECT_EQ(feed_ids(t), (std::vector<std::string>{"b", "c", "a"}));
  EXPECT_EQ(*t.last_seq(), 4u);
  auto changes = t.changes(0).value();
  EXPECT_EQ(changes[2].seq, 4u);
  EXPECT_EQ(changes[2].nut.payload, 4);
  EXPECT_EQ(changes[2].nut.version, 2u);
  // Since a point: only what changed after it; a limit pages.
  EXPECT_EQ(feed_ids(t, 2), (std::vector<std::string>{"c", "a"}));
  EXPECT_EQ(t.changes(0, 1)->size(), 1u);
  EXPECT_TRUE(t.changes(4)->empty());
  EXPECT_TRUE(t.changes(~uint64_t{0})->empty());
}

TEST_F(StoreFeed, ATossLeavesATombstoneInTheFeedAndAVersionThatKeepsGrowing) {
  Store store = open();
  Tree t = tree(store, "t");
  ASSERT_TRUE(t.stash("a", 1).ok());
  ASSERT_TRUE(t.stash("b", 2).ok());
  ASSERT_TRUE(t.toss("a").ok());
  EXPECT_FALSE(*t.exists("a"));
  EXPECT_EQ(*t.count(), 1u);
  EXPECT_EQ(t.toss("a").error().kind(), ErrorKind::NotFound);
  auto changes = t.changes(0).value();
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[1].nut.id, "a");
  EXPECT_TRUE(changes[1].deleted);
  EXPECT_EQ(changes[1].nut.version, 2u);
  EXPECT_TRUE(changes[1].nut.payload.is_null());
  EXPECT_EQ(*t.stash("a", 5), 3u);
  changes = t.changes(0).value();
  EXPECT_FALSE(changes.back().deleted);
  EXPECT_EQ(changes.back().nut.payload, 5);
  // The scan never shows tombstones.
  std::vector<std::string> scanned;
  ASSERT_TRUE(t.toss("b").ok());
  ASSERT_TRUE(t.scan({}, [&](Nut& nut) { return scanned.push_back(nut.id), true; }).ok());
  EXPECT_EQ(scanned, (std::vector<std::string>{"a"}));
}

// Old tombstones can be forgotten: out of the feed, and an older write is then taken again.
TEST_F(StoreFeed, PurgedTombstonesLeaveTheFeed) {
  Store store = open();
  Tree t = tree(store, "t");
  ASSERT_TRUE(t.stash("a", 1).ok());
  ASSERT_TRUE(t.stash("b", 2).ok());
  ASSERT_TRUE(t.stash("c", 3).ok());
  ASSERT_TRUE(t.toss("a").ok());
  const uint64_t between = t.changes(0)->back().nut.timestamp_ns + 1;
  ASSERT_TRUE(t.toss("b").ok());
  EXPECT_EQ(*t.purge_tombstones(between), 1u);  // a's, not b's (stamped after `between`)
  EXPECT_EQ(feed_ids(t), (std::vector<std::string>{"c", "b"}));
  EXPECT_EQ(*t.purge_tombstones(between), 0u);
  EXPECT_EQ(*t.count(), 1u);
  EXPECT_EQ(*t.last_seq(), 5u);  // numbers are not reused
  // The documented cost: a write older than the forgotten toss is no longer refused.
  Change stale;
  stale.nut.id = "a";
  stale.nut.version = 1;
  stale.nut.timestamp_ns = 1;
  stale.nut.payload = "old";
  EXPECT_EQ(*t.squabble(stale, judges::timestamp()), Outcome::Taken);
  // The feed's last entry is kept, so its number survives reopening: numbers never repeat.
  ASSERT_TRUE(t.toss("a").ok());
  const uint64_t last = *t.last_seq();
  EXPECT_EQ(*t.purge_tombstones(~uint64_t{0}), 1u);  // b's; a's is the last entry
  EXPECT_EQ(*t.last_seq(), last);
  // A re-stash of a purged id starts again at version 1 (nothing remembers it).
  ASSERT_TRUE(t.stash("z", 0).ok());
  ASSERT_TRUE(t.purge_tombstones(~uint64_t{0}).ok());
  EXPECT_EQ(*t.stash("a", 9), 1u);
  EXPECT_EQ(*t.last_seq(), last + 2);
}

TEST_F(StoreFeed, SequenceNumbersSurviveReopeningAndNeverRepeat) {
  {
    Store store = open();
    Tree t = tree(store, "t");
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(t.stash("k", i).ok());
    EXPECT_EQ(*t.last_seq(), 5u);
  }
  Store store = open();
  Tree t = tree(store, "t");
  EXPECT_EQ(*t.last_seq(), 5u);
  ASSERT_TRUE(t.stash("k", 9).ok());
  EXPECT_EQ(t.changes(0)->back().seq, 6u);
}

TEST_F(StoreFeed, AnAbortedTransactionUsesNoSequenceNumbers) {
  Store store = open();
  Tree t = tree(store, "t");
  ASSERT_TRUE(t.stash("a", 1).ok());
  Status failed = store.write([&](WriteTxn& txn) -> Status {
    EXPECT_TRUE(txn.stash(t, "b", 2).ok());
    EXPECT_TRUE(txn.stash(t, "c", 3).ok());
    return Error(ErrorKind::InvalidArgument, "no");
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(*t.last_seq(), 1u);
  ASSERT_TRUE(t.stash("d", 4).ok());
  EXPECT_EQ(feed_ids(t), (std::vector<std::string>{"a", "d"}));
  EXPECT_EQ(*t.last_seq(), 2u);
}

TEST_F(StoreFeed, ExpiredNutsAreAbsentToReadsAndPurgedIntoTombstones) {
  Store store = open();
  Tree t = tree(store, "t");
  const uint64_t past = now_ns() - 1;
  const uint64_t future = now_ns() + uint64_t{3600} * 1000000000;
  ASSERT_TRUE(t.stash("gone", 1, {.expires_at_ns = past}).ok());
  ASSERT_TRUE(t.stash("kept", 2, {.expires_at_ns = future}).ok());
  ASSERT_TRUE(t.stash("plain", 3).ok());
  EXPECT_EQ(t.crack("gone").error().kind(), ErrorKind::NotFound);
  EXPECT_FALSE(*t.exists("gone"));
  EXPECT_TRUE(*t.exists("kept"));
  EXPECT_EQ(*t.count(), 2u);
  EXPECT_EQ(t.toss("gone").error().kind(), ErrorKind::NotFound);
  std::vector<std::string> scanned;
  ASSERT_TRUE(t.scan({}, [&](Nut& nut) { return scanned.push_back(nut.id), true; }).ok());
  EXPECT_EQ(scanned, (std::vector<std::string>{"kept", "plain"}));

  EXPECT_EQ(*t.purge_expired(), 1u);
  EXPECT_EQ(*t.purge_expired(), 0u);
  EXPECT_EQ(*t.count(), 2u);
  auto last = t.changes(0)->back();
  EXPECT_EQ(last.nut.id, "gone");
  EXPECT_TRUE(last.deleted);
  // A new stash without an expiry drops the old one from the expiry index.
  ASSERT_TRUE(t.stash("kept", 4).ok());
  EXPECT_EQ(*store.purge_expired(), 0u);
  EXPECT_EQ(t.crack("kept")->expires_at_ns, std::nullopt);
}

// With a sweep interval, expired nuts become tombstones without anyone asking; subscribers see
// them. The wait is generous: this checks that the sweep happens, not how soon.
TEST_F(StoreFeed, ABackgroundSweepPurgesExpiredNuts) {
  StoreOptions options;
  options.expiry_sweep_interval = std::chrono::milliseconds(10);
  Store store = open(options);
  Tree t = tree(store, "t");
  std::atomic<int> tombstones{0};
  Subscription subscription = t.subscribe([&](const Change& change) {
    if (change.deleted) ++tombstones;
  });
  ASSERT_TRUE(t.stash("brief", 1, {.expires_at_ns = now_ns() + 20'000'000}).ok());
  ASSERT_TRUE(t.stash("kept", 2).ok());
  for (int i = 0; i < 1000 && tombstones == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(tombstones, 1);
  auto last = t.changes(0)->back();
  EXPECT_EQ(last.nut.id, "brief");
  EXPECT_TRUE(last.deleted);
  EXPECT_TRUE(*t.exists("kept"));
}

// With a tombstone lifetime, the sweep also forgets tombstones older than it (but the feed's
// last entry), and keeps younger ones. A nut expiring at once marks that a sweep has run.
StoreOptions swept_every_10ms(std::chrono::milliseconds tombstone_lifetime) {
  StoreOptions options;
  options.expiry_sweep_interval = std::chrono::milliseconds(10);
  options.tombstone_lifetime = tombstone_lifetime;
  return options;
}

TEST_F(StoreFeed, TheSweepForgetsTombstonesOlderThanTheirLifetime) {
  Store store = open(swept_every_10ms(std::chrono::milliseconds(1)));
  Tree t = tree(store, "t");
  ASSERT_TRUE(t.stash("a", 1).ok());
  ASSERT_TRUE(t.toss("a").ok());
  ASSERT_TRUE(t.stash("b", 2).ok());
  ASSERT_TRUE(t.toss("b").ok());  // the feed's last entry: kept, so numbers never repeat
  auto has = [&](const char* id) {
    auto changes = t.changes(0);
    EXPECT_TRUE(changes.ok());
    if (!changes.ok()) return false;
    for (const Change& change : *changes) {
      if (change.nut.id == id) return true;
    }
    return false;
  };
  for (int i = 0; i < 1000 && has("a"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(has("a"));
  EXPECT_TRUE(has("b"));
  EXPECT_EQ(*t.last_seq(), 4u);
  // A stash after the purge starts from scratch for "a", and goes on numbering the feed.
  ASSERT_TRUE(t.stash("a", 3).ok());
  EXPECT_EQ(t.crack("a")->version, 1u);
  EXPECT_EQ(*t.last_seq(), 5u);
}

TEST_F(StoreFeed, TheSweepKeepsTombstonesYoungerThanTheirLifetime) {
  Store store = open(swept_every_10ms(std::chrono::hours(1)));
  Tree t = tree(store, "t");
  std::atomic<int> expired{0};
  Subscription subscription = t.subscribe([&](const Change& change) {
    if (change.deleted && change.nut.id == "marker") ++expired;
  });
  ASSERT_TRUE(t.stash("a", 1).ok());
  ASSERT_TRUE(t.toss("a").ok());
  ASSERT_TRUE(t.stash("marker", 2, {.expires_at_ns = now_ns()}).ok());
  // Two sweeps: the one that tombstones the marker, and one after it.
  for (int i = 0; i < 1000 && expired == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(expired, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto changes = t.changes(0);
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[0].nut.id, "a");
  EXPECT_TRUE((*changes)[0].deleted);
}

TEST_F(StoreFeed, ATombstoneLifetimeNeedsASweepAndMustNotBeNegative) {
  StoreOptions options;
  options.tombstone_lifetime = std::chrono::milliseconds(1000);
  auto unswept = Store::open(dir_, options);
  ASSERT_FALSE(unswept.ok());
  EXPECT_EQ(unswept.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_NE(unswept.error().message().find("needs a positive expiry_sweep_interval"),
            std::string::npos);
  options.expiry_sweep_interval = std::chrono::milliseconds(1000);
  options.tombstone_lifetime = std::chrono::milliseconds(-1);
  auto negative = Store::open(dir_, options);
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.error().message().find("tombstone_lifetime must not be negative"),
            std::string::npos);
}

TEST_F(StoreFeed, ANegativeSweepIntervalIsRefused) {
  StoreOptions options;
  options.expiry_sweep_interval = std::chrono::milliseconds(-1);
  auto store = Store::open(dir_, options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_NE(store.error().message().find("expiry_sweep_interval"), std::string::npos);
}

TEST_F(StoreFeed, SubscribersSeeEachCommittedChangeInOrderAndNothingAborted) {
  Store store = open();
  Tree t = tree(store, "t");
  Tree other = tree(store, "other");
  std::vector<Change> seen;
  Subscription subscription = t.subscribe([&](const Change& change) { seen.push_back(change); });
  ASSERT_TRUE(t.stash("a", 1).ok());
  ASSERT_TRUE(other.stash("x", 1).ok());
  ASSERT_TRUE(store
                  .batch([&](Batch& batch) {
                    batch.stash(t, "b", 2);
                    batch.toss(t, "a");
                  })
                  .ok());
  ASSERT_FALSE(store
                   .batch([&](Batch& batch) {
                     batch.stash(t, "c", 3);
                     batch.toss(t, "missing");
                   })
                   .ok());
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].nut.id, "a");
  EXPECT_EQ(seen[0].nut.payload, 1);
  EXPECT_EQ(seen[1].nut.id, "b");
  EXPECT_TRUE(seen[2].deleted);
  EXPECT_EQ(seen[2].seq, 3u);
  subscription.reset();
  ASSERT_TRUE(t.stash("d", 4).ok());
  EXPECT_EQ(seen.size(), 3u);
}

TEST_F(StoreFeed, ASubscriberCannotWriteToItsStoreButCanRead) {
  Store store = open();
  Tree t = tree(store, "t");
  Status write_from_callback;
  Result<Nut> read_from_callback = Error(ErrorKind::NotFound, "not called");
  Subscription subscription = t.subscribe([&](const Change& change) {
    auto written = t.stash("echo", 1);
    if (!written.ok()) write_from_callback = std::move(written).error();
    read_from_callback = t.crack(change.nut.id);
  });
  ASSERT_TRUE(t.stash("a", 1).ok());
  ASSERT_FALSE(write_from_callback.ok());
  EXPECT_EQ(write_from_callback.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_NE(write_from_callback.error().message().find("subscription callback"), std::string::npos);
  ASSERT_TRUE(read_from_callback.ok());
  EXPECT_EQ(read_from_callback->payload, 1);
  EXPECT_FALSE(*t.exists("echo"));
}

TEST_F(StoreFeed, ConcurrentWritersDeliverInCommitOrder) {
  StoreOptions options;
  options.durability = Durability::NoSync;
  Store store = open(options);
  Tree t = tree(store, "t");
  std::vector<uint64_t> seqs;
  Subscription subscription = t.subscribe([&](const Change& change) {
    seqs.push_back(change.seq);  // callbacks never run at once: no lock needed
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 100; ++i) ASSERT_TRUE(t.stash(std::to_string(w * 1000 + i), i).ok());
    });
  }
  for (auto& writer : writers) writer.join();
  ASSERT_EQ(seqs.size(), 400u);
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i + 1);
}

}  // namespace
}  // namespace wasm_sandbox::store::testing
