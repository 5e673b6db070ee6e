// Sync over HTTP in one process (store_http.h): a SyncServer on loopback serving one store, and
// a second store as its client. Pull, push, deletes, idempotency, late arrivals, paging, ids
// that are not UTF-8, and malformed requests and replies.
#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "store/http/wire.h"
#include "store/store_test_util.h"
#include "wasm_sandbox/store_http.h"

namespace wasm_sandbox::store {
namespace {

using json = nlohmann::json;

Store memory_store() { return std::move(Store::open_memory()).value(); }

// A change as a peer would send it.
Change change(std::string id, uint64_t version, uint64_t timestamp, json payload,
              bool deleted = false) {
  return testing::make_change(std::move(id), version, timestamp, std::move(payload), deleted);
}

// The payload's MessagePack in hex: exact, whatever the payload holds.
std::string payload_hex(const json& payload) {
  const std::vector<uint8_t> bytes = json::to_msgpack(payload);
  return wire::to_hex(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

// Every feed entry of `tree` (nuts and tombstones) by id: "version:timestamp:deleted:payload".
std::map<std::string, std::string> feed(const Tree& tree) {
  std::map<std::string, std::string> out;
  auto changes = tree.changes(0);
  EXPECT_TRUE(changes.ok());
  for (const Change& c : *changes) {
    out[c.nut.id] = std::to_string(c.nut.version) + ":" + std::to_string(c.nut.timestamp_ns) + ":" +
                    (c.deleted ? "deleted" : "live") + ":" + payload_hex(c.nut.payload);
  }
  return out;
}

class SyncHttp : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }

  void start(SyncServerConfig config) {
    if (server_) server_->stop();
    server_ = std::move(SyncServer::create(remote_store_, std::move(config))).value();
    auto port = server_->start();
    ASSERT_TRUE(port.ok()) << port.error().message();
    url_ = "http://127.0.0.1:" + std::to_string(*port);
  }

  // A POST as a client would send it; the reply's status and body.
  std::pair<int, json> post(const std::string& tree, const std::string& body) {
    httplib::Client client("127.0.0.1", server_->port());
    auto res = client.Post("/v1/trees/" + tree + "/changes", body, "application/json");
    EXPECT_TRUE(res);
    if (!res) return {0, nullptr};
    return {res->status, json::parse(res->body, nullptr, false)};
  }
  std::pair<int, json> get(const std::string& path) {
    httplib::Client client("127.0.0.1", server_->port());
    auto res = client.Get(path);
    EXPECT_TRUE(res);
    if (!res) return {0, nullptr};
    return {res->status, json::parse(res->body, nullptr, false)};
  }
  static std::string body(const std::string& peer, uint64_t since, uint64_t last_seq,
                          const std::vector<Change>& changes) {
    std::string items;
    for (const Change& c : changes) {
      if (!items.empty()) items += ',';
      wire::append_change(c, &items);
    }
    return "{\"peer\":\"" + peer + "\",\"since\":" + std::to_string(since) +
           ",\"last_seq\":" + std::to_string(last_seq) + ",\"changes\":[" + items + "]}";
  }

  Store remote_store_ = memory_store();
  Tree remote_ = std::move(remote_store_.tree("t")).value();
  Store local_store_ = memory_store();
  Tree local_ = std::move(local_store_.tree("t")).value();
  std::unique_ptr<SyncServer> server_;
  std::string url_;
};

TEST_F(SyncHttp, GetStoreNamesTheStoreAndItsLimits) {
  auto [status, reply] = get("/v1/store");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(reply["store"], remote_store_.id());
  EXPECT_EQ(reply["max_body_bytes"], SyncServerConfig{}.max_body_bytes);
}

TEST_F(SyncHttp, PullBringsNutsAndTombstonesAndOnlyWhatIsNew) {
  ASSERT_TRUE(remote_.stash("a", {{"n", 1}}).ok());
  ASSERT_TRUE(remote_.stash("b", {{"n", 2}}).ok());
  ASSERT_TRUE(remote_.stash("c", {{"n", 3}}, {.expires_at_ns = ~uint64_t{0} - 5}).ok());
  ASSERT_TRUE(remote_.toss("b").ok());
  auto first = pull_http(local_, url_, "t", judges::timestamp());
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_EQ(first->sent, 3u);
  EXPECT_EQ(first->taken, 3u);
  EXPECT_EQ(local_.crack("a")->payload, (json{{"n", 1}}));
  EXPECT_FALSE(*local_.exists("b"));
  EXPECT_EQ(local_.crack("c")->expires_at_ns, ~uint64_t{0} - 5);
  EXPECT_EQ(feed(local_), feed(remote_));  // the tombstone of b too
  auto again = pull_http(local_, url_, "t", judges::timestamp());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->sent, 0u);
  // The checkpoint is the one pull() keeps: the remote store's id and tree.
  uint64_t checkpoint = 0;
  ASSERT_TRUE(local_store_
                  .read([&](const ReadTxn& txn) {
                    checkpoint = *txn.checkpoint(local_, remote_store_.id() + ":t");
                  })
                  .ok());
  EXPECT_EQ(checkpoint, *remote_.last_seq());
}

TEST_F(SyncHttp, PushSendsChangesAndDeletesAndOnlyWhatIsNew) {
  ASSERT_TRUE(local_.stash("a", 1).ok());
  ASSERT_TRUE(local_.stash("b", 2).ok());
  auto first = push_http(local_, url_, "t");
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_EQ(first->sent, 2u);
  EXPECT_EQ(first->taken, 2u);
  EXPECT_EQ(remote_.crack("b")->payload, 2);
  EXPECT_EQ(push_http(local_, url_, "t")->sent, 0u);
  ASSERT_TRUE(local_.toss("a").ok());
  auto second = push_http(local_, url_, "t");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->sent, 1u);
  EXPECT_FALSE(*remote_.exists("a"));
  EXPECT_EQ(feed(local_), feed(remote_));
}

TEST_F(SyncHttp, ToAnotherTreeNameAndBothWays) {
  Tree other = std::move(remote_store_.tree("other")).value();
  ASSERT_TRUE(local_.stash("mine", 1).ok());
  ASSERT_TRUE(other.stash("theirs", 2).ok());
  auto report = sync_http(local_, url_, "other", judges::timestamp());
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report->pushed.taken, 1u);
  EXPECT_EQ(report->pulled.taken, 1u);
  EXPECT_EQ(report->pulled.duplicate, 1u);  // our own change, back from the server
  EXPECT_EQ(feed(local_), feed(other));
  EXPECT_EQ(*remote_.count(), 0u);
  // A delete on either side reaches the other.
  ASSERT_TRUE(other.toss("mine").ok());
  ASSERT_TRUE(local_.toss("theirs").ok());
  ASSERT_TRUE(sync_http(local_, url_, "other", judges::timestamp()).ok());
  EXPECT_EQ(*local_.count(), 0u);
  EXPECT_EQ(*other.count(), 0u);
  EXPECT_EQ(feed(local_), feed(other));
  auto quiet = sync_http(local_, url_, "other", judges::timestamp());
  ASSERT_TRUE(quiet.ok());
  EXPECT_EQ(quiet->pushed.taken + quiet->pulled.taken, 0u);
}

TEST_F(SyncHttp, APostAppliedTwiceChangesNothingTheSecondTime) {
  const std::vector<Change> page = {change("a", 1, 100, "x"), change("b", 2, 200, "y")};
  std::vector<Change> numbered = page;
  numbered[0].seq = 1;
  numbered[1].seq = 2;
  const std::string request = body("peer-1", 0, 2, numbered);
  auto [status, reply] = post("t", request);
  EXPECT_EQ(status, 200) << reply;
  EXPECT_EQ(reply, (json{{"taken", 2}, {"kept", 0}, {"duplicate", 0}, {"checkpoint", 2}}));
  const uint64_t seq = *remote_.last_seq();
  auto [again_status, again] = post("t", request);
  EXPECT_EQ(again_status, 200);
  EXPECT_EQ(again, (json{{"taken", 0}, {"kept", 0}, {"duplicate", 2}, {"checkpoint", 2}}));
  EXPECT_EQ(*remote_.last_seq(), seq);
  EXPECT_EQ(remote_.crack("b")->version, 2u);
  EXPECT_EQ(get("/v1/trees/t/checkpoint?peer=peer-1").second["seq"], 2);
}

TEST_F(SyncHttp, AReplayedOlderPageNeitherRegressesNorMovesTheCheckpointBack) {
  Change old = change("k", 1, 100, "old");
  old.seq = 1;
  Change newer = change("k", 2, 200, "new");
  newer.seq = 5;
  ASSERT_EQ(post("t", body("p", 0, 5, {newer})).first, 200);
  auto [status, reply] = post("t", body("p", 0, 1, {old}));  // late, and from before
  EXPECT_EQ(status, 200);
  EXPECT_EQ(reply["kept"], 1);
  EXPECT_EQ(reply["checkpoint"], 5);
  EXPECT_EQ(remote_.crack("k")->payload, "new");
}

TEST_F(SyncHttp, APageAfterTheCheckpointIsAGapAndRefused) {
  Change c = change("k", 1, 100, "v");
  c.seq = 9;
  auto [status, reply] = post("t", body("p", 8, 9, {c}));
  EXPECT_EQ(status, 409);
  EXPECT_EQ(reply["kind"], "gap");
  EXPECT_NE(reply["error"].get<std::string>().find("up to seq 0"), std::string::npos) << reply;
  EXPECT_EQ(*remote_.count(), 0u);
  EXPECT_EQ(get("/v1/trees/t/checkpoint?peer=p").second["seq"], 0);
}

TEST_F(SyncHttp, ALateArrivalDoesNotRegressEitherSide) {
  // The remote holds a newer state of k than the local store's.
  ASSERT_TRUE(local_.squabble(change("k", 1, 100, "old"), judges::timestamp()).ok());
  ASSERT_TRUE(remote_.squabble(change("k", 2, 300, "new"), judges::timestamp()).ok());
  auto pushed = push_http(local_, url_, "t");
  ASSERT_TRUE(pushed.ok()) << pushed.error().message();
  EXPECT_EQ(pushed->kept, 1u);
  EXPECT_EQ(remote_.crack("k")->payload, "new");
  auto pulled = pull_http(local_, url_, "t", judges::timestamp());
  ASSERT_TRUE(pulled.ok());
  EXPECT_EQ(pulled->taken, 1u);
  EXPECT_EQ(local_.crack("k")->payload, "new");
  // The old state arriving again, however late, is kept out on both sides.
  EXPECT_EQ(*local_.squabble(change("k", 1, 100, "old"), judges::timestamp()), Outcome::Kept);
  Change old = change("k", 1, 100, "old");
  old.seq = 1;
  EXPECT_EQ(post("t", body("late", 0, 1, {old})).second["kept"], 1);
  EXPECT_EQ(remote_.crack("k")->payload, "new");
  // A tombstone is not undone by a write it never saw.
  ASSERT_TRUE(remote_.toss("k").ok());
  ASSERT_TRUE(pull_http(local_, url_, "t", judges::timestamp()).ok());
  EXPECT_FALSE(*local_.exists("k"));
  Change stale = change("k", 2, 300, "new");
  stale.seq = 2;
  EXPECT_EQ(post("t", body("late", 1, 2, {stale})).second["kept"], 1);
  EXPECT_FALSE(*remote_.exists("k"));
}

TEST_F(SyncHttp, PullingAgainFromScratchChangesNothing) {
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(remote_.stash("k" + std::to_string(i), i).ok());
  ASSERT_TRUE(pull_http(local_, url_, "t", judges::timestamp()).ok());
  const uint64_t seq = *local_.last_seq();
  // The checkpoint lost: everything comes again, and is a duplicate.
  ASSERT_TRUE(local_store_
                  .write([&](WriteTxn& txn) {
                    return txn.set_checkpoint(local_, remote_store_.id() + ":t", 0);
                  })
                  .ok());
  auto again = pull_http(local_, url_, "t", judges::timestamp());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->sent, 50u);
  EXPECT_EQ(again->duplicate, 50u);
  EXPECT_EQ(*local_.last_seq(), seq);
}

TEST_F(SyncHttp, ManyPagesEachWay) {
  SyncServerConfig config;
  config.max_page = 700;            // GET pages cut to 700 changes...
  config.max_reply_bytes = 20'000;  // ...and to about 20 kB
  config.max_body_bytes = 30'000;   // POSTs split to fit
  start(config);
  for (int i = 0; i < 2500; ++i) {
    ASSERT_TRUE(
        remote_.stash("r" + std::to_string(i), {{"i", i}, {"pad", std::string(40, 'x')}}).ok());
  }
  for (int i = 0; i < 2500; ++i) ASSERT_TRUE(local_.stash("l" + std::to_string(i), i).ok());
  SyncHttpOptions options;
  options.page = 1000;
  auto pulled = pull_http(local_, url_, "t", judges::timestamp(), options);
  ASSERT_TRUE(pulled.ok()) << pulled.error().message();
  EXPECT_EQ(pulled->sent, 2500u);
  EXPECT_EQ(pulled->taken, 2500u);
  auto pushed = push_http(local_, url_, "t", options);
  ASSERT_TRUE(pushed.ok()) << pushed.error().message();
  EXPECT_EQ(pushed->sent, 5000u);  // ours, and the 2500 pulled (duplicates there)
  EXPECT_EQ(pushed->taken, 2500u);
  EXPECT_EQ(pushed->duplicate, 2500u);
  EXPECT_EQ(feed(local_), feed(remote_));
  EXPECT_EQ(*remote_.count(), 5000u);
}

TEST_F(SyncHttp, IdsAndPayloadsThatAreNotUtf8ArriveByteForByte) {
  const std::string odd_id("\xff\xfe\x00z", 4);
  const std::string odd_text("\xc0\xaf");
  ASSERT_TRUE(local_.stash(odd_id, {{"s", odd_text}}).ok());
  ASSERT_TRUE(remote_.stash(std::string("r\x80"), {{odd_text, 1}}).ok());
  auto report = sync_http(local_, url_, "t", judges::timestamp());
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(remote_.crack(odd_id)->payload["s"].get<std::string>(), odd_text);
  EXPECT_TRUE(local_.crack(std::string("r\x80"))->payload.contains(odd_text));
  EXPECT_EQ(feed(local_), feed(remote_));
}

TEST_F(SyncHttp, TheServersJudgeSettlesPushes) {
  SyncServerConfig config;
  config.judge = judges::local_wins();
  start(config);
  ASSERT_TRUE(remote_.stash("k", "theirs").ok());
  ASSERT_TRUE(local_.stash("k", "ours").ok());  // later: would win under timestamp()
  auto pushed = push_http(local_, url_, "t");
  ASSERT_TRUE(pushed.ok());
  EXPECT_EQ(pushed->kept, 1u);
  EXPECT_EQ(remote_.crack("k")->payload, "theirs");
}

// Every bad request is a 4xx with a one-line JSON error, and changes nothing.
TEST_F(SyncHttp, BadRequestsAreRefusedWithOneLineAndChangeNothing) {
  ASSERT_TRUE(remote_.stash("keep", 1).ok());
  const std::map<std::string, std::string> before = feed(remote_);
  struct Case {
    int status;
    std::string message;
    std::pair<int, json> reply;
  };
  Change good = change("a", 1, 100, "x");
  good.seq = 1;
  Change zero = change("z", 0, 100, "x");  // version 0: refused by squabble
  zero.seq = 2;
  std::string good_text;
  wire::append_change(good, &good_text);
  const std::vector<Case> cases = {
      {400, "tree name", get("/v1/trees/$meta/changes")},
      {400, "bad `since`", get("/v1/trees/t/changes?since=abc")},
      {400, "bad `since`", get("/v1/trees/t/changes?since=-1")},
      {400, "bad `limit`", get("/v1/trees/t/changes?limit=99999999999999999999")},
      {400, "give `peer`", get("/v1/trees/t/checkpoint")},
      {404, "no route", get("/v2/nothing")},
      {400, "malformed JSON", post("t", "{\"peer\":")},
      {400, "not a JSON object", post("t", "[]")},
      {400, "field `peer` is missing", post("t", "{\"since\":0,\"last_seq\":1,\"changes\":[]}")},
      {400, "field `since` is not an unsigned",
       post("t", "{\"peer\":\"p\",\"since\":-1,\"last_seq\":1,\"changes\":[]}")},
      {400, "field `changes` is missing", post("t", "{\"peer\":\"p\",\"since\":0,\"last_seq\":1}")},
      {400, "change 1 (id `b`): field `version` is missing",
       post("t", "{\"peer\":\"p\",\"since\":0,\"last_seq\":2,\"changes\":[" + good_text +
                     ",{\"id\":\"b\",\"timestamp\":1,\"expiry\":null,\"deleted\":false,"
                     "\"seq\":2,\"payload\":1}]}")},
      {400, "seqs must increase", post("t", body("p", 0, 5, {good, good}))},
      {400, "up to `last_seq`", post("t", body("p", 0, 0, {good}))},
      {400, "tree `t`, id `z`", post("t", body("p", 0, 2, {good, zero}))},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.reply.first, c.status) << c.message << ": " << c.reply.second;
    ASSERT_TRUE(c.reply.second.is_object()) << c.message;
    const std::string error = c.reply.second["error"];
    EXPECT_NE(error.find(c.message), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
  EXPECT_EQ(feed(remote_), before);
  EXPECT_EQ(get("/v1/trees/t/checkpoint?peer=p").second["seq"], 0);
}

TEST_F(SyncHttp, BodiesOverTheLimitAre413) {
  SyncServerConfig config;
  config.max_body_bytes = 4096;
  start(config);
  Change big = change("big", 1, 100, std::string(10'000, 'x'));
  big.seq = 1;
  auto [status, reply] = post("t", body("p", 0, 1, {big}));
  EXPECT_EQ(status, 413);
  EXPECT_EQ(reply["kind"], "too_large");
  EXPECT_EQ(*remote_.count(), 0u);
  // The client splits pages to fit, but one change that does not fit is an error.
  ASSERT_TRUE(local_.stash("big", std::string(10'000, 'x')).ok());
  auto pushed = push_http(local_, url_, "t");
  ASSERT_FALSE(pushed.ok());
  EXPECT_EQ(pushed.error().kind(), ErrorKind::LimitExceeded);
  EXPECT_NE(pushed.error().message().find(url_ + ": tree `t`: POST"), std::string::npos)
      << pushed.error().message();
}

TEST_F(SyncHttp, OnlyTheConfiguredTreesAreServed) {
  SyncServerConfig config;
  config.trees = {"t"};
  start(config);
  EXPECT_EQ(get("/v1/trees/other/changes").first, 404);
  auto pulled = pull_http(local_, url_, "other", judges::timestamp());
  ASSERT_FALSE(pulled.ok());
  EXPECT_EQ(pulled.error().kind(), ErrorKind::NotFound);
  EXPECT_NE(pulled.error().message().find("tree `other` is not served here"), std::string::npos);
  EXPECT_TRUE(pull_http(local_, url_, "t", judges::timestamp()).ok());
}

TEST_F(SyncHttp, ClientErrorsNameTheUrlAndTree) {
  auto bad_url = pull_http(local_, "ftp://example", "t", judges::timestamp());
  ASSERT_FALSE(bad_url.ok());
  EXPECT_EQ(bad_url.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_NE(bad_url.error().message().find("ftp://example: tree `t`"), std::string::npos);
  EXPECT_FALSE(push_http(local_, url_, "bad name").ok());

  const int port = server_->port();
  server_->stop();
  const std::string closed = "http://127.0.0.1:" + std::to_string(port);
  auto refused = sync_http(local_, closed, "t", judges::timestamp());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind(), ErrorKind::Io);
  EXPECT_NE(refused.error().message().find(closed + ": tree `t`: GET /v1/store: "),
            std::string::npos)
      << refused.error().message();
}

// A server that answers with what the protocol does not allow: the client stops with an Io
// error naming the URL and the tree, and applies nothing of the bad page.
TEST(SyncHttpReplies, MalformedRepliesAreErrorsAndApplyNothing) {
  // Set by the test, read by the server's threads.
  std::mutex replies;
  std::string store_reply = R"({"store":"abc","max_body_bytes":1000000})";
  std::string changes_reply;
  httplib::Server fake;
  fake.Get("/v1/store", [&](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(replies);
    res.set_content(store_reply, "application/json");
  });
  fake.Get(R"(/v1/trees/t/changes)", [&](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(replies);
    res.set_content(changes_reply, "application/json");
  });
  const int port = fake.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { fake.listen_after_bind(); });
  while (!fake.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  Store local = memory_store();
  Tree tree = std::move(local.tree("t")).value();

  auto pull_error = [&]() -> std::string {
    auto pulled = pull_http(tree, url, "t", judges::timestamp());
    if (pulled.ok()) return "ok";
    EXPECT_EQ(pulled.error().kind(), ErrorKind::Io) << pulled.error().message();
    EXPECT_EQ(pulled.error().message().find(url + ": tree `t`: "), 0u) << pulled.error().message();
    return pulled.error().message();
  };
  const std::string c1 =
      R"({"id":"a","version":1,"timestamp":5,"expiry":null,"deleted":false,"seq":1,"payload":1})";
  const std::string c2 =
      R"({"id":"b","version":1,"timestamp":5,"expiry":null,"deleted":false,"seq":2,"payload":1})";
  struct Case {
    std::string reply;
    std::string message;
  };
  for (const Case& c : {
           Case{"not json", "reply is not JSON"},
           Case{"[1]", "reply is not a JSON object"},
           Case{R"({"store":"other","last_seq":1,"changes":[]})",
                "the server now serves store other, not abc"},
           Case{R"({"store":"abc","changes":[]})", "field `last_seq` is missing"},
           Case{R"({"store":"abc","last_seq":2,"changes":{}})", "field `changes` is missing"},
           Case{R"({"store":"abc","last_seq":2,"changes":[)" + c2 + "," + c1 + "]}",
                "has seq 1, out of feed order"},
           Case{R"({"store":"abc","last_seq":1,"changes":[)" + c1 + "," + c2 + "]}",
                "has seq 2, out of feed order"},
           Case{R"({"store":"abc","last_seq":2,"changes":[)" + c1 + R"(,{"id":"b"}]})",
                "change 1 (id `b`): field `version` is missing"},
       }) {
    {
      std::lock_guard lock(replies);
      changes_reply = c.reply;
    }
    EXPECT_NE(pull_error().find(c.message), std::string::npos) << c.reply;
    EXPECT_EQ(*tree.count(), 0u);
  }
  {
    std::lock_guard lock(replies);
    store_reply = R"({"max_body_bytes":1})";
  }
  EXPECT_NE(pull_error().find("field `store` is missing"), std::string::npos);
  fake.stop();
  serving.join();
}

// Two client stores edited at once, each syncing with the server now and then while it writes;
// after a final round all three hold the same nuts and tombstones.
TEST_F(SyncHttp, StoresEditedConcurrentlyConverge) {
  Store other_store = memory_store();
  Tree other = std::move(other_store.tree("t")).value();
  auto edit = [this](Tree tree, unsigned seed) {
    std::mt19937 random(seed);
    for (int i = 0; i < 400; ++i) {
      const std::string id = "k" + std::to_string(random() % 40);
      if (random() % 5 == 0) {
        (void)tree.toss(id);  // NotFound is fine
      } else {
        ASSERT_TRUE(tree.stash(id, {{"by", seed}, {"i", i}}).ok());
      }
      if (i % 50 == 0) {
        auto synced = sync_http(tree, url_, "t", judges::timestamp());
        ASSERT_TRUE(synced.ok()) << synced.error().message();
      }
    }
  };
  std::thread a(edit, local_, 1u);
  std::thread b(edit, other, 2u);
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(remote_.stash("k" + std::to_string(i % 40), i).ok());
  a.join();
  b.join();
  for (int round = 0; round < 2; ++round) {
    for (const Tree& tree : {local_, other}) {
      ASSERT_TRUE(sync_http(tree, url_, "t", judges::timestamp()).ok());
    }
  }
  for (const Tree& tree : {local_, other}) {
    auto quiet = sync_http(tree, url_, "t", judges::timestamp());
    ASSERT_TRUE(quiet.ok());
    EXPECT_EQ(quiet->pushed.taken + quiet->pulled.taken, 0u);
  }
  EXPECT_EQ(feed(local_), feed(remote_));
  EXPECT_EQ(feed(other), feed(remote_));
  EXPECT_FALSE(feed(remote_).empty());
}

}  // namespace
}  // namespace wasm_sandbox::store
