// Nuts: stash, crack, toss, exists, count; versions, timestamps, ids taken from documents.
#include <chrono>

#include "store/store_test_util.h"

namespace wasm_sandbox::store {
namespace {

using testing::now_ns;
using testing::StoreDir;
using StoreNut = StoreDir;
using json = nlohmann::json;

TEST_F(StoreNut, StashThenCrackReturnsTheDocument) {
  Store store = open();
  Tree t = tree(store, "docs");
  json doc = {{"name", "acorn"}, {"tags", {"a", "b"}}, {"n", 1.5}, {"nested", {{"x", nullptr}}}};
  auto version = t.stash("d1", doc);
  ASSERT_TRUE(version.ok()) << version.error().message();
  EXPECT_EQ(*version, 1u);
  auto nut = t.crack("d1");
  ASSERT_TRUE(nut.ok());
  EXPECT_EQ(nut->id, "d1");
  EXPECT_EQ(nut->payload, doc);
  EXPECT_EQ(nut->version, 1u);
  EXPECT_FALSE(nut->expires_at_ns.has_value());
}

TEST_F(StoreNut, VersionIncrementsOnEveryStashAndSurvivesReopen) {
  {
    Store store = open();
    Tree t = tree(store, "t");
    for (uint64_t i = 1; i <= 5; ++i) {
      auto version = t.stash("k", {{"i", i}});
      ASSERT_TRUE(version.ok());
      EXPECT_EQ(*version, i);
    }
    EXPECT_EQ(t.crack("k")->version, 5u);
  }
  Store store = open();
  Tree t = tree(store, "t");
  EXPECT_EQ(t.crack("k")->version, 5u);
  EXPECT_EQ(t.crack("k")->payload["i"], 5);
  EXPECT_EQ(*t.stash("k", 0), 6u);
  // A toss is a version too (its tombstone's), and a later stash continues from it: a version
  // never goes back, so sync can tell old from new.
  ASSERT_TRUE(t.toss("k").ok());
  EXPECT_FALSE(t.crack("k").ok());
  EXPECT_EQ(*t.stash("k", 0), 8u);
}

TEST_F(StoreNut, TimestampsAreNowAndStrictlyIncreasing) {
  Store store = open();
  Tree t = tree(store, "t");
  uint64_t before = now_ns();
  uint64_t last = 0;
  for (int i = 0; i < 100; ++i) {
    std::string id = i % 2 ? "same" : "k" + std::to_string(i);
    ASSERT_TRUE(t.stash(id, i).ok());
    uint64_t ts = t.crack(id)->timestamp_ns;
    EXPECT_GT(ts, last);
    last = ts;
  }
  EXPECT_GE(t.crack("k0")->timestamp_ns, before);
  EXPECT_LE(t.crack("k0")->timestamp_ns, now_ns() + 1000);
}

TEST_F(StoreNut, TossExistsCount) {
  Store store = open();
  Tree t = tree(store, "t");
  EXPECT_EQ(*t.count(), 0u);
  ASSERT_TRUE(t.stash("a", 1).ok());
  ASSERT_TRUE(t.stash("b", 2).ok());
  ASSERT_TRUE(t.stash("a", 3).ok());  // a new version, not a new nut
  EXPECT_EQ(*t.count(), 2u);
  EXPECT_TRUE(*t.exists("a"));
  ASSERT_TRUE(t.toss("a").ok());
  EXPECT_FALSE(*t.exists("a"));
  EXPECT_EQ(*t.count(), 1u);

  Status again = t.toss("a");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind(), ErrorKind::NotFound);
  EXPECT_NE(again.error().message().find("tree `t`"), std::string::npos);
  EXPECT_NE(again.error().message().find("`a`"), std::string::npos);

  auto missing = t.crack("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::NotFound);
  EXPECT_NE(missing.error().message().find("tree `t`, id `nope`"), std::string::npos)
      << missing.error().message();
}

TEST_F(StoreNut, IdComesFromTheIdFieldElseTheKeyField) {
  Store store = open();
  Tree t = tree(store, "t");
  ASSERT_TRUE(t.stash(json{{"id", "by-id"}, {"key", "ignored"}, {"v", 1}}).ok());
  ASSERT_TRUE(t.stash(json{{"key", "by-key"}, {"v", 2}}).ok());
  EXPECT_EQ(t.crack("by-id")->payload["v"], 1);
  EXPECT_EQ(t.crack("by-key")->payload["v"], 2);
  EXPECT_FALSE(*t.exists("ignored"));
  // The document is stored whole, its id field included.
  EXPECT_EQ(t.crack("by-key")->payload["key"], "by-key");

  for (json bad :
       {json{{"v", 1}}, json{{"id", 5}}, json{{"key", nullptr}}, json::array({1}), json("id")}) {
    auto version = t.stash(bad);
    ASSERT_FALSE(version.ok()) << bad.dump();
    EXPECT_EQ(version.error().kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(version.error().message().find("tree `t`"), std::string::npos);
  }
  EXPECT_EQ(*t.count(), 2u);
}

TEST_F(StoreNut, AFutureExpiryIsStoredAndReturned) {
  Store store = open();
  Tree t = tree(store, "t");
  ASSERT_TRUE(t.stash("e", 1, StashOptions{.expires_at_ns = 4102444800000000000}).ok());
  EXPECT_EQ(t.crack("e")->expires_at_ns, std::optional<uint64_t>(4102444800000000000));
  ASSERT_TRUE(t.stash("e", 2).ok());
  EXPECT_FALSE(t.crack("e")->expires_at_ns.has_value());
}

TEST_F(StoreNut, BinaryIdsAndScalarPayloads) {
  Store store = open();
  Tree t = tree(store, "t");
  std::string id("a\0b\xff", 4);
  ASSERT_TRUE(t.stash(id, "just a string").ok());
  ASSERT_TRUE(t.stash(std::string(511, 'x'), nullptr).ok());
  EXPECT_EQ(t.crack(id)->payload, "just a string");
  EXPECT_TRUE(t.crack(std::string(511, 'x'))->payload.is_null());
}

TEST_F(StoreNut, TreesFromAnotherStoreAreRefusedInsideTransactions) {
  Store store = open();
  auto other = Store::open_memory();
  ASSERT_TRUE(other.ok());
  Tree foreign = tree(*other, "t");
  Status status = store.write([&](WriteTxn& txn) -> Status {
    auto version = txn.stash(foreign, "k", 1);
    if (!version.ok()) return std::move(version).error();
    return {};
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_FALSE(*foreign.exists("k"));
}

}  // namespace
}  // namespace wasm_sandbox::store
