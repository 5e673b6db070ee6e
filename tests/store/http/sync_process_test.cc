// Sync between processes: `wasm-sandbox store serve` as child processes, `wasm-sandbox store
// sync` from the shell, and this process's own stores as further peers.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "store/http/wire.h"
#include "wasm_sandbox/store_http.h"

extern char** environ;

namespace wasm_sandbox::store {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct Run {
  int exit_code;
  std::string out;  // stdout then stderr
};

// `wasm-sandbox ARGS 2>&1` through the shell.
Run cli(const std::string& args) {
  FILE* pipe = popen((std::string(CLI_PATH) + " " + args + " 2>&1").c_str(), "r");
  Run run{-1, ""};
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) run.out.append(buf.data(), n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// `wasm-sandbox store serve DIR --port 0` in a child process; stopped with SIGTERM.
class ServerProcess {
 public:
  explicit ServerProcess(const fs::path& dir) {
    int out[2];
    EXPECT_EQ(pipe(out), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    const std::string db = dir.string();
    const char* argv[] = {CLI_PATH, "store", "serve", db.c_str(), "--port", "0", nullptr};
    EXPECT_EQ(posix_spawn(&pid_, CLI_PATH, &actions, nullptr, const_cast<char**>(argv), environ),
              0);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    stdout_ = fdopen(out[0], "r");
    char line[256] = {};
    EXPECT_TRUE(fgets(line, sizeof line, stdout_));
    int port = 0;
    EXPECT_EQ(sscanf(line, "listening on http://127.0.0.1:%d (store", &port), 1) << line;
    url_ = "http://127.0.0.1:" + std::to_string(port);
  }
  ~ServerProcess() {
    if (pid_ > 0) stop();
  }
  // SIGTERM; true if it exited with 0 after printing "stopped".
  bool stop() {
    kill(pid_, SIGTERM);
    int status = 0;
    const bool waited = waitpid(pid_, &status, 0) == pid_;
    pid_ = 0;
    char line[256] = {};
    const bool said = fgets(line, sizeof line, stdout_) && std::string(line) == "stopped\n";
    fclose(stdout_);
    return waited && WIFEXITED(status) && WEXITSTATUS(status) == 0 && said;
  }
  const std::string& url() const { return url_; }

 private:
  pid_t pid_ = 0;
  FILE* stdout_ = nullptr;
  std::string url_;
};

class SyncProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("ws-sync-process-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string dir(const char* name) const { return (root_ / name).string(); }

  fs::path root_;
};

// Every feed entry of `tree` (nuts and tombstones) by id: version, timestamp, state, payload.
std::map<std::string, std::string> feed(const Tree& tree) {
  std::map<std::string, std::string> out;
  auto changes = tree.changes(0);
  EXPECT_TRUE(changes.ok());
  for (const Change& c : *changes) {
    const std::vector<uint8_t> bytes = json::to_msgpack(c.nut.payload);
    out[c.nut.id] = std::to_string(c.nut.version) + ":" + std::to_string(c.nut.timestamp_ns) +
                    (c.deleted ? ":deleted:" : ":live:") +
                    wire::to_hex({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
  }
  return out;
}

TEST_F(SyncProcess, TheCommandsServeAndSyncAStore) {
  const std::string client = dir("client"), served = dir("served");
  ASSERT_EQ(cli("store put " + client + " t '{\"id\":\"alice\",\"age\":31}'").exit_code, 0);
  ASSERT_EQ(cli("store put " + client + " t '{\"id\":\"bob\"}'").exit_code, 0);
  ASSERT_EQ(cli("store del " + client + " t bob").exit_code, 0);
  ServerProcess server(served);

  auto first = cli("store sync " + client + " t " + server.url());
  ASSERT_EQ(first.exit_code, 0) << first.out;
  const json report = json::parse(first.out);
  EXPECT_EQ(report["pushed"], json::parse(R"({"sent":2,"taken":2,"kept":0,"duplicate":0})"));
  EXPECT_EQ(report["pulled"]["duplicate"], 2);  // our own, back
  auto again = cli("store sync " + client + " t " + server.url() + " --pull-only");
  ASSERT_EQ(again.exit_code, 0) << again.out;
  EXPECT_EQ(json::parse(again.out),
            json::parse(R"({"pulled":{"sent":0,"taken":0,"kept":0,"duplicate":0}})"));
  auto other_tree =
      cli("store sync " + client + " t " + server.url() + " --remote-tree u --push-only");
  ASSERT_EQ(other_tree.exit_code, 0) << other_tree.out;
  EXPECT_EQ(json::parse(other_tree.out)["pushed"]["taken"], 2);

  auto refused = cli("store sync " + client + " t http://127.0.0.1:1");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.out.find("http://127.0.0.1:1: tree `t`: GET /v1/store: "), std::string::npos)
      << refused.out;
  EXPECT_EQ(
      cli("store sync " + client + " t " + server.url() + " --push-only --pull-only").exit_code, 2);
  EXPECT_EQ(cli("store sync " + client + " t " + server.url() + " --judge newest").exit_code, 2);
  auto bad_url = cli("store sync " + client + " t localhost:8080");
  EXPECT_EQ(bad_url.exit_code, 2);
  EXPECT_NE(bad_url.out.find("not a URL"), std::string::npos) << bad_url.out;
  EXPECT_TRUE(server.stop());

  auto alice = cli("store get " + served + " t alice");
  ASSERT_EQ(alice.exit_code, 0) << alice.out;
  EXPECT_EQ(json::parse(alice.out)["payload"]["age"], 31);
  EXPECT_EQ(cli("store get " + served + " t bob").exit_code, 1);  // the delete came too
  EXPECT_EQ(cli("store get " + served + " u alice").exit_code, 0);
}

// Five stores in four processes, in a chain: L1 (here) <-> server A <-> R (`store sync`
// processes) <-> server B <-> L2 (here). L1 and L2 are edited at once by two threads, each
// syncing with its server now and then, while a third thread relays between the servers
// through R. After a final few rounds every store holds the same nuts and tombstones.
TEST_F(SyncProcess, StoresEditedConcurrentlyInSeveralProcessesConverge) {
  ServerProcess a(dir("a")), b(dir("b"));
  const std::string relay = dir("relay");
  Store l1 = std::move(Store::open(dir("l1"))).value();
  Store l2 = std::move(Store::open(dir("l2"))).value();
  Tree t1 = std::move(l1.tree("t")).value();
  Tree t2 = std::move(l2.tree("t")).value();

  auto edit = [](Tree tree, const std::string& url, unsigned seed) {
    std::mt19937 random(seed);
    for (int i = 0; i < 400; ++i) {
      const std::string id = "k" + std::to_string(random() % 60);
      if (random() % 4 == 0) {
        (void)tree.toss(id);  // NotFound is fine
      } else {
        ASSERT_TRUE(tree.stash(id, {{"by", seed}, {"i", i}}).ok());
      }
      if (i % 40 == 0) {
        auto synced = sync_http(tree, url, "t", judges::timestamp());
        ASSERT_TRUE(synced.ok()) << synced.error().message();
      }
    }
  };
  auto relay_once = [&](const std::string& url) {
    auto run = cli("store sync " + relay + " t " + url);
    EXPECT_EQ(run.exit_code, 0) << run.out;
    return json::parse(run.out, nullptr, false);
  };
  std::atomic<bool> editing{true};
  std::thread relaying([&] {
    while (editing) {
      relay_once(a.url());
      relay_once(b.url());
    }
  });
  std::thread e1(edit, t1, a.url(), 1u);
  std::thread e2(edit, t2, b.url(), 2u);
  e1.join();
  e2.join();
  editing = false;
  relaying.join();

  // A change crosses one hop per step: four rounds carry it from one end to the other.
  auto round = [&] {
    uint64_t taken = 0;
    auto s1 = sync_http(t1, a.url(), "t", judges::timestamp());
    EXPECT_TRUE(s1.ok());
    for (const std::string& url : {a.url(), b.url()}) {
      const json r = relay_once(url);
      taken += r["pushed"]["taken"].get<uint64_t>() + r["pulled"]["taken"].get<uint64_t>();
    }
    auto s2 = sync_http(t2, b.url(), "t", judges::timestamp());
    EXPECT_TRUE(s2.ok());
    if (s1.ok() && s2.ok()) {
      taken += s1->pushed.taken + s1->pulled.taken + s2->pushed.taken + s2->pulled.taken;
    }
    return taken;
  };
  for (int i = 0; i < 4; ++i) round();
  EXPECT_EQ(round(), 0u);  // quiet: nothing left to move

  EXPECT_TRUE(a.stop());
  EXPECT_TRUE(b.stop());
  const auto expected = feed(t1);
  EXPECT_FALSE(expected.empty());
  EXPECT_EQ(feed(t2), expected);
  for (const char* name : {"a", "b", "relay"}) {
    Store store = std::move(Store::open(dir(name))).value();
    EXPECT_EQ(feed(std::move(store.tree("t")).value()), expected) << name;
  }
}

}  // namespace
}  // namespace wasm_sandbox::store
