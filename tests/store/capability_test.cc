// StoreCapability from the host side (no wasm): namespaces that never see each other, quotas
// on bytes and keys that are exact across overwrite and erase and survive reopening, and bad
// input that changes nothing. The imported functions are tested in capability_guest_test.cc.
#include <functional>
#include <random>
#include <thread>

#include "store/capability_fixture.h"
#include "wasm_sandbox/store_capability.h"

namespace wasm_sandbox::store {
namespace {

using json = nlohmann::json;
using testing::raw_put;
using testing::StoreDir;

class Capability : public testing::CapabilityFixture {
 protected:
  // Every nut id in the data tree, as the host sees it.
  std::vector<std::string> raw_ids() {
    std::vector<std::string> ids;
    Tree guests = tree(*store_, "guests");
    EXPECT_TRUE(guests
                    .scan({},
                          [&](Nut& nut) {
                            ids.push_back(nut.id);
                            return true;
                          })
                    .ok());
    return ids;
  }
  static GuestUsage usage(const StoreCapability& capability) {
    auto usage = capability.usage();
    if (!usage.ok()) ADD_FAILURE() << usage.error().message();
    return usage.ok() ? *usage : GuestUsage{};
  }
};

TEST_F(Capability, PutGetEraseAndCompactText) {
  StoreCapability alice = grant("alice");
  EXPECT_EQ(usage(alice), (GuestUsage{0, 0}));
  ASSERT_TRUE(alice.put("best", R"( { "score" : 42, "by": "ada" } )").ok());
  EXPECT_EQ(*alice.get("best"), R"({"by":"ada","score":42})");
  EXPECT_TRUE(*alice.exists("best"));
  EXPECT_FALSE(*alice.exists("worst"));
  EXPECT_EQ(usage(alice), (GuestUsage{4 + 23, 1}));
  ASSERT_TRUE(alice.erase("best").ok());
  EXPECT_EQ(alice.get("best").error().kind(), ErrorKind::NotFound);
  EXPECT_EQ(alice.get("best").error().message(),
            "tree `guests`, namespace `alice`, key `best`: no such key");
  EXPECT_EQ(alice.erase("best").error().kind(), ErrorKind::NotFound);
  EXPECT_EQ(usage(alice), (GuestUsage{0, 0}));
}

TEST_F(Capability, BadNamespacesAndTreesAreRefused) {
  for (std::string_view bad :
       {std::string_view(""), std::string_view("a/b"), std::string_view("a\0b", 3),
        std::string_view("-a"), std::string_view("../x"), std::string_view(".hidden"),
        std::string_view("a b")}) {
    auto capability = StoreCapability::create(*store_, "guests", bad);
    ASSERT_FALSE(capability.ok()) << bad;
    EXPECT_EQ(capability.error().kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(capability.error().message().find("namespace"), std::string::npos);
  }
  EXPECT_FALSE(StoreCapability::create(*store_, "guests", std::string(65, 'a')).ok());
  EXPECT_TRUE(StoreCapability::create(*store_, "guests", std::string(64, 'a')).ok());
  EXPECT_FALSE(StoreCapability::create(*store_, "$meta", "a").ok());
  auto long_tree = StoreCapability::create(*store_, std::string(59, 't'), "a");
  ASSERT_FALSE(long_tree.ok());
  EXPECT_NE(long_tree.error().message().find("usage tree"), std::string::npos);
  EXPECT_TRUE(StoreCapability::create(*store_, std::string(58, 't'), "a").ok());
  EXPECT_FALSE(StoreCapability::create(*store_, "guests.usage", "a").ok());
}

// Keys meant to escape: path tricks, the other namespace's prefix, separators, NULs. Each
// stays a key of its own namespace; no other namespace (including ones whose names extend or
// are extended by it) sees it.
TEST_F(Capability, HostileKeysStayInTheirNamespace) {
  StoreCapability a = grant("a");
  StoreCapability ab = grant("ab");
  StoreCapability a_dot = grant("a.");
  const std::vector<std::string> hostile = {"../ab/k",
                                            "/k",
                                            "ab/k",
                                            "../../k",
                                            std::string("\0k", 2),
                                            std::string("k\0", 2),
                                            "a/k",
                                            "k/..",
                                            "\xff\xfe",
                                            "/",
                                            std::string(1, '\0'),
                                            "..",
                                            std::string(256, '/')};
  for (const std::string& key : hostile) {
    ASSERT_TRUE(a.put(key, R"({"owner":"a"})").ok()) << key.size();
  }
  ASSERT_TRUE(ab.put("k", R"({"owner":"ab"})").ok());
  for (const std::string& key : hostile) {
    EXPECT_EQ(*a.get(key), R"({"owner":"a"})");
    EXPECT_FALSE(*ab.exists(key));
    EXPECT_FALSE(*a_dot.exists(key));
  }
  EXPECT_EQ(*ab.get("k"), R"({"owner":"ab"})");
  EXPECT_EQ(a.get("k").error().kind(), ErrorKind::NotFound);
  EXPECT_EQ(ab.erase("ab/k").error().kind(), ErrorKind::NotFound);
  EXPECT_EQ(*ab.keys(), std::vector<std::string>{"k"});
  EXPECT_TRUE(a_dot.keys()->empty());
  EXPECT_EQ(a.keys()->size(), hostile.size());
  EXPECT_EQ(usage(a).keys, hostile.size());
  EXPECT_EQ(usage(ab).keys, 1u);
  // On disk every id is `<namespace>/<key>`.
  size_t under_a = 0;
  for (const std::string& id : raw_ids()) {
    ASSERT_TRUE(id.starts_with("a/") || id == "ab/k") << id;
    under_a += id.starts_with("a/");
  }
  EXPECT_EQ(under_a, hostile.size());
}

TEST_F(Capability, BadKeysChangeNothing) {
  StoreCapability alice = grant("alice");
  ASSERT_TRUE(alice.put("k", "1").ok());
  for (size_t size : {size_t{0}, size_t{257}, size_t{511}, size_t{512}, size_t{600}}) {
    const std::string key(size, 'k');
    Status put = alice.put(key, "2");
    ASSERT_FALSE(put.ok()) << size;
    EXPECT_EQ(put.error().kind(), ErrorKind::InvalidArgument);
    EXPECT_EQ(alice.get(key).error().kind(), ErrorKind::InvalidArgument);
    EXPECT_EQ(alice.erase(key).error().kind(), ErrorKind::InvalidArgument);
    EXPECT_EQ(alice.exists(key).error().kind(), ErrorKind::InvalidArgument);
  }
  EXPECT_EQ(alice.put("", "1").error().message(), "tree `guests`, namespace `alice`: empty key");
  EXPECT_NE(alice.put(std::string(300, 'k'), "1")
                .error()
                .message()
                .find("key of 300 bytes is longer than the 256 allowed"),
            std::string::npos);
  EXPECT_TRUE(alice.put(std::string(256, 'k'), "3").ok());
  EXPECT_EQ(usage(alice), (GuestUsage{1 + 1 + 256 + 1, 2}));
  EXPECT_EQ(*alice.get("k"), "1");
}

TEST_F(Capability, MalformedJsonChangesNothing) {
  StoreCapability alice = grant("alice");
  ASSERT_TRUE(alice.put("k", R"({"v":1})").ok());
  const GuestUsage before = usage(alice);
  for (std::string_view text :
       {std::string_view(R"({"v": )"), std::string_view(""), std::string_view("{} {}"),
        std::string_view("[1,]"), std::string_view("nul"), std::string_view("\"\xff\""),
        std::string_view("{\"v\":1}\0", 8), std::string_view("'single'")}) {
    Status put = alice.put("k", text);
    ASSERT_FALSE(put.ok()) << text;
    EXPECT_EQ(put.error().kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(put.error().message().find("namespace `alice`, key `k`: malformed JSON"),
              std::string::npos)
        << put.error().message();
    EXPECT_FALSE(alice.put("new", text).ok());
  }
  EXPECT_EQ(*alice.get("k"), R"({"v":1})");
  EXPECT_FALSE(*alice.exists("new"));
  EXPECT_EQ(usage(alice), before);
}

TEST_F(Capability, NestingDeeperThanTheLimitIsRefusedBeforeParsing) {
  StoreCapability alice = grant("alice");
  const size_t limit = StoreCapability::kMaxJsonDepth;
  auto nested = [](size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_TRUE(alice.put("ok", nested(limit)).ok());
  Status deep = alice.put("deep", nested(limit + 1));
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_NE(deep.error().message().find("nested deeper than 64"), std::string::npos);
  // A hostile 60,000-deep document is refused cheaply, never recursed into.
  EXPECT_FALSE(alice.put("deep", std::string(60000, '[')).ok());
  // Brackets inside strings, escaped quotes included, do not count.
  const std::string in_string = "[\"" + std::string(100, '[') + "\\\"" + "\"]";
  EXPECT_TRUE(alice.put("text", in_string).ok());
  EXPECT_EQ(*alice.keys(), (std::vector<std::string>{"ok", "text"}));
}

TEST_F(Capability, DocumentsOverTheLimitAreTooLarge) {
  StoreCapability alice =
      grant("alice", {.max_bytes = 1 << 20, .max_keys = 10, .max_document_bytes = 100});
  Status put = alice.put("k", "\"" + std::string(99, 'x') + "\"");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().kind(), ErrorKind::LimitExceeded);
  EXPECT_NE(put.error().message().find("JSON text of 101 bytes is longer than the 100 allowed"),
            std::string::npos)
      << put.error().message();
  EXPECT_TRUE(alice.put("k", "\"" + std::string(98, 'x') + "\"").ok());
  EXPECT_EQ(usage(alice), (GuestUsage{1 + 100, 1}));
}

TEST_F(Capability, ByteQuotaCountsKeysAndCompactTextExactly) {
  // Each put of a 10-byte key and "[...]" of n zeros costs 10 + 2n + 1 bytes (n >= 1).
  StoreCapability alice = grant("alice", {.max_bytes = 100, .max_keys = 100});
  auto zeros = [](size_t n) {
    std::string text = "[ 0";  // spaces are not counted: the compact form is
    for (size_t i = 1; i < n; ++i) text += ", 0";
    return text + " ]";
  };
  ASSERT_TRUE(alice.put("key-000001", zeros(20)).ok());  // 51
  ASSERT_TRUE(alice.put("key-000002", zeros(19)).ok());  // 49: exactly 100
  EXPECT_EQ(usage(alice), (GuestUsage{100, 2}));
  Status over = alice.put("k", "0");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().kind(), ErrorKind::LimitExceeded);
  EXPECT_EQ(over.error().message(),
            "tree `guests`, namespace `alice`, key `k`: this put would use 102 bytes (100 "
            "now), over the quota of 100");
  EXPECT_FALSE(*alice.exists("k"));
  // Growing an existing nut past the quota fails and keeps the old value.
  EXPECT_EQ(alice.put("key-000002", zeros(20)).error().kind(), ErrorKind::LimitExceeded);
  EXPECT_EQ(*alice.get("key-000002"), json::parse(zeros(19)).dump());
  EXPECT_EQ(usage(alice), (GuestUsage{100, 2}));
  // Shrinking one frees bytes; growing within the quota uses them; an erase frees the rest.
  ASSERT_TRUE(alice.put("key-000001", zeros(5)).ok());  // 51 -> 21
  EXPECT_EQ(usage(alice), (GuestUsage{70, 2}));
  ASSERT_TRUE(alice.put("key-000001", zeros(20)).ok());  // back to 51
  EXPECT_EQ(usage(alice), (GuestUsage{100, 2}));
  ASSERT_TRUE(alice.erase("key-000002").ok());
  EXPECT_EQ(usage(alice), (GuestUsage{51, 1}));
  ASSERT_TRUE(alice.put("k", "0").ok());
  EXPECT_EQ(usage(alice), (GuestUsage{53, 2}));
  EXPECT_EQ(*alice.recount(), usage(alice));
}

TEST_F(Capability, KeyQuotaCountsNewKeysOnly) {
  StoreCapability alice = grant("alice", {.max_bytes = 1 << 20, .max_keys = 3});
  for (const char* key : {"a", "b", "c"}) ASSERT_TRUE(alice.put(key, "1").ok());
  Status fourth = alice.put("d", "1");
  ASSERT_FALSE(fourth.ok());
  EXPECT_EQ(fourth.error().kind(), ErrorKind::LimitExceeded);
  EXPECT_EQ(fourth.error().message(),
            "tree `guests`, namespace `alice`, key `d`: a new key would make 4 keys, over the "
            "quota of 3");
  EXPECT_TRUE(alice.put("c", R"({"overwrite":"is fine"})").ok());
  EXPECT_EQ(usage(alice).keys, 3u);
  ASSERT_TRUE(alice.erase("a").ok());
  EXPECT_TRUE(alice.put("d", "1").ok());
  EXPECT_EQ(*alice.keys(), (std::vector<std::string>{"b", "c", "d"}));
}

// A host that lowers a quota below what a namespace holds: writes that shrink the usage, or
// keep it, still work; writes that grow it do not.
TEST_F(Capability, UnderALoweredQuotaOnlyShrinkingWritesSucceed) {
  {
    StoreCapability big = grant("alice");
    ASSERT_TRUE(big.put("k", "\"" + std::string(50, 'x') + "\"").ok());
    ASSERT_TRUE(big.put("j", "1").ok());
  }
  StoreCapability small = grant("alice", {.max_bytes = 10, .max_keys = 1});
  EXPECT_EQ(small.put("k", "\"" + std::string(51, 'x') + "\"").error().kind(),
            ErrorKind::LimitExceeded);
  EXPECT_TRUE(small.put("k", "\"" + std::string(50, 'y') + "\"").ok());  // same size
  EXPECT_TRUE(small.put("k", "\"" + std::string(20, 'y') + "\"").ok());  // smaller
  EXPECT_EQ(small.put("new", "1").error().kind(), ErrorKind::LimitExceeded);
  EXPECT_TRUE(small.erase("j").ok());
  EXPECT_EQ(usage(small), (GuestUsage{1 + 22, 1}));
}

TEST_F(Capability, UsageSurvivesReopening) {
  GuestQuota quota{.max_bytes = 40, .max_keys = 5};
  {
    StoreCapability alice = grant("alice", quota);
    StoreCapability bob = grant("bob", quota);
    ASSERT_TRUE(alice.put("a", "\"" + std::string(30, 'x') + "\"").ok());  // 33
    ASSERT_TRUE(alice.put("b", "[1,2]").ok());                             // 6
    ASSERT_TRUE(bob.put("z", "{}").ok());
    ASSERT_TRUE(alice.erase("b").ok());
    ASSERT_TRUE(alice.put("c", "1").ok());  // 2
  }
  store_.reset();
  store_ = open();
  StoreCapability alice = grant("alice", quota);
  EXPECT_EQ(usage(alice), (GuestUsage{35, 2}));
  EXPECT_EQ(usage(grant("bob", quota)), (GuestUsage{3, 1}));
  // Still enforced from the persisted usage: 35 + 6 > 40.
  EXPECT_EQ(alice.put("d", "[1,2]").error().kind(), ErrorKind::LimitExceeded);
  EXPECT_TRUE(alice.put("d", "[1]").ok());  // 39
  EXPECT_EQ(*alice.recount(), (GuestUsage{39, 3}));
}

// Random puts, overwrites and erases of varied documents: the usage always equals the sum
// over the stored nuts, as a model computes it and as recount() recomputes it.
TEST_F(Capability, UsageIsExactUnderRandomOperations) {
  StoreCapability alice = grant("alice", {.max_bytes = 1 << 20, .max_keys = 1000});
  StoreCapability bob = grant("bob");
  ASSERT_TRUE(bob.put("x", "[1,2,3]").ok());
  const std::vector<std::string> documents = {"0",
                                              "-17",
                                              "18446744073709551615",
                                              "1.5",
                                              "-0.0",
                                              "1e300",
                                              "3.0",
                                              "0.1",
                                              R"("caf\u00e9 \ud83d\ude00")",
                                              "\"\\\"\\\\\\n\"",
                                              "[]",
                                              "{}",
                                              "null",
                                              "true",
                                              R"({"b":[1,{"c":null}],"a":"x"})",
                                              R"({"a":1,"a":2})",
                                              "[1.25e-5, 123456789012]"};
  std::map<std::string, std::string> model;  // key -> compact text
  std::mt19937 random(7);
  for (int step = 0; step < 400; ++step) {
    const std::string key = "k" + std::to_string(random() % 12);
    if (random() % 4 == 0) {
      Status erased = alice.erase(key);
      EXPECT_EQ(erased.ok(), model.erase(key) == 1);
    } else {
      const std::string& text = documents[random() % documents.size()];
      ASSERT_TRUE(alice.put(key, text).ok()) << text;
      model[key] = json::parse(text).dump();
    }
    GuestUsage expected;
    for (const auto& [k, text] : model)
      expected = {expected.bytes + k.size() + text.size(), expected.keys + 1};
    ASSERT_EQ(usage(alice), expected) << "step " << step;
  }
  for (const auto& [key, text] : model) EXPECT_EQ(*alice.get(key), text);
  const GuestUsage kept = usage(alice);
  EXPECT_EQ(*alice.recount(), kept);
  EXPECT_EQ(usage(bob), (GuestUsage{1 + 7, 1}));
}

// Two capabilities for one namespace (two instances of one sandbox) share one usage.
TEST_F(Capability, OneNamespaceTwoHandlesShareTheUsage) {
  GuestQuota quota{.max_bytes = 1000, .max_keys = 2};
  StoreCapability first = grant("alice", quota);
  StoreCapability second = grant("alice", quota);
  ASSERT_TRUE(first.put("a", "1").ok());
  ASSERT_TRUE(second.put("b", "1").ok());
  EXPECT_EQ(first.put("c", "1").error().kind(), ErrorKind::LimitExceeded);
  EXPECT_EQ(*second.get("a"), "1");
  EXPECT_EQ(usage(first), (GuestUsage{4, 2}));
}

// Writers on several threads, into one namespace through two handles and into another: every
// put and erase is accounted once, whatever the interleaving.
TEST_F(Capability, UsageStaysExactUnderConcurrentWriters) {
  GuestQuota quota{.max_bytes = 1 << 20, .max_keys = 150};
  StoreCapability first = grant("alice", quota);
  StoreCapability second = grant("alice", quota);
  StoreCapability other = grant("bob", quota);
  auto work = [](const StoreCapability& capability, int seed) {
    for (int i = 0; i < 200; ++i) {
      const std::string key = "k" + std::to_string((i * 7 + seed) % 100);
      if (i % 5 == 4) {
        (void)capability.erase(key);  // NotFound when the other thread got there first
      } else {
        EXPECT_TRUE(capability.put(key, "[" + std::to_string(i % 13) + "]").ok());
      }
    }
  };
  std::thread a(work, std::cref(first), 0);
  std::thread b(work, std::cref(second), 3);
  std::thread c(work, std::cref(other), 0);
  a.join();
  b.join();
  c.join();
  const GuestUsage alice = usage(first);
  EXPECT_EQ(*first.recount(), alice);
  EXPECT_EQ(alice.keys, first.keys()->size());
  const GuestUsage bob = usage(other);
  EXPECT_EQ(*other.recount(), bob);
}

TEST_F(Capability, KeysListsInOrderWithPrefixAfterAndLimit) {
  StoreCapability alice = grant("alice");
  StoreCapability alicia = grant("alicia");
  for (const char* key : {"score:b", "score:a", "visits", "score:c", "scorer", "s"}) {
    ASSERT_TRUE(alice.put(key, "1").ok());
  }
  ASSERT_TRUE(alicia.put("score:zz", "1").ok());
  EXPECT_EQ(*alice.keys(),
            (std::vector<std::string>{"s", "score:a", "score:b", "score:c", "scorer", "visits"}));
  EXPECT_EQ(*alice.keys("score:"), (std::vector<std::string>{"score:a", "score:b", "score:c"}));
  EXPECT_EQ(*alice.keys("score:", "score:a"), (std::vector<std::string>{"score:b", "score:c"}));
  EXPECT_EQ(*alice.keys("score:", "score:bb"), (std::vector<std::string>{"score:c"}));
  EXPECT_EQ(*alice.keys("score:", "a"),
            (std::vector<std::string>{"score:a", "score:b", "score:c"}));
  EXPECT_TRUE(alice.keys("score:", "score:c")->empty());
  EXPECT_EQ(*alice.keys({}, {}, 2), (std::vector<std::string>{"s", "score:a"}));
  EXPECT_EQ(*alice.keys({}, "visits"), std::vector<std::string>{});
  EXPECT_EQ(alice.keys(std::string(257, 'p')).error().kind(), ErrorKind::InvalidArgument);
  EXPECT_EQ(alice.keys({}, std::string(257, 'p')).error().kind(), ErrorKind::InvalidArgument);
}

// The host stashes into the tree behind the capability's back: not counted until recount().
TEST_F(Capability, RecountRepairsAfterTheHostWritesDirectly) {
  StoreCapability alice = grant("alice");
  ASSERT_TRUE(alice.put("a", "1").ok());
  Tree guests = tree(*store_, "guests");
  ASSERT_TRUE(guests.stash("alice/planted", json{{"v", 1}}).ok());
  EXPECT_EQ(usage(alice), (GuestUsage{2, 1}));
  EXPECT_EQ(*alice.get("planted"), R"({"v":1})");
  EXPECT_EQ(*alice.recount(), (GuestUsage{2 + 7 + 7, 2}));
  EXPECT_EQ(usage(alice), (GuestUsage{16, 2}));
  // A usage record that is not one is an Io error naming the repair.
  Tree usage_tree = tree(*store_, "guests.usage");
  ASSERT_TRUE(usage_tree.stash("alice", json{{"bytes", "many"}}).ok());
  auto broken = alice.usage();
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().kind(), ErrorKind::Io);
  EXPECT_NE(broken.error().message().find("recount"), std::string::npos);
  EXPECT_EQ(alice.put("b", "1").error().kind(), ErrorKind::Io);
  EXPECT_EQ(*alice.recount(), (GuestUsage{16, 2}));
  EXPECT_TRUE(alice.put("b", "1").ok());
}

// A stored value that does not decode: get is an Io error; erase removes it and recounts.
TEST_F(Capability, CorruptValuesCanBeErased) {
  {
    StoreCapability alice = grant("alice");
    ASSERT_TRUE(alice.put("good", "[1]").ok());
    ASSERT_TRUE(alice.put("bad", "[2]").ok());
  }
  store_.reset();
  raw_put(dir_, "guests", "alice/bad", "abc");
  store_ = open();
  StoreCapability alice = grant("alice");
  auto bad = alice.get("bad");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind(), ErrorKind::Io);
  EXPECT_NE(bad.error().message().find("corrupt stored value"), std::string::npos);
  EXPECT_EQ(alice.put("bad", "3").error().kind(), ErrorKind::Io);
  ASSERT_TRUE(alice.erase("bad").ok());
  EXPECT_EQ(usage(alice), (GuestUsage{4 + 3, 1}));
  EXPECT_EQ(*alice.get("good"), "[1]");
}

}  // namespace
}  // namespace wasm_sandbox::store
