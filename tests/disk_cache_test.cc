// The on-disk artifact cache (engine/disk_cache.h): directory safety, round trips, keys that
// could be paths, LRU eviction (modification times set explicitly, no sleeping), the size
// bound, concurrent writers (threads and processes) and leftovers of writers that died.
#include "engine/disk_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/artifact.h"

namespace wasm_sandbox::engine {
namespace {

namespace fs = std::filesystem;

std::string key_of(std::string_view text) { return to_hex(blake2b(text)); }

std::vector<uint8_t> bytes_of(size_t size, uint8_t fill) {
  return std::vector<uint8_t>(size, fill);
}

// A valid artifact file whose code is `size` bytes of `fill`.
std::vector<uint8_t> artifact_file(size_t size, uint8_t fill) {
  Artifact a;
  a.engine_version = std::string(engine_version());
  a.cpu = current_cpu();
  a.info.name = "plugin.wasm";
  a.code = bytes_of(size, fill);
  return serialize(a);
}

void set_mtime(const fs::path& path, time_t seconds) {
  timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

time_t mtime_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mtim.tv_sec;
}

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::vector<std::string> temp_files(const fs::path& directory) {
  std::vector<std::string> names;
  for (const auto& item : fs::directory_iterator(directory)) {
    if (item.path().extension() == ".tmp") names.push_back(item.path().filename());
  }
  return names;
}

class DiskCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ws-disk-cache-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::permissions(root_, fs::perms::owner_all, ignored);
    fs::remove_all(root_, ignored);
  }

  DiskCache open(uint64_t max_bytes = 1 << 20) {
    auto cache = DiskCache::open({root_ / "cache", max_bytes});
    EXPECT_TRUE(cache.ok()) << cache.error().message();
    return std::move(cache).value();
  }

  fs::path root_;
};

TEST_F(DiskCacheTest, CreatesDirectoryAndParentsWithMode0700) {
  mode_t old_umask = ::umask(0);  // the mode must not depend on the umask
  auto cache = DiskCache::open({root_ / "a" / "b" / "cache"});
  ::umask(old_umask);
  ASSERT_TRUE(cache.ok()) << cache.error().message();
  EXPECT_EQ(cache->directory(), root_ / "a" / "b" / "cache");
  EXPECT_EQ(mode_of(root_ / "a"), 0700u);
  EXPECT_EQ(mode_of(root_ / "a" / "b"), 0700u);
  EXPECT_EQ(mode_of(root_ / "a" / "b" / "cache"), 0700u);
  // Opening it again is fine.
  EXPECT_TRUE(DiskCache::open({root_ / "a" / "b" / "cache/"}).ok());
}

TEST_F(DiskCacheTest, DefaultDirectoryFollowsXdgThenHome) {
  std::string old_xdg = getenv("XDG_CACHE_HOME") ? getenv("XDG_CACHE_HOME") : "";
  std::string old_home = getenv("HOME") ? getenv("HOME") : "";
  bool had_xdg = getenv("XDG_CACHE_HOME") != nullptr;

  ::setenv("XDG_CACHE_HOME", (root_ / "xdg").c_str(), 1);
  auto cache = DiskCache::open({});
  ASSERT_TRUE(cache.ok()) << cache.error().message();
  EXPECT_EQ(cache->directory(), root_ / "xdg" / "wasm-sandbox");

  ::setenv("XDG_CACHE_HOME", "relative/path", 1);  // ignored, as the XDG spec says
  ::setenv("HOME", (root_ / "home").c_str(), 1);
  cache = DiskCache::open({});
  ASSERT_TRUE(cache.ok()) << cache.error().message();
  EXPECT_EQ(cache->directory(), root_ / "home" / ".cache" / "wasm-sandbox");

  ::unsetenv("XDG_CACHE_HOME");
  ::unsetenv("HOME");
  auto none = DiskCache::open({});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind(), ErrorKind::NotFound);

  if (had_xdg) ::setenv("XDG_CACHE_HOME", old_xdg.c_str(), 1);
  ::setenv("HOME", old_home.c_str(), 1);
}

TEST_F(DiskCacheTest, RefusesDirectoryWritableByOthers) {
  fs::path directory = root_ / "open";
  ASSERT_EQ(::mkdir(directory.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(directory.c_str(), 0777), 0);
  auto cache = DiskCache::open({directory});
  ASSERT_FALSE(cache.ok());
  EXPECT_EQ(cache.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_EQ(cache.error().message(),
            directory.string() +
                ": is writable by group or others (mode 0777); refusing to use it as the "
                "artifact cache");
  ASSERT_EQ(::chmod(directory.c_str(), 0720), 0);
  EXPECT_FALSE(DiskCache::open({directory}).ok()) << "group-writable";
  ASSERT_EQ(::chmod(directory.c_str(), 0755), 0);
  EXPECT_TRUE(DiskCache::open({directory}).ok()) << "readable by others is not a danger";
}

TEST_F(DiskCacheTest, RefusesSymbolicLinkAndNonDirectory) {
  ASSERT_EQ(::mkdir((root_ / "real").c_str(), 0700), 0);
  fs::create_directory_symlink(root_ / "real", root_ / "link");
  auto cache = DiskCache::open({root_ / "link"});
  ASSERT_FALSE(cache.ok());
  EXPECT_EQ(cache.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_NE(cache.error().message().find((root_ / "link").string() + ": is a symbolic link"),
            std::string::npos)
      << cache.error().message();

  std::ofstream(root_ / "file") << "x";
  cache = DiskCache::open({root_ / "file"});
  ASSERT_FALSE(cache.ok());
  EXPECT_NE(cache.error().message().find((root_ / "file").string() + ": is not a directory"),
            std::string::npos)
      << cache.error().message();
}

TEST_F(DiskCacheTest, RefusesDirectoryOfAnotherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory away";
  fs::path directory = root_ / "theirs";
  ASSERT_EQ(::mkdir(directory.c_str(), 0700), 0);
  ASSERT_EQ(::chown(directory.c_str(), 65534, 65534), 0);
  auto cache = DiskCache::open({directory});
  ASSERT_FALSE(cache.ok());
  EXPECT_EQ(cache.error().kind(), ErrorKind::InvalidArgument);
  EXPECT_NE(cache.error().message().find("is owned by uid 65534"), std::string::npos)
      << cache.error().message();
}

TEST_F(DiskCacheTest, PutThenGet) {
  DiskCache cache = open();
  std::string key = key_of("module");
  std::vector<uint8_t> file = artifact_file(1000, 7);
  ASSERT_TRUE(cache.put(key, file).ok());
  fs::path entry = cache.directory() / (key + ".wsa");
  EXPECT_TRUE(fs::is_regular_file(entry));
  EXPECT_EQ(mode_of(entry), 0600u);
  EXPECT_EQ(cache.size_bytes(), file.size());

  auto got = cache.get(key);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, file);
  auto artifact = deserialize(*got, entry.string());
  ASSERT_TRUE(artifact.ok()) << artifact.error().message();

  // Replacing an entry.
  std::vector<uint8_t> other = artifact_file(10, 9);
  ASSERT_TRUE(cache.put(key, other).ok());
  EXPECT_EQ(cache.get(key), other);
  EXPECT_EQ(cache.size_bytes(), other.size());
  EXPECT_TRUE(temp_files(cache.directory()).empty());
}

TEST_F(DiskCacheTest, MissingKeyIsNullopt) {
  DiskCache cache = open();
  EXPECT_EQ(cache.get(key_of("never stored")), std::nullopt);
  EXPECT_EQ(cache.size_bytes(), 0u);
}

TEST_F(DiskCacheTest, GetMarksEntryAsUsed) {
  DiskCache cache = open();
  std::string key = key_of("module");
  ASSERT_TRUE(cache.put(key, bytes_of(10, 1)).ok());
  fs::path entry = cache.directory() / (key + ".wsa");
  set_mtime(entry, 1000);
  ASSERT_TRUE(cache.get(key).has_value());
  EXPECT_GT(mtime_of(entry), time(nullptr) - 60);
}

TEST_F(DiskCacheTest, InvalidKeysAreRejected) {
  DiskCache cache = open();
  std::ofstream(root_ / "secret.wsa") << "outside the cache";
  for (std::string key :
       {std::string("../x"), std::string("../secret"), std::string("0123456789ABCDEF"),
        std::string("0123456789abcde"), std::string(""), std::string(129, 'a'),
        std::string("0123456789abcdef/x"), std::string("0123456789abcdeg"),
        std::string("/etc/passwd"), std::string("0123456789abcdef\0", 17)}) {
    SCOPED_TRACE(key);
    EXPECT_FALSE(DiskCache::valid_key(key));
    Status status = cache.put(key, bytes_of(4, 1));
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(status.error().message().find("invalid artifact cache key"), std::string::npos);
    EXPECT_EQ(cache.get(key), std::nullopt);
    cache.remove(key);
  }
  EXPECT_TRUE(fs::exists(root_ / "secret.wsa"));
  EXPECT_EQ(cache.size_bytes(), 0u);
  EXPECT_TRUE(DiskCache::valid_key(std::string(16, 'f')));
  EXPECT_TRUE(DiskCache::valid_key(std::string(128, '0')));
}

TEST_F(DiskCacheTest, RemoveDeletesAndIgnoresAbsent) {
  DiskCache cache = open();
  std::string key = key_of("module");
  ASSERT_TRUE(cache.put(key, bytes_of(10, 1)).ok());
  cache.remove(key);
  EXPECT_EQ(cache.get(key), std::nullopt);
  cache.remove(key);  // absent: no error
  cache.remove(key_of("never stored"));
}

// The contract in disk_cache.h: the cache hands back whatever a file holds; the caller
// verifies it and removes an entry that fails.
TEST_F(DiskCacheTest, CorruptEntryIsTheCallersToRemove) {
  DiskCache cache = open();
  std::string key = key_of("module");
  std::vector<uint8_t> file = artifact_file(100, 3);
  file.resize(file.size() - 1);
  ASSERT_TRUE(cache.put(key, file).ok());
  auto got = cache.get(key);
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(deserialize(*got, key).ok());
  cache.remove(key);
  EXPECT_EQ(cache.get(key), std::nullopt);
}

TEST_F(DiskCacheTest, IgnoresEntriesThatAreNotRegularFiles) {
  DiskCache cache = open();
  std::string dir_key = key_of("a directory");
  ASSERT_EQ(::mkdir((cache.directory() / (dir_key + ".wsa")).c_str(), 0700), 0);
  EXPECT_EQ(cache.get(dir_key), std::nullopt);

  std::string link_key = key_of("a link");
  std::ofstream(root_ / "outside") << "not from the cache";
  fs::create_symlink(root_ / "outside", cache.directory() / (link_key + ".wsa"));
  EXPECT_EQ(cache.get(link_key), std::nullopt);
  EXPECT_EQ(cache.size_bytes(), 0u);
}

TEST_F(DiskCacheTest, EvictsLeastRecentlyUsedFirst) {
  DiskCache cache = open(/*max_bytes=*/300);
  auto path = [&](const std::string& key) { return cache.directory() / (key + ".wsa"); };
  std::string a = key_of("a"), b = key_of("b"), c = key_of("c"), d = key_of("d"), e = key_of("e");
  ASSERT_TRUE(cache.put(a, bytes_of(100, 1)).ok());
  ASSERT_TRUE(cache.put(b, bytes_of(100, 2)).ok());
  ASSERT_TRUE(cache.put(c, bytes_of(100, 3)).ok());
  set_mtime(path(a), 1000);  // oldest
  set_mtime(path(b), 3000);  // newest
  set_mtime(path(c), 2000);

  ASSERT_TRUE(cache.put(d, bytes_of(100, 4)).ok());  // 400 > 300: a goes
  EXPECT_FALSE(fs::exists(path(a)));
  EXPECT_TRUE(fs::exists(path(b)) && fs::exists(path(c)) && fs::exists(path(d)));
  EXPECT_EQ(cache.size_bytes(), 300u);

  set_mtime(path(d), 1500);  // now c (2000) and d (1500) are older than b (3000)
  ASSERT_TRUE(cache.put(e, bytes_of(200, 5)).ok());  // 500 > 300: d, then c go
  EXPECT_FALSE(fs::exists(path(d)));
  EXPECT_FALSE(fs::exists(path(c)));
  EXPECT_TRUE(fs::exists(path(b)) && fs::exists(path(e)));
  EXPECT_EQ(cache.size_bytes(), 300u);

  // A read makes an entry the most recently used: the older unread one goes instead.
  set_mtime(path(b), 1000);
  set_mtime(path(e), 2000);
  ASSERT_TRUE(cache.get(b).has_value());
  ASSERT_TRUE(cache.put(a, bytes_of(100, 1)).ok());
  EXPECT_TRUE(fs::exists(path(b)));
  EXPECT_FALSE(fs::exists(path(e)));
}

TEST_F(DiskCacheTest, NeverEvictsTheEntryJustWritten) {
  DiskCache cache = open(/*max_bytes=*/100);
  std::string a = key_of("a"), b = key_of("b");
  ASSERT_TRUE(cache.put(a, bytes_of(60, 1)).ok());
  ASSERT_TRUE(cache.put(b, bytes_of(100, 2)).ok());  // fills the cache alone: a goes
  EXPECT_EQ(cache.get(a), std::nullopt);
  EXPECT_EQ(cache.get(b), bytes_of(100, 2));
}

TEST_F(DiskCacheTest, RefusesEntryLargerThanTheCache) {
  DiskCache cache = open(/*max_bytes=*/100);
  std::string small = key_of("small"), big = key_of("big");
  ASSERT_TRUE(cache.put(small, bytes_of(50, 1)).ok());
  Status status = cache.put(big, bytes_of(101, 2));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::LimitExceeded);
  EXPECT_NE(status.error().message().find("101 bytes exceed the artifact cache's size limit of "
                                          "100 bytes"),
            std::string::npos)
      << status.error().message();
  EXPECT_EQ(cache.get(big), std::nullopt);
  EXPECT_EQ(cache.get(small), bytes_of(50, 1)) << "nothing evicted for an entry not stored";
  EXPECT_TRUE(temp_files(cache.directory()).empty());
}

TEST_F(DiskCacheTest, RemovesStaleTemporaryFiles) {
  DiskCache cache = open();
  std::string key = key_of("module");
  fs::path stale = cache.directory() / (key + ".12345.00000000deadbeef.tmp");
  fs::path fresh = cache.directory() / (key + ".12346.00000000cafef00d.tmp");
  fs::path other = cache.directory() / "README";
  std::ofstream(stale) << "left by a writer that died";
  std::ofstream(fresh) << "being written right now";
  std::ofstream(other) << "not ours";
  set_mtime(stale, time(nullptr) - 2 * 60 * 60);
  set_mtime(other, 1000);
  EXPECT_EQ(cache.size_bytes(), 0u) << "temporary files are not entries";

  ASSERT_TRUE(cache.put(key_of("another"), bytes_of(10, 1)).ok());
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(fresh));
  EXPECT_TRUE(fs::exists(other));
}

// Readers see either no entry or a complete one, whoever writes at the same time.
void expect_complete(const std::optional<std::vector<uint8_t>>& got,
                     const std::vector<std::vector<uint8_t>>& variants) {
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(std::find(variants.begin(), variants.end(), *got) != variants.end())
      << "a partial or mixed entry of " << got->size() << " bytes";
  EXPECT_TRUE(deserialize(*got, "entry").ok());
}

TEST_F(DiskCacheTest, ConcurrentPutsFromThreadsLeaveOneCompleteEntry) {
  DiskCache cache = open();
  std::string key = key_of("module");
  std::vector<std::vector<uint8_t>> variants;
  for (uint8_t i = 0; i < 4; ++i) variants.push_back(artifact_file(64 * 1024 + i * 1000, i));

  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    while (!done) {
      auto got = cache.get(key);
      if (got && std::find(variants.begin(), variants.end(), *got) == variants.end()) ++torn;
    }
  });
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (size_t t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        if (!cache.put(key, variants[t]).ok()) ++failures;
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  done = true;
  reader.join();

  EXPECT_EQ(failures, 0);
  EXPECT_EQ(torn, 0);
  expect_complete(cache.get(key), variants);
  EXPECT_TRUE(temp_files(cache.directory()).empty());
  EXPECT_EQ(std::distance(fs::directory_iterator(cache.directory()), fs::directory_iterator()), 1);
}

TEST_F(DiskCacheTest, ConcurrentPutsFromProcessesLeaveOneCompleteEntry) {
  std::string key = key_of("module");
  std::vector<std::vector<uint8_t>> variants = {artifact_file(256 * 1024, 1),
                                                artifact_file(200 * 1024, 2)};
  std::vector<pid_t> children;
  for (size_t p = 0; p < 2; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Each process opens the directory itself, as separate programs would.
      auto cache = DiskCache::open({root_ / "cache"});
      int failures = cache.ok() ? 0 : 1;
      for (int i = 0; cache.ok() && i < 25; ++i) failures += !cache->put(key, variants[p]).ok();
      ::_exit(failures == 0 ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a writer failed";
  }
  DiskCache cache = open();
  expect_complete(cache.get(key), variants);
  EXPECT_TRUE(temp_files(cache.directory()).empty());
  EXPECT_EQ(cache.size_bytes(), cache.get(key)->size());
}

}  // namespace
}  // namespace wasm_sandbox::engine
