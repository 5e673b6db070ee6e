// Squabbles, judges and sync between trees (store.h).
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <thread>
#include <vector>

#include "store_test_util.h"

namespace wasm_sandbox::store::testing {
namespace {

using json = nlohmann::json;
using StoreSync = StoreDir;

// A change as a peer would send it.
Change change(std::string id, uint64_t version, uint64_t timestamp, json payload,
              bool deleted = false) {
  return testing::make_change(std::move(id), version, timestamp, std::move(payload), deleted);
}

// Every nut of `tree` as "id:version:timestamp:payload", in id order.
std::vector<std::string> contents(const Tree& tree) {
  std::vector<std::string> out;
  EXPECT_TRUE(tree.scan({},
                        [&](Nut& nut) {
                          out.push_back(nut.id + ":" + std::to_string(nut.version) + ":" +
                                        std::to_string(nut.timestamp_ns) + ":" +
                                        nut.payload.dump());
                          return true;
                        })
                  .ok());
  return out;
}

TEST_F(StoreSync, AnIncomingChangeIsTakenAsIsWhenTheIdIsNew) {
  Store store = open();
  Tree t = tree(store, "t");
  EXPECT_EQ(*t.squabble(change("a", 7, 1000, {{"x", 1}}), judges::timestamp()), Outcome::Taken);
  Nut nut = t.crack("a").value();
  EXPECT_EQ(nut.version, 7u);
  EXPECT_EQ(nut.timestamp_ns, 1000u);
  EXPECT_EQ(nut.payload, (json{{"x", 1}}));
  // Applying it again changes nothing: not even the feed.
  const uint64_t seq = *t.last_seq();
  EXPECT_EQ(*t.squabble(change("a", 7, 1000, {{"x", 1}}), judges::timestamp()), Outcome::Duplicate);
  EXPECT_EQ(*t.last_seq(), seq);
  // A local stash continues from it, later than it.
  EXPECT_EQ(*t.stash("a", 2), 8u);
  EXPECT_GT(t.crack("a")->timestamp_ns, 1000u);
}

TEST_F(StoreSync, TheTimestampJudgeKeepsTheLaterChangeWhateverTheOrderOfArrival) {
  Store store = open();
  Tree one = tree(store, "one");
  Tree two = tree(store, "two");
  Change early = change("k", 1, 100, "early");
  Change late = change("k", 1, 200, "late");
  ASSERT_TRUE(one.squabble(early, judges::timestamp()).ok());
  EXPECT_EQ(*one.squabble(late, judges::timestamp()), Outcome::Taken);
  ASSERT_TRUE(two.squabble(late, judges::timestamp()).ok());
  EXPECT_EQ(*two.squabble(early, judges::timestamp()), Outcome::Kept);  // late arrival: no regress
  EXPECT_EQ(one.crack("k")->payload, "late");
  EXPECT_EQ(two.crack("k")->payload, "late");
}

TEST_F(StoreSync, TheVersionJudgePrefersTheHigherVersion) {
  Store store = open();
  Tree t = tree(store, "t");
  ASSERT_TRUE(t.squabble(change("k", 5, 100, "v5"), judges::version()).ok());
  EXPECT_EQ(*t.squabble(change("k", 4, 900, "v4"), judges::version()), Outcome::Kept);
  EXPECT_EQ(*t.squabble(change("k", 6, 50, "v6"), judges::version()), Outcome::Taken);
  EXPECT_EQ(t.crack("k")->payload, "v6");
}

TEST_F(StoreSync, LocalAndRemoteWinsJudges) {
  Store store = open();
  Tree t = tree(store, "t");
  ASSERT_TRUE(t.stash("k", "local").ok());
  EXPECT_EQ(*t.squabble(change("k", 99, ~uint64_t{0} - 1, "remote"), judges::local_wins()),
            Outcome::Kept);
  EXPECT_EQ(t.crack("k")->payload, "local");
  EXPECT_EQ(*t.squabble(change("k", 1, 1, "remote"), judges::remote_wins()), Outcome::Taken);
  EXPECT_EQ(t.crack("k")->payload, "remote");
  // A custom judge sees both sides, payloads included.
  Judge bigger = [](const Change& local, const Change& incoming) {
    return incoming.nut.payload.get<int>() > local.nut.payload.get<int>();
  };
  ASSERT_TRUE(t.stash("n", 10).ok());
  EXPECT_EQ(*t.squabble(change("n", 1, 1, 3), bigger), Outcome::Kept);
  EXPECT_EQ(*t.squabble(change("n", 1, 1, 30), bigger), Outcome::Taken);
}

TEST_F(StoreSync, TombstonesTravelAndALateWriteDoesNotResurrect) {
  Store store = open();
  Tree t = tree(store, "t");
  ASSERT_TRUE(t.squabble(change("k", 1, 100, "v1"), judges::timestamp()).ok());
  EXPECT_EQ(*t.squabble(change("k", 2, 300, nullptr, /*deleted=*/true), judges::timestamp()),
            Outcome::Taken);
  EXPECT_FALSE(*t.exists("k"));
  EXPECT_EQ(*t.squabble(change("k", 2, 200, "stale"), judges::timestamp()), Outcome::Kept);
  EXPECT_FALSE(*t.exists("k"));
  EXPECT_EQ(*t.squabble(change("k", 3, 400, "newer"), judges::timestamp()), Outcome::Taken);
  EXPECT_EQ(t.crack("k")->payload, "newer");
}

// Two changes equal but for their expiry: both stores keep the same one, whichever came first.
TEST_F(StoreSync, OrderedJudgesBreakEveryTieTheSameWay) {
  Store store = open();
  Tree one = tree(store, "one");
  Tree two = tree(store, "two");
  Change plain = change("k", 3, 100, "same");
  Change expiring = plain;
  expiring.nut.expires_at_ns = uint64_t{4102444800000000000};
  for (const Judge& judge : {judges::timestamp(), judges::version()}) {
    EXPECT_TRUE(judge(plain, expiring));
    EXPECT_FALSE(judge(expiring, plain));
  }
  ASSERT_TRUE(one.squabble(plain, judges::timestamp()).ok());
  ASSERT_TRUE(one.squabble(expiring, judges::timestamp()).ok());
  ASSERT_TRUE(two.squabble(expiring, judges::timestamp()).ok());
  ASSERT_TRUE(two.squabble(plain, judges::timestamp()).ok());
  EXPECT_EQ(one.crack("k")->expires_at_ns, two.crack("k")->expires_at_ns);
  EXPECT_TRUE(one.crack("k")->expires_at_ns.has_value());
}

TEST_F(StoreSync, MalformedIncomingChangesAreRefusedNamingTheNut) {
  Store store = open();
  Tree t = tree(store, "t");
  auto zero = t.squabble(change("k", 0, 1, 1), judges::timestamp());
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_NE(zero.error().message().find("tree `t`, id `k`"), std::string::npos);
  EXPECT_FALSE(t.squabble(change("k", 1, ~uint64_t{0}, 1), judges::timestamp()).ok());
  EXPECT_FALSE(t.squabble(change("k", 1, 1, 1, /*deleted=*/true), judges::timestamp()).ok());
  EXPECT_FALSE(t.squabble(change("", 1, 1, 1), judges::timestamp()).ok());
  EXPECT_EQ(*t.count(), 0u);
  EXPECT_EQ(*t.last_seq(), 0u);
}

TEST_F(StoreSync, PullSendsOnlyWhatIsNewAndSurvivesReopening) {
  std::filesystem::path other_dir = dir_.string() + "-other";
  std::filesystem::remove_all(other_dir);
  {
    Store a = open();
    auto b_store = Store::open(other_dir);
    ASSERT_TRUE(b_store.ok());
    EXPECT_NE(a.id(), b_store->id());
    EXPECT_EQ(a.id().size(), 32u);
    Tree ta = tree(a, "t");
    Tree tb = tree(*b_store, "t");
    for (int i = 0; i < 2500; ++i) ASSERT_TRUE(ta.stash("k" + std::to_string(i), i).ok());
    auto first = pull(ta, tb, judges::timestamp());
    ASSERT_TRUE(first.ok()) << first.error().message();
    EXPECT_EQ(first->sent, 2500u);
    EXPECT_EQ(first->taken, 2500u);
    EXPECT_EQ(pull(ta, tb, judges::timestamp())->sent, 0u);
    ASSERT_TRUE(ta.stash("k7", "changed").ok());
    ASSERT_TRUE(ta.toss("k8").ok());
  }
  Store a = open();
  auto b_store = Store::open(other_dir);
  Tree ta = tree(a, "t");
  Tree tb = tree(*b_store, "t");
  auto again = pull(ta, tb, judges::timestamp());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->sent, 2u);
  EXPECT_EQ(tb.crack("k7")->payload, "changed");
  EXPECT_FALSE(*tb.exists("k8"));
  EXPECT_EQ(contents(ta), contents(tb));
  std::filesystem::remove_all(other_dir);
}

// Two stores edited at once by their own writers, synced now and then: after a final sync in
// both directions they hold exactly the same nuts, and every write of the last round survives
// unless a later write to the same id beat it.
TEST_F(StoreSync, TwoStoresEditedConcurrentlyConverge) {
  std::filesystem::path other_dir = dir_.string() + "-other";
  std::filesystem::remove_all(other_dir);
  StoreOptions options;
  options.durability = Durability::NoSync;
  Store a = open(options);
  Store b = std::move(Store::open(other_dir, options)).value();
  Tree ta = tree(a, "t");
  Tree tb = tree(b, "t");
  auto edit = [](Tree tree, unsigned seed) {
    std::mt19937 random(seed);
    for (int i = 0; i < 600; ++i) {
      std::string id = "k" + std::to_string(random() % 50);
      if (random() % 5 == 0) {
        (void)tree.toss(id);  // NotFound is fine
      } else {
        ASSERT_TRUE(tree.stash(id, {{"by", seed}, {"i", i}}).ok());
      }
    }
  };
  std::thread syncer([&] {
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(sync(ta, tb, judges::timestamp()).ok());
  });
  std::thread writer_a(edit, ta, 1u);
  std::thread writer_b(edit, tb, 2u);
  writer_a.join();
  writer_b.join();
  syncer.join();
  ASSERT_TRUE(sync(ta, tb, judges::timestamp()).ok());
  auto quiet = sync(ta, tb, judges::timestamp());
  ASSERT_TRUE(quiet.ok());
  EXPECT_EQ(quiet->taken, 0u);
  EXPECT_EQ(contents(ta), contents(tb));
  EXPECT_FALSE(contents(ta).empty());
  // Tombstones converge too: every id's feed entry has the same version and state on both sides.
  auto feed = [](const Tree& tree) {
    std::map<std::string, std::pair<uint64_t, bool>> out;
    const std::vector<Change> changes = tree.changes(0).value();
    for (const Change& c : changes) out[c.nut.id] = {c.nut.version, c.deleted};
    return out;
  };
  EXPECT_EQ(feed(ta), feed(tb));
  std::filesystem::remove_all(other_dir);
}

TEST_F(StoreSync, SyncWithinOneStoreAndThroughSubscriptions) {
  Store store = open();
  Tree left = tree(store, "left");
  Tree right = tree(store, "right");
  ASSERT_TRUE(left.stash("a", 1).ok());
  ASSERT_TRUE(right.stash("b", 2).ok());
  auto report = sync(left, right, judges::timestamp());
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report->taken, 2u);
  EXPECT_EQ(contents(left), contents(right));
  // The change that came back to where it started is a duplicate, not a new change.
  auto echo = sync(left, right, judges::timestamp());
  EXPECT_EQ(echo->taken, 0u);
}

}  // namespace
}  // namespace wasm_sandbox::store::testing
