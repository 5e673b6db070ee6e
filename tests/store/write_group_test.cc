// Group commit (src/store/write_group.h): stashes and tosses from threads writing at once to a
// store whose commits flush share a transaction, and each keeps its own result.
//
// The tests make groups happen on purpose: the first write's subscription callback runs while
// its thread still leads, and holds it there until the other writers have queued, one by one,
// in a known order; they then run as one group, led by the first of them.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "store/store_state.h"
#include "store_test_util.h"

namespace wasm_sandbox::store::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

class WriteGroupTest : public StoreDir {
 protected:
  // Waits until `n` writes are queued behind the current leader of `tree`'s store.
  static bool wait_queued(const Tree& tree, size_t n) {
    auto& groups = detail::Access::state(tree)->groups;
    for (auto until = std::chrono::steady_clock::now() + 10s;
         std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(1ms)) {
      if (groups.waiting() == n) return true;
    }
    return false;
  }

  struct Delivery {
    std::string id;
    uint64_t seq;
    std::thread::id thread;
  };

  // Stashes "first" on this thread; while its change is being delivered, starts `writes`, one
  // thread each, each queued before the next starts; returns when all have returned.
  void run_grouped(const Tree& t, std::vector<std::function<void()>> writes) {
    std::atomic<bool> holding{true};
    Subscription hold = t.subscribe([&](const Change& change) {
      if (change.nut.id != "first" || !holding.exchange(false)) return;
      for (size_t i = 0; i < writes.size(); ++i) {
        threads_.emplace_back(writes[i]);
        ids_.push_back(threads_.back().get_id());
        ASSERT_TRUE(wait_queued(t, i + 1)) << "write " << i << " never queued";
      }
    });
    ASSERT_TRUE(t.stash("first", json{{"n", 0}}).ok());
    for (auto& thread : threads_) thread.join();
  }

  std::vector<std::thread> threads_;
  std::vector<std::thread::id> ids_;  // threads_' ids, kept after they end
};

TEST_F(WriteGroupTest, WritesQueuedTogetherCommitTogetherInArrivalOrder) {
  Store store = open();
  Tree t = tree(store, "t");
  std::mutex mutex;
  std::vector<Delivery> seen;
  Subscription record = t.subscribe([&](const Change& change) {
    std::lock_guard lock(mutex);
    seen.push_back({change.nut.id, change.seq, std::this_thread::get_id()});
  });
  Result<uint64_t> b = Error(ErrorKind::Internal, "not run");
  Result<uint64_t> c = b, d = b;
  run_grouped(t, {[&] {
                    b = t.stash("b", json{{"n", 1}});
                  },
                  [&] { c = t.stash_text("c", R"({"n": 2})"); },
                  [&] {
                    d = t.stash("b", json{{"n", 3}});
                  }});
  ASSERT_TRUE(b.ok()) << b.error().message();
  ASSERT_TRUE(c.ok()) << c.error().message();
  ASSERT_TRUE(d.ok()) << d.error().message();
  EXPECT_EQ(*b, 1u);  // versions: "b" written twice in the group, in order
  EXPECT_EQ(*c, 1u);
  EXPECT_EQ(*d, 2u);
  EXPECT_EQ(t.crack("b")->payload, (json{{"n", 3}}));

  // One group: all three delivered by the thread that led it (the first queued), in order.
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].id, "first");
  EXPECT_EQ(seen[1].id, "b");
  EXPECT_EQ(seen[2].id, "c");
  EXPECT_EQ(seen[3].id, "b");
  EXPECT_NE(seen[1].thread, seen[0].thread);
  EXPECT_EQ(seen[2].thread, seen[1].thread);
  EXPECT_EQ(seen[3].thread, seen[1].thread);
  EXPECT_EQ(seen[1].thread, ids_[0]);
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_EQ(seen[i].seq, seen[i - 1].seq + 1);

  // The feed holds each id once, at its last write.
  auto changes = t.changes(0);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 3u);
  EXPECT_EQ((*changes)[0].nut.id, "first");
  EXPECT_EQ((*changes)[1].nut.id, "c");
  EXPECT_EQ((*changes)[2].nut.id, "b");
}

// A write that fails in a group fails alone: the group runs again write by write, and the
// others commit as if nobody had shared their transaction.
TEST_F(WriteGroupTest, AFailingWriteFailsAloneAndTheOthersCommit) {
  StoreOptions options;
  options.max_document_bytes = 1024;
  Store store = open(options);
  Tree t = tree(store, "t");
  Result<uint64_t> b = Error(ErrorKind::Internal, "not run");
  Result<uint64_t> too_big = b;
  Status missing = Error(ErrorKind::Internal, "not run");
  Status d = missing;
  run_grouped(t, {[&] {
                    b = t.stash("b", json{{"n", 1}});
                  },
                  [&] { missing = t.toss("nobody"); },
                  [&] {
                    too_big = t.stash("big", json{{"s", std::string(2048, 'x')}});
                  },
                  [&] { d = t.toss("b"); }});
  EXPECT_TRUE(b.ok()) << b.error().message();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::NotFound);
  EXPECT_NE(missing.error().message().find("nobody"), std::string::npos);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().kind(), ErrorKind::LimitExceeded);
  EXPECT_TRUE(d.ok()) << d.error().message();

  EXPECT_FALSE(*t.exists("b"));  // stashed, then tossed by the last write
  EXPECT_FALSE(*t.exists("big"));
  auto changes = t.changes(0);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[1].nut.id, "b");
  EXPECT_TRUE((*changes)[1].deleted);
  EXPECT_EQ((*changes)[1].nut.version, 2u);
  EXPECT_EQ(*t.last_seq(), 3u);  // first, b, then b's toss: nothing of the aborted group
}

// On a store that fsyncs every commit, a group is one commit; its writes are durable when
// they return.
TEST_F(WriteGroupTest, GroupsOnADurableStoreSurviveReopening) {
  StoreOptions options;
  options.durability = Durability::SyncEveryCommit;
  {
    Store store = open(options);
    Tree t = tree(store, "t");
    std::vector<std::function<void()>> writes;
    for (int i = 0; i < 5; ++i) {
      writes.push_back([&t, i] { ASSERT_TRUE(t.stash("w" + std::to_string(i), i).ok()); });
    }
    run_grouped(t, writes);
  }
  Store reopened = open(options);
  Tree t = tree(reopened, "t");
  EXPECT_EQ(*t.count(), 6u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(t.crack("w" + std::to_string(i))->payload, json(i));
}

// Many threads, each stashing and tossing its own ids: every write lands once, in one feed
// whose numbers never repeat, and every change is delivered once.
TEST_F(WriteGroupTest, ConcurrentWritersKeepTheFeedAndVersionsExact) {
  Store store = open();
  Tree t = tree(store, "t");
  std::atomic<uint64_t> delivered{0};
  Subscription count = t.subscribe([&](const Change&) { ++delivered; });
  constexpr int kThreads = 6, kIds = 40, kRounds = 5;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < kThreads; ++w) {
    writers.emplace_back([&, w] {
      for (int round = 0; round < kRounds; ++round) {
        for (int i = 0; i < kIds; ++i) {
          const std::string id = std::to_string(w) + ":" + std::to_string(i);
          if (!t.stash(id, json{{"round", round}}).ok()) ++failures;
          if (i % 4 == 0 && !t.toss(id).ok()) ++failures;
        }
      }
    });
  }
  for (auto& writer : writers) writer.join();
  EXPECT_EQ(failures.load(), 0);
  const uint64_t writes = kThreads * kRounds * (kIds + kIds / 4);
  EXPECT_EQ(delivered.load(), writes);
  EXPECT_EQ(*t.last_seq(), writes);
  EXPECT_EQ(*t.count(), uint64_t{kThreads * (kIds - kIds / 4)});
  for (int w = 0; w < kThreads; ++w) {
    auto nut = t.crack(std::to_string(w) + ":1");
    ASSERT_TRUE(nut.ok());
    EXPECT_EQ(nut->version, uint64_t{kRounds});
    EXPECT_EQ(nut->payload, (json{{"round", kRounds - 1}}));
  }
  auto changes = t.changes(0, 100000);
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(changes->size(), uint64_t{kThreads * kIds});
  for (size_t i = 1; i < changes->size(); ++i) {
    EXPECT_LT((*changes)[i - 1].seq, (*changes)[i].seq);
  }
}

}  // namespace
}  // namespace wasm_sandbox::store::testing
