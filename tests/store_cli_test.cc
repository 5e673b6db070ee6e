// `wasm-sandbox store put|get|del|scan`: the document store from the shell, as a user runs it.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
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

}  // namespace
}  // namespace wasm_sandbox
