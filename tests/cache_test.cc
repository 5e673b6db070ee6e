// The module caches: in process (same bytes -> same code), on disk (optimized artifacts that a
// new engine or process loads without compiling), and ahead-of-time artifact files.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "guests/kernels.h"
#include "test_util.h"
#include "wasm_sandbox/wasm_sandbox.h"

namespace wasm_sandbox {
namespace {

namespace fs = std::filesystem;
using testing::cli;
using testing::guest;

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A fresh cache directory per test.
class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::path(::testing::TempDir()) /
        ("cache-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  EngineConfig config(Tier tier) const {
    EngineConfig c;
    c.tier = tier;
    c.cache.directory = dir_;
    c.optimizer.hot_calls = 1'000'000'000;
    c.optimizer.hot_time = std::chrono::hours(1);
    return c;
  }
  std::vector<fs::path> entries() const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path());
    return out;
  }

  fs::path dir_;
  const std::vector<uint8_t> kernels_ = read_bytes(guest("kernels.wasm"));
};

TEST_F(CacheTest, SameBytesLoadOnceInProcess) {
  Engine engine(config(Tier::Baseline));
  auto first = engine.load(kernels_, "first.wasm");
  auto second = engine.load(kernels_, "second.wasm");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->stats().cache, CacheHit::None);
  EXPECT_EQ(second->stats().cache, CacheHit::Memory);
  EXPECT_EQ(second->name(), "second.wasm");  // messages name the load that made it
  auto instance = second->instantiate();
  ASSERT_TRUE(instance.ok());
  EXPECT_EQ(*instance->call<int32_t>("run_fib", 15), run_fib(15));

  EngineConfig off = config(Tier::Baseline);
  off.cache.memory = false;
  Engine uncached(off);
  ASSERT_TRUE(uncached.load(kernels_).ok());
  EXPECT_EQ(uncached.load(kernels_)->stats().cache, CacheHit::None);
}

TEST_F(CacheTest, OptimizedCodeIsReusedByANewEngineFromDisk) {
  {
    auto module = Engine(config(Tier::Optimized)).load(kernels_, "kernels.wasm");
    ASSERT_TRUE(module.ok()) << module.error().message();
    EXPECT_EQ(module->stats().cache, CacheHit::None);
  }
  struct stat st;
  ASSERT_EQ(stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(entries().size(), 1u);

  for (Tier tier : {Tier::Optimized, Tier::Auto}) {
    EngineConfig c = config(tier);
    c.optimizer.hot_calls = 2;  // Auto: nothing left to compile, however hot
    auto module = Engine(c).load(kernels_, "kernels.wasm");
    ASSERT_TRUE(module.ok()) << module.error().message();
    EXPECT_EQ(module->stats().cache, CacheHit::Disk);
    EXPECT_EQ(module->tier(), Tier::Optimized);
    auto instance = module->instantiate();
    ASSERT_TRUE(instance.ok());
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(*instance->call<int32_t>("run_sort", 5'000), run_sort(5'000));
    }
    EXPECT_TRUE(module->optimize().ok());  // already optimized
  }
}

TEST_F(CacheTest, KeyCoversFlagsAndInstrumentation) {
  ASSERT_TRUE(Engine(config(Tier::Optimized)).load(kernels_).ok());
  EngineConfig other = config(Tier::Optimized);
  other.optimizer.flags = {"-O1"};
  auto o1 = Engine(other).load(kernels_);
  ASSERT_TRUE(o1.ok());
  EXPECT_EQ(o1->stats().cache, CacheHit::None);
  EngineConfig metered = config(Tier::Optimized);
  metered.fuel = true;
  auto fuel = Engine(metered).load(kernels_);
  ASSERT_TRUE(fuel.ok());
  EXPECT_EQ(fuel->stats().cache, CacheHit::None);
  EXPECT_EQ(entries().size(), 3u);
}

TEST_F(CacheTest, CorruptArtifactIsDiscardedNeverLoaded) {
  ASSERT_TRUE(Engine(config(Tier::Optimized)).load(kernels_).ok());
  ASSERT_EQ(entries().size(), 1u);
  const fs::path entry = entries()[0];
  std::string bytes = testing::read_file(entry);
  bytes[bytes.size() / 2] ^= 0x01;  // somewhere in the machine code
  testing::write_file(entry, bytes);

  auto module = Engine(config(Tier::Optimized)).load(kernels_);
  ASSERT_TRUE(module.ok()) << module.error().message();
  EXPECT_EQ(module->stats().cache, CacheHit::None);  // compiled again
  auto again = Engine(config(Tier::Optimized)).load(kernels_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->stats().cache, CacheHit::Disk);  // and the good artifact replaced it
}

TEST_F(CacheTest, AheadOfTimeArtifactLoadsWithoutACompiler) {
  auto artifact = Engine(config(Tier::Optimized)).compile_artifact(kernels_, "kernels.wasm");
  ASSERT_TRUE(artifact.ok()) << artifact.error().message();
  EngineConfig no_compiler = config(Tier::Optimized);
  no_compiler.optimizer.compiler = "/nonexistent/cc";
  Engine engine(no_compiler);
  auto module = engine.load_artifact(*artifact, "kernels.wsa");
  ASSERT_TRUE(module.ok()) << module.error().message();
  EXPECT_EQ(module->tier(), Tier::Optimized);
  auto instance = module->instantiate();
  ASSERT_TRUE(instance.ok());
  EXPECT_EQ(*instance->call<int32_t>("run_interp", 5'000), run_interp(5'000));

  const fs::path file = dir_ / "kernels.wsa";
  fs::create_directories(dir_);
  testing::write_file(file, std::string(artifact->begin(), artifact->end()));
  auto from_file = engine.load_file(file);
  ASSERT_TRUE(from_file.ok()) << from_file.error().message();
  EXPECT_EQ(from_file->name(), file.string());
}

TEST_F(CacheTest, ArtifactsThatDoNotFitAreRefusedClearly) {
  auto artifact = Engine(config(Tier::Optimized)).compile_artifact(kernels_, "kernels.wasm");
  ASSERT_TRUE(artifact.ok()) << artifact.error().message();
  EngineConfig metered = config(Tier::Optimized);
  metered.fuel = true;
  auto wrong = Engine(metered).load_artifact(*artifact, "plugin.wsa");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_NE(wrong.error().message().find("plugin.wsa: compiled with no fuel metering"),
            std::string::npos)
      << wrong.error().message();

  std::vector<uint8_t> corrupt = *artifact;
  corrupt[corrupt.size() - 100] ^= 0x80;
  auto bad = Engine(config(Tier::Optimized)).load_artifact(corrupt, "plugin.wsa");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind(), ErrorKind::InvalidModule);
  EXPECT_EQ(bad.error().message().rfind("plugin.wsa: ", 0), 0u) << bad.error().message();
}

TEST_F(CacheTest, CliCompilesAndRunsArtifactsWithoutACompilerOnPath) {
  fs::create_directories(dir_);
  const std::string artifact = (dir_ / "kernels.wsa").string();
  auto r = cli("compile " + guest("kernels.wasm") + " -o " + artifact);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = cli("call " + artifact + " run_fib 20", "env PATH=/nonexistent CC= ");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, std::to_string(run_fib(20)) + "\n");
  r = cli("call --fuel 1000 " + artifact + " run_fib 20");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("compile --fuel"), std::string::npos) << r.out;
  r = cli("compile --fuel " + guest("kernels.wasm") + " -o " + artifact);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = cli("call --fuel 1000 " + artifact + " run_fib 20");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("out of fuel"), std::string::npos) << r.out;
}

TEST_F(CacheTest, AnUnsafeCacheDirectoryIsRefusedAndSaidSo) {
  fs::create_directories(dir_);
  fs::permissions(dir_, fs::perms::all);  // 0777: anyone could plant code
  EngineConfig c = config(Tier::Optimized);
  auto module = Engine(c).load(kernels_, "kernels.wasm");
  ASSERT_TRUE(module.ok()) << module.error().message();  // compiled, just not cached
  EXPECT_NE(module->stats().cache_error.find(dir_.string() + ": is writable by group or others"),
            std::string::npos)
      << module->stats().cache_error;
  EXPECT_TRUE(entries().empty());
}

}  // namespace
}  // namespace wasm_sandbox
