// LMDB lets several processes write one environment. Each open Store caches a tree's last feed
// number, valid only while nobody else commits: a write from another process must keep its own
// place in the feed (and so be synced), never be overwritten by the next local write.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "wasm_sandbox/store.h"

namespace wasm_sandbox::store {
namespace {

TEST(StoreFeedAcrossProcesses, AWriteFromAnotherProcessKeepsItsPlaceInTheFeed) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("ws-feed-processes-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  {
    Store store = std::move(Store::open(dir)).value();
    Tree tree = std::move(store.tree("t")).value();
    ASSERT_TRUE(tree.stash("a", 1).ok());  // seq 1
    // Another process writes b (seq 2 in the file) while this one holds the store open.
    const std::string put =
        std::string(CLI_PATH) + " store put " + dir.string() + " t '{\"id\":\"b\"}' > /dev/null";
    ASSERT_EQ(std::system(put.c_str()), 0);
    ASSERT_TRUE(tree.exists("b").value());
    ASSERT_TRUE(tree.stash("c", 3).ok());  // takes seq 2 again: b's feed entry is overwritten
    std::set<std::string> ids;
    const std::vector<Change> feed = tree.changes(0).value();
    for (const Change& change : feed) ids.insert(change.nut.id);
    EXPECT_EQ(ids, (std::set<std::string>{"a", "b", "c"}));
    EXPECT_EQ(tree.last_seq().value(), 3u);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace wasm_sandbox::store
