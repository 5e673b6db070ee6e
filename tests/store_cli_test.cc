// `wasm-sandbox store put|get|del|scan|changes|purge|query|index`: the document store from the
// shell, as a user runs it.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace wasm_sandbox {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class StoreCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = fs::path(::testing::TempDir()) /
          ("store-cli-" +
           std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(db_);
  }
  void TearDown() override { fs::remove_all(db_); }

  testing::CliRun store(const std::string& args, const std::string& prefix = "") {
    return testing::cli("store " + args, prefix);
  }
  // The lines of a successful run's output.
  static std::vector<std::string> lines(const testing::CliRun& run) {
    std::vector<std::string> out;
    std::istringstream in(run.out);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  fs::path db_;
};

TEST_F(StoreCliTest, PutGetAndVersions) {
  const std::string db = db_.string();
  auto put = store("put " + db + " users '{\"id\":\"alice\",\"age\":31}'");
  ASSERT_EQ(put.exit_code, 0) << put.out;
  EXPECT_EQ(json::parse(put.out), json({{"id", "alice"}, {"version", 1}}));
  put = store("put " + db + " users '{\"id\":\"alice\",\"age\":32}'");
  ASSERT_EQ(put.exit_code, 0) << put.out;
  EXPECT_EQ(json::parse(put.out)["version"], 2);

  auto get = store("get " + db + " users alice");
  ASSERT_EQ(get.exit_code, 0) << get.out;
  // The fields in the documented order, then their values.
  EXPECT_EQ(get.out.find("{\"id\":\"alice\",\"version\":2,\"timestamp\":"), 0u) << get.out;
  const json nut = json::parse(get.out);
  EXPECT_EQ(nut["payload"], json({{"id", "alice"}, {"age", 32}}));
  EXPECT_TRUE(nut["expiry"].is_null());
  EXPECT_GT(nut["timestamp"].get<uint64_t>(), 1'700'000'000'000'000'000ull);
}

TEST_F(StoreCliTest, IdsFromTheFlagTheKeyFieldOrStdin) {
  const std::string db = db_.string();
  ASSERT_EQ(store("put --id carol " + db + " users '{\"age\":25}'").exit_code, 0);
  auto from_stdin = store("put " + db + " users -", "printf '{\"key\":\"bob\",\"age\":40}' | ");
  ASSERT_EQ(from_stdin.exit_code, 0) << from_stdin.out;
  EXPECT_EQ(json::parse(from_stdin.out)["id"], "bob");
  EXPECT_EQ(json::parse(store("get " + db + " users carol").out)["payload"]["age"], 25);
  EXPECT_EQ(json::parse(store("get " + db + " users bob").out)["payload"]["age"], 40);
}

TEST_F(StoreCliTest, ScanInIdOrderWithAPrefix) {
  const std::string db = db_.string();
  for (const char* id : {"user:b", "admin", "user:a", "user:c"}) {
    ASSERT_EQ(store("put --id " + std::string(id) + " " + db + " t '{}'").exit_code, 0);
  }
  auto all = store("scan " + db + " t");
  ASSERT_EQ(all.exit_code, 0) << all.out;
  std::vector<std::string> ids;
  for (const std::string& line : lines(all)) ids.push_back(json::parse(line)["id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"admin", "user:a", "user:b", "user:c"}));
  auto prefixed = store("scan --prefix user:b " + db + " t");
  ASSERT_EQ(prefixed.exit_code, 0) << prefixed.out;
  ASSERT_EQ(lines(prefixed).size(), 1u);
  EXPECT_EQ(json::parse(lines(prefixed)[0])["id"], "user:b");
}

TEST_F(StoreCliTest, DelThenGetIsNotFound) {
  const std::string db = db_.string();
  ASSERT_EQ(store("put " + db + " users '{\"id\":\"bob\"}'").exit_code, 0);
  auto del = store("del " + db + " users bob");
  EXPECT_EQ(del.exit_code, 0) << del.out;
  EXPECT_EQ(del.out, "");
  auto get = store("get " + db + " users bob");
  EXPECT_EQ(get.exit_code, 1);
  EXPECT_NE(get.out.find("tree `users`, id `bob`: no such nut"), std::string::npos) << get.out;
  EXPECT_EQ(store("del " + db + " users bob").exit_code, 1);
}

// Reading commands open the store read-only: a mistyped tree is an error each time, never a new
// empty tree.
TEST_F(StoreCliTest, ReadingCommandsCreateNoTree) {
  const std::string db = db_.string();
  ASSERT_EQ(store("put " + db + " users '{\"id\":\"bob\"}'").exit_code, 0);
  for (const char* command : {"get", "scan", "query", "changes", "indexes"}) {
    const std::string args = std::string(command) + " " + db + " usres" +
                             (command == std::string("get") ? " bob" : "") +
                             (command == std::string("query") ? " 'limit 1'" : "");
    auto run = store(args);
    EXPECT_EQ(run.exit_code, 1) << args << ": " << run.out;
    EXPECT_NE(run.out.find("tree `usres`: no such tree"), std::string::npos)
        << args << ": " << run.out;
  }
  auto get = store("get " + db + " users bob");
  EXPECT_EQ(get.exit_code, 0) << get.out;
}

// The feed after a point, tombstones included; an expiry, then a purge.
TEST_F(StoreCliTest, ChangesExpiryAndPurge) {
  const std::string db = db_.string();
  ASSERT_EQ(store("put " + db + " t '{\"id\":\"a\"}'").exit_code, 0);
  ASSERT_EQ(store("put " + db + " t '{\"id\":\"b\"}'").exit_code, 0);
  ASSERT_EQ(store("del " + db + " t a").exit_code, 0);
  auto changes = store("changes " + db + " t");
  ASSERT_EQ(changes.exit_code, 0) << changes.out;
  auto feed = lines(changes);
  ASSERT_EQ(feed.size(), 2u) << changes.out;
  EXPECT_EQ(json::parse(feed[0])["id"], "b");
  const json tombstone = json::parse(feed[1]);
  EXPECT_EQ(tombstone["id"], "a");
  EXPECT_EQ(tombstone["deleted"], true);
  EXPECT_EQ(tombstone["seq"], 3);
  EXPECT_EQ(tombstone["version"], 2);
  EXPECT_EQ(lines(store("changes --since 2 " + db + " t")).size(), 1u);

  auto put = store("put --expires-in 0.2 " + db + " t '{\"id\":\"brief\"}'");
  ASSERT_EQ(put.exit_code, 0) << put.out;
  const json nut = json::parse(store("get " + db + " t brief").out);
  EXPECT_GT(nut["expiry"].get<uint64_t>(), nut["timestamp"].get<uint64_t>());
  EXPECT_EQ(store("put --expires-in -1 " + db + " t '{\"id\":\"x\"}'").exit_code, 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_EQ(store("get " + db + " t brief").exit_code, 1);
  auto purge = store("purge " + db + " t");
  ASSERT_EQ(purge.exit_code, 0) << purge.out;
  EXPECT_EQ(json::parse(purge.out), json({{"purged", 1}}));
  EXPECT_EQ(json::parse(lines(store("changes " + db + " t")).back())["deleted"], true);
}

TEST_F(StoreCliTest, BadInputIsOneLineAndChangesNothing) {
  const std::string db = db_.string();
  ASSERT_EQ(store("put " + db + " users '{\"id\":\"alice\",\"v\":1}'").exit_code, 0);
  auto malformed = store("put " + db + " users '{\"id\":\"alice\",'");
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_NE(malformed.out.find("tree `users`: malformed JSON"), std::string::npos) << malformed.out;
  auto no_id = store("put " + db + " users '{\"v\":2}'");
  EXPECT_EQ(no_id.exit_code, 2);
  EXPECT_NE(no_id.out.find("neither an \"id\" nor a \"key\""), std::string::npos) << no_id.out;
  auto bad_tree = store("put " + db + " 'no spaces' '{\"id\":\"x\"}'");
  EXPECT_EQ(bad_tree.exit_code, 2);
  EXPECT_NE(bad_tree.out.find("tree name"), std::string::npos) << bad_tree.out;
  const json nut = json::parse(store("get " + db + " users alice").out);
  EXPECT_EQ(nut["version"], 1);
  EXPECT_EQ(nut["payload"]["v"], 1);

  auto missing = store("get " + (db_ / "nowhere").string() + " users alice");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.out.find("no store here"), std::string::npos) << missing.out;
  EXPECT_FALSE(fs::exists(db_ / "nowhere"));  // reading never creates a store

  const fs::path foreign = db_ / "foreign";
  testing::write_file(foreign / "data.mdb", std::string(70000, 'x'));
  auto refused = store("get " + foreign.string() + " users alice");
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.out.find("data.mdb: not an LMDB file"), std::string::npos) << refused.out;
  EXPECT_EQ(testing::read_file(foreign / "data.mdb"), std::string(70000, 'x'));
}

TEST_F(StoreCliTest, QueryInItsOrderWithExplainAndCount) {
  const std::string db = db_.string();
  for (const char* doc : {R"({"id":"ada","age":36,"tags":["math"]})",
                          R"({"id":"alan","age":41,"tags":["math","logic"]})",
                          R"({"id":"grace","age":85,"tags":[]})", R"({"id":"kid"})"}) {
    ASSERT_EQ(store("put " + db + " people '" + doc + "'").exit_code, 0);
  }
  const std::string expr = R"('age >= 30 and tags contains "math" order by age desc')";
  auto run = store("query " + db + " people " + expr);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  std::vector<std::string> ids;
  for (const std::string& line : lines(run)) ids.push_back(json::parse(line)["id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"alan", "ada"}));
  EXPECT_EQ(lines(run)[0].find("{\"id\":\"alan\",\"version\":1,\"timestamp\":"), 0u);

  auto count = store("query --count " + db + " people 'age exists'");
  ASSERT_EQ(count.exit_code, 0) << count.out;
  EXPECT_EQ(count.out, "3\n");
  auto newest = store("query " + db + " people 'newest 1'");
  ASSERT_EQ(lines(newest).size(), 1u);
  EXPECT_EQ(json::parse(lines(newest)[0])["id"], "kid");

  auto scan_plan = store("query --explain " + db + " people " + expr);
  ASSERT_EQ(scan_plan.exit_code, 0) << scan_plan.out;
  EXPECT_EQ(scan_plan.out.find("scan of the tree"), 0u) << scan_plan.out;

  // Indexes: create, list, used, dropped.
  EXPECT_EQ(store("index " + db + " people age").exit_code, 0);
  auto listed = store("indexes " + db + " people");
  EXPECT_EQ(listed.out, "age\n");
  auto index_plan = store("query --explain " + db + " people " + expr);
  EXPECT_EQ(index_plan.out.find("index `age` range age >= 30"), 0u) << index_plan.out;
  auto indexed = store("query " + db + " people " + expr);
  EXPECT_EQ(indexed.out, run.out);
  EXPECT_EQ(store("unindex " + db + " people age").exit_code, 0);
  auto again = store("unindex " + db + " people age");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.out.find("tree `people`, index `age`: no such index"), std::string::npos)
      << again.out;
  EXPECT_EQ(store("indexes " + db + " people").out, "");
}

TEST_F(StoreCliTest, QueryErrorsNameTheColumn) {
  const std::string db = db_.string();
  ASSERT_EQ(store("put " + db + " t '{\"id\":\"a\"}'").exit_code, 0);
  auto bad = store("query " + db + " t 'age >= '");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.out, "wasm-sandbox: " + db +
                         ": tree `t`: query: at column 8: expected a value after `>=`, found "
                         "end of input\n");
  auto bad_field = store("index " + db + " t 'a..b'");
  EXPECT_EQ(bad_field.exit_code, 2);
  EXPECT_NE(bad_field.out.find("field `a..b`: empty segment"), std::string::npos) << bad_field.out;
}

}  // namespace
}  // namespace wasm_sandbox
