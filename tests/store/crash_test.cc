// Crash safety: a writer process (crash_writer.cc) commits batches to a durable store and is
// killed with SIGKILL at random moments, many times; after each kill the store is reopened
// here and checked against the workload's model (crash_model.h): every batch reported
// committed is there, every batch is all there or not there at all, and the store is
// consistent. Run under every Durability: a process crash must lose nothing in any of them.
//
// WS_STORE_CRASH_KILLS sets the number of kills per mode (default 40; `make test-crash` runs
// 1,000), WS_STORE_CRASH_SEED the random seed (printed on failure).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "store/crash_model.h"
#include "store/store_test_util.h"

extern char** environ;

namespace wasm_sandbox::store {
namespace {

using crash::Model;

constexpr size_t kDocsPerBatch = 100;
constexpr int kKillsPerStore = 10;  // then a fresh store, so that it does not grow without end

uint64_t env_number(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  return text && *text ? std::strtoull(text, nullptr, 10) : fallback;
}

// A running writer, its stdout read through a pipe.
class Writer {
 public:
  Writer(const std::filesystem::path& dir, Durability durability) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    std::vector<std::string> args = {CRASH_WRITER_PATH, dir.string(), to_string(durability),
                                     std::to_string(kDocsPerBatch), "5"};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, CRASH_WRITER_PATH, &actions, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    out_ = fds[0];
  }
  ~Writer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }
  bool started() const { return pid_ > 0; }

  // Reads reports until `count` more have arrived, or EOF, or 30 s without output; false if
  // they did not all arrive.
  bool await_reports(int count) {
    const size_t wanted = reports_ + static_cast<size_t>(count);
    while (reports_ < wanted) {
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 30000) <= 0 || !read_some()) return false;
    }
    return true;
  }
  // SIGKILL, then everything it wrote before dying. Returns the wait status.
  int kill_and_drain() {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    while (read_some()) {
    }
    return status;
  }
  // The last batch reported committed, or `otherwise` if none was.
  uint64_t last_reported(uint64_t otherwise) const { return reports_ ? last_ : otherwise; }

 private:
  // Reads what is in the pipe; false at EOF or on error.
  bool read_some() {
    char buffer[4096];
    ssize_t n = read(out_, buffer, sizeof buffer);
    if (n <= 0) return false;
    for (ssize_t i = 0; i < n; ++i) {
      if (buffer[i] == '\n') {
        last_ = std::strtoull(line_.c_str(), nullptr, 10);
        ++reports_;
        line_.clear();
      } else {
        line_ += buffer[i];
      }
    }
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::string line_;  // an incomplete line so far
  size_t reports_ = 0;
  uint64_t last_ = 0;
};

class StoreCrash : public ::testing::TestWithParam<Durability> {};

TEST_P(StoreCrash, KilledWritersLoseNothingAndNeverLeaveHalfABatch) {
  const Durability durability = GetParam();
  const uint64_t kills = env_number("WS_STORE_CRASH_KILLS", 40);
  const uint64_t seed = env_number("WS_STORE_CRASH_SEED", std::random_device{}());
  SCOPED_TRACE("WS_STORE_CRASH_SEED=" + std::to_string(seed));
  std::mt19937_64 random(seed);
  const auto dir = std::filesystem::temp_directory_path() /
                   ("ws-store-crash-" + std::to_string(getpid()) + "-" + to_string(durability));
  struct RemoveDir {
    std::filesystem::path dir;
    ~RemoveDir() { std::filesystem::remove_all(dir); }  // also when an assertion returns early
  } remove_dir{dir};
  StoreOptions options;
  options.durability = durability;
  options.sync_interval = std::chrono::milliseconds(5);

  uint64_t previous = 0;         // the batch the last check found
  uint64_t committed_total = 0;  // batches committed over all runs
  uint64_t unreported = 0;       // kills that landed after a commit, before its report
  for (uint64_t run = 0; run < kills; ++run) {
    SCOPED_TRACE("kill " + std::to_string(run + 1));
    if (run % kKillsPerStore == 0) {
      std::filesystem::remove_all(dir);
      previous = 0;
    }
    Writer writer(dir, durability);
    ASSERT_TRUE(writer.started()) << CRASH_WRITER_PATH << ": cannot start";
    // Let it commit 0 to 3 batches, then kill it at a random moment of the next ones.
    ASSERT_TRUE(writer.await_reports(static_cast<int>(random() % 4)))
        << "the writer stopped reporting (see its stderr above)";
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 4000));
    int status = writer.kill_and_drain();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the writer ended by itself, status " << status << " (see its stderr above)";
    const uint64_t reported = writer.last_reported(previous);

    auto store = Store::open(dir, options);
    ASSERT_TRUE(store.ok()) << store.error().message();
    auto tree = store->tree(crash::kTreeName);
    ASSERT_TRUE(tree.ok()) << tree.error().message();
    auto actual = crash::read_tree(*store, *tree);
    ASSERT_TRUE(actual.ok()) << actual.error().message();
    auto k = crash::verify(*actual, kDocsPerBatch, reported, previous);
    ASSERT_TRUE(k.ok()) << k.error().message();
    committed_total += *k - previous;
    if (*k == reported + 1) ++unreported;
    previous = *k;
  }
  EXPECT_GT(committed_total, 0u) << "no batch ever committed: the test tested nothing";
  std::printf("[ %s ] %llu kills, %llu batches committed, %llu kills after an unreported commit\n",
              to_string(durability), static_cast<unsigned long long>(kills),
              static_cast<unsigned long long>(committed_total),
              static_cast<unsigned long long>(unreported));
}

INSTANTIATE_TEST_SUITE_P(Durabilities, StoreCrash,
                         ::testing::Values(Durability::SyncEveryCommit,
                                           Durability::SyncEveryCommitButLast,
                                           Durability::SyncPeriodically, Durability::NoSync),
                         [](const auto& info) {
                           std::string name = to_string(info.param);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// The checker must be able to fail: hand-made states that a crash must never produce.

constexpr size_t kN = 3;

TEST(StoreCrashChecker, TheModelFollowsTheWorkload) {
  Model model = crash::model_after(8, kN);
  EXPECT_EQ(*crash::tip_of(model), 8u);
  EXPECT_TRUE(model.at("b4-0").tossed);  // by batch 8
  EXPECT_EQ(model.at("b8-2").payload, (nlohmann::json{{"batch", 8}, {"i", 2}}));
  const uint64_t j = crash::rewritten_batch(8);
  ASSERT_LT(j, 8u);
  EXPECT_EQ(model.at("b" + std::to_string(j) + "-1").payload["by"], 8);
  EXPECT_EQ(model.at("tip").version, 8u);
  EXPECT_EQ(*crash::verify(model, kN, 8, 8), 8u);
  EXPECT_EQ(*crash::verify(model, kN, 7, 0), 8u);  // the last commit was not reported yet
  EXPECT_EQ(*crash::verify({}, kN, 0, 0), 0u);     // nothing committed yet
}

TEST(StoreCrashChecker, RejectsAPartialBatch) {
  Model state = crash::model_after(5, kN);
  // Half of batch 6's operations, its tip not among them.
  auto ops = crash::batch_ops(6, kN);
  crash::apply_ops(std::vector<crash::Op>(ops.begin(), ops.begin() + 2), state);
  auto checked = crash::verify(state, kN, 5, 5);
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.error().message().find("batch 6 is partly visible"), std::string::npos)
      << checked.error().message();

  // Batch 6 with its tip but one of its rewrites missing.
  state = crash::model_after(5, kN);
  ops = crash::batch_ops(6, kN);
  ops.erase(ops.begin() + kN);  // the first rewrite of an earlier batch
  crash::apply_ops(ops, state);
  EXPECT_FALSE(crash::verify(state, kN, 6, 5).ok());

  // A document of a committed batch gone.
  state = crash::model_after(5, kN);
  state.erase("b5-1");
  checked = crash::verify(state, kN, 5, 5);
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.error().message().find("b5-1"), std::string::npos);

  // A toss of a committed batch undone: the tombstone gone, or the nut back.
  state = crash::model_after(8, kN);
  state.erase("b4-2");
  EXPECT_FALSE(crash::verify(state, kN, 8, 8).ok());
  state = crash::model_after(8, kN);
  state["b4-2"] = crash::model_after(7, kN).at("b4-2");
  EXPECT_FALSE(crash::verify(state, kN, 8, 8).ok());
}

TEST(StoreCrashChecker, RejectsLostAndImpossibleCommits) {
  Model state = crash::model_after(5, kN);
  EXPECT_FALSE(crash::verify(state, kN, 6, 5).ok());  // 6 was reported committed
  EXPECT_FALSE(crash::verify(state, kN, 5, 6).ok());  // an earlier check saw 6
  EXPECT_FALSE(crash::verify(state, kN, 3, 3).ok());  // 5 is two past the last report
  state["tip"].payload = "five";
  EXPECT_FALSE(crash::verify(state, kN, 5, 5).ok());
}

using StoreCrashCheckerOnDisk = testing::StoreDir;

TEST_F(StoreCrashCheckerOnDisk, ReadsAStoreAndFindsAPartialBatchInIt) {
  {
    Store store = open();
    Tree t = tree(store, crash::kTreeName);
    auto commit = [&](const std::vector<crash::Op>& ops) {
      return store.batch([&](Batch& batch) {
        for (const auto& op : ops) {
          op.toss ? batch.toss(t, op.id) : batch.stash(t, op.id, op.payload);
        }
      });
    };
    for (uint64_t k = 1; k <= 5; ++k) ASSERT_TRUE(commit(crash::batch_ops(k, kN)).ok());
    Store& s = store;
    auto actual = crash::read_tree(s, t);
    ASSERT_TRUE(actual.ok()) << actual.error().message();
    EXPECT_EQ(*crash::verify(*actual, kN, 5, 0), 5u);
    // What a torn commit would leave: the first half of batch 6.
    auto ops = crash::batch_ops(6, kN);
    ASSERT_TRUE(commit(std::vector<crash::Op>(ops.begin(), ops.begin() + ops.size() / 2)).ok());
    actual = crash::read_tree(s, t);
    ASSERT_TRUE(actual.ok()) << actual.error().message();
    EXPECT_FALSE(crash::verify(*actual, kN, 5, 5).ok());
  }
  // A nut that does not decode fails the consistency check.
  testing::raw_put(dir_, crash::kTreeName, "b1-0", "\x80garbage");
  Store store = open();
  auto actual = crash::read_tree(store, tree(store, crash::kTreeName));
  ASSERT_FALSE(actual.ok());
  EXPECT_EQ(actual.error().kind(), ErrorKind::Io);
}

}  // namespace
}  // namespace wasm_sandbox::store
