// Raw reads (nut_view.h): crack_raw, crack_view and scan_view return what crack and scan do,
// undecoded; their errors; and the reader pool's reuse of live snapshots never shows a stale
// one nor keeps writers from reusing pages.
#include <lmdb.h>

#include <limits>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/store_test_util.h"

namespace wasm_sandbox::store {
namespace {

using json = nlohmann::json;
using testing::raw_put;
using testing::StoreDir;
using StoreRawRead = StoreDir;

std::string msgpack_of(const json& value) {
  auto bytes = json::to_msgpack(value);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

TEST_F(StoreRawRead, CrackRawIsCrackUndecoded) {
  Store store = open();
  Tree t = tree(store, "docs");
  const json doc = {{"name", "Ada \"Countess\" Lovelace\n"},
                    {"tags", {"math", "\xc3\xa9"}},
                    {"score", 98.25},
                    {"big", std::numeric_limits<uint64_t>::max()},
                    {"nested", {{"x", nullptr}, {"y", {1, -2, 3.5}}}}};
  ASSERT_TRUE(t.stash("d1", doc, {.expires_at_ns = 4102444800000000000}).ok());
  ASSERT_TRUE(t.stash("d1", doc, {.expires_at_ns = 4102444800000000000}).ok());
  auto nut = t.crack("d1");
  auto raw = t.crack_raw("d1");
  ASSERT_TRUE(raw.ok()) << raw.error().message();
  EXPECT_EQ(raw->id, "d1");
  EXPECT_EQ(raw->msgpack, msgpack_of(doc));
  EXPECT_EQ(raw->version, 2u);
  EXPECT_EQ(raw->timestamp_ns, nut->timestamp_ns);
  EXPECT_EQ(raw->expires_at_ns, std::optional<uint64_t>(4102444800000000000));
  EXPECT_EQ(raw->payload().value(), nut->payload);
  EXPECT_EQ(raw->json_text().value(), doc.dump());
  std::string text = "[";
  ASSERT_TRUE(raw->append_json_text(&text).ok());
  EXPECT_EQ(text, "[" + doc.dump());
}

TEST_F(StoreRawRead, RandomDocumentsRenderAsDump) {
  Store store = open();
  Tree t = tree(store, "docs");
  std::mt19937_64 rng(5);
  for (int i = 0; i < 200; ++i) {
    json doc = {{"i", i},
                {"f", std::ldexp(double(rng() % 100000), int(rng() % 60) - 30)},
                {"s", std::string(rng() % 40, char(' ' + rng() % 90))},
                {"a", {rng(), -static_cast<int64_t>(rng() >> 1), "\u00e9\u20ac\t"}}};
    const std::string id = "n" + std::to_string(i);
    ASSERT_TRUE(t.stash(id, doc).ok());
    auto raw = t.crack_raw(id);
    ASSERT_TRUE(raw.ok());
    EXPECT_EQ(raw->json_text().value(), doc.dump()) << i;
    EXPECT_EQ(raw->payload().value(), doc) << i;
  }
}

TEST_F(StoreRawRead, CrackViewPointsIntoTheTransaction) {
  std::optional<RawNut> copied;
  {
    Store store = open();
    Tree t = tree(store, "docs");
    ASSERT_TRUE(t.stash("a", {{"v", 1}}).ok());
    Status read = store.read([&](const ReadTxn& txn) {
      auto view = txn.crack_view(t, "a");
      ASSERT_TRUE(view.ok());
      EXPECT_EQ(view->id, "a");
      EXPECT_EQ(view->version, 1u);
      EXPECT_EQ(view->json_text().value(), R"({"v":1})");
      copied = RawNut::from(*view);
    });
    ASSERT_TRUE(read.ok());

    int calls = 0;
    EXPECT_TRUE(t.crack_view("a", [&](const NutView& nut) {
                   ++calls;
                   EXPECT_EQ(nut.payload().value(), json({{"v", 1}}));
                 }).ok());
    EXPECT_EQ(calls, 1);
    Status missing = t.crack_view("b", [&](const NutView&) { ++calls; });
    EXPECT_EQ(missing.error().kind(), ErrorKind::NotFound);
    EXPECT_EQ(calls, 1);
  }
  // The copy outlives the transaction and the store.
  EXPECT_EQ(copied->json_text().value(), R"({"v":1})");
  EXPECT_EQ(copied->view().msgpack, copied->msgpack);
}

TEST_F(StoreRawRead, AWriteTransactionSeesItsOwnWrites) {
  Store store = open();
  Tree t = tree(store, "docs");
  Status written = store.write([&](WriteTxn& txn) -> Status {
    EXPECT_TRUE(txn.stash(t, "a", {{"v", 2}}).ok());
    auto view = txn.crack_view(t, "a");
    EXPECT_TRUE(view.ok());
    EXPECT_EQ(view->json_text().value(), R"({"v":2})");
    return {};
  });
  ASSERT_TRUE(written.ok());
}

TEST_F(StoreRawRead, ErrorsAreCracks) {
  Store store = open();
  Tree t = tree(store, "t");
  auto missing = t.crack_raw("nope");
  EXPECT_EQ(missing.error().kind(), ErrorKind::NotFound);
  EXPECT_EQ(missing.error().message(), "tree `t`, id `nope`: no such nut");
  EXPECT_EQ(t.crack_raw("").error().kind(), ErrorKind::InvalidArgument);
  EXPECT_EQ(t.crack_raw(std::string(600, 'x')).error().kind(), ErrorKind::InvalidArgument);
  Store other = std::move(Store::open_memory()).value();
  Tree foreign = tree(other, "t");
  Status read = store.read([&](const ReadTxn& txn) {
    EXPECT_EQ(txn.crack_raw(foreign, "a").error().kind(), ErrorKind::InvalidArgument);
    EXPECT_EQ(txn.crack_view(foreign, "a").error().kind(), ErrorKind::InvalidArgument);
    EXPECT_EQ(txn.scan_view(foreign, {}, [](const NutView&) { return true; }).error().kind(),
              ErrorKind::InvalidArgument);
  });
  EXPECT_TRUE(read.ok());
}

TEST_F(StoreRawRead, CorruptHeadersFailTheReadCorruptPayloadsTheirDecoding) {
  {
    Store store = open();
    ASSERT_TRUE(tree(store, "t").stash("fine", 1).ok());
  }
  raw_put(dir_, "t", "short", "abc");
  raw_put(dir_, "t", "body",
          std::string("\0\1\0\0\0\0\0\0\0\1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\xc1", 26));
  Store store = open();
  Tree t = tree(store, "t");
  auto bad_header = t.crack_raw("short");
  EXPECT_EQ(bad_header.error().kind(), ErrorKind::Io);
  EXPECT_EQ(bad_header.error().message(), "tree `t`, id `short`: corrupt stored value");
  // The payload is returned as stored; decoding or rendering it reports it.
  auto bad_body = t.crack_raw("body");
  ASSERT_TRUE(bad_body.ok());
  EXPECT_EQ(bad_body->msgpack, "\xc1");
  EXPECT_EQ(bad_body->version, 1u);
  for (const Error& error : {bad_body->payload().error(), bad_body->json_text().error()}) {
    EXPECT_EQ(error.kind(), ErrorKind::Io);
    EXPECT_EQ(error.message(), "nut `body`: corrupt payload (not one valid MessagePack value)");
  }
  std::string text = "kept";
  EXPECT_FALSE(bad_body->append_json_text(&text).ok());
  EXPECT_EQ(text, "kept");
  // A view scan stops at a corrupt header, as scan does.
  std::vector<std::string> seen;
  Status scanned = t.scan_view({}, [&](const NutView& nut) {
    seen.emplace_back(nut.id);
    return true;
  });
  EXPECT_EQ(scanned.error().kind(), ErrorKind::Io);
  EXPECT_EQ(seen, (std::vector<std::string>{"body", "fine"}));
}

TEST_F(StoreRawRead, ScanViewVisitsWhatScanVisits) {
  Store store = open();
  Tree t = tree(store, "t");
  for (const char* id : {"user:3", "item:1", "user:1", "user:10", "user:2", "usex", "a", "z"}) {
    ASSERT_TRUE(t.stash(id, {{"id", id}}).ok());
  }
  for (const ScanOptions& options :
       {ScanOptions{}, ScanOptions{.prefix = "user:"}, ScanOptions{.from = "item", .to = "user:2"},
        ScanOptions{.prefix = "user:", .from = "user:10"}, ScanOptions{.limit = 3}}) {
    std::vector<std::string> scanned, viewed;
    ASSERT_TRUE(t.scan(options, [&](Nut& nut) {
                   scanned.push_back(nut.id + nut.payload.dump());
                   return true;
                 }).ok());
    ASSERT_TRUE(t.scan_view(options, [&](const NutView& nut) {
                   viewed.push_back(std::string(nut.id) + nut.json_text().value());
                   return true;
                 }).ok());
    EXPECT_EQ(viewed, scanned);
  }
  int visited = 0;
  ASSERT_TRUE(t.scan_view({}, [&](const NutView&) { return ++visited < 2; }).ok());
  EXPECT_EQ(visited, 2);
}

// The pool hands out idle transactions still on the newest snapshot without renewing them:
// every commit must still be seen by the reads that follow it, on any thread.
TEST_F(StoreRawRead, ReadsAfterACommitSeeIt) {
  Store store = open();
  Tree t = tree(store, "t");
  for (uint64_t v = 1; v <= 50; ++v) {
    ASSERT_TRUE(t.stash("a", v).ok());
    EXPECT_EQ(t.crack_raw("a")->version, v);
    EXPECT_EQ(t.crack("a")->payload, v);
    std::thread reader([&] { EXPECT_EQ(t.crack_raw("a")->version, v); });
    reader.join();
  }
  // A tree created after the pool's transactions began is visible to the next read.
  Tree later = tree(store, "later");
  ASSERT_TRUE(later.stash("b", 1).ok());
  EXPECT_TRUE(later.crack_raw("b").ok());
  EXPECT_EQ(later.count().value(), 1u);
}

// Idle pooled readers must not pin old snapshots: with them pinned, every overwrite below would
// leave its old pages unreusable and the file would grow by pages per commit.
TEST_F(StoreRawRead, IdleReadersDoNotKeepWritersFromReusingPages) {
  {
    Store store = open({.durability = Durability::NoSync});
    Tree t = tree(store, "t");
    const json doc = {{"pad", std::string(1000, 'x')}};
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(t.stash("k" + std::to_string(i), doc).ok());
    for (int round = 0; round < 2000; ++round) {
      std::vector<std::thread> readers;  // leave several idle transactions in the pool
      if (round % 100 == 0) {
        for (int r = 0; r < 4; ++r) readers.emplace_back([&] { (void)t.crack_raw("k1"); });
      }
      for (auto& reader : readers) reader.join();
      (void)t.crack_raw("k2");
      ASSERT_TRUE(t.stash("k" + std::to_string(round % 20), doc).ok());
    }
  }
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), 0);
  ASSERT_EQ(mdb_env_set_maxdbs(env, 8), 0);
  ASSERT_EQ(mdb_env_open(env, dir_.c_str(), MDB_RDONLY, 0644), 0);
  MDB_envinfo info;
  ASSERT_EQ(mdb_env_info(env, &info), 0);
  mdb_env_close(env);
  // 20 documents of ~1 KB need ~10 pages; 2,000 pinned commits would need thousands.
  EXPECT_LT(info.me_last_pgno, 200u);
}

// Expired nuts are absent to the raw reads as to crack and scan.
TEST_F(StoreRawRead, ExpiredNutsAreAbsent) {
  Store store = open();
  Tree t = tree(store, "docs");
  ASSERT_TRUE(t.stash("gone", 1, {.expires_at_ns = 1}).ok());
  ASSERT_TRUE(t.stash("kept", 2).ok());
  EXPECT_EQ(t.crack_raw("gone").error().kind(), ErrorKind::NotFound);
  std::vector<std::string> seen;
  ASSERT_TRUE(t.scan_view({}, [&](const NutView& nut) {
                 seen.emplace_back(nut.id);
                 return true;
               }).ok());
  EXPECT_EQ(seen, std::vector<std::string>{"kept"});
}

}  // namespace
}  // namespace wasm_sandbox::store
