// The on-disk artifact cache, on POSIX calls relative to one open directory descriptor, so that
// no path is resolved twice and no entry name can lead outside the directory.
#include "engine/disk_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <utility>

namespace wasm_sandbox::engine {
namespace {

constexpr std::string_view kEntrySuffix = ".wsa";
constexpr std::string_view kTempSuffix = ".tmp";
// A temporary file this old belongs to a writer that died: writes take milliseconds.
constexpr int64_t kStaleTempSeconds = 60 * 60;

std::string entry_name(std::string_view key) {
  return std::string(key) + std::string(kEntrySuffix);
}

Error io_error(const std::filesystem::path& path, const char* doing, int error) {
  return Error(ErrorKind::Io, path.string() + ": cannot " + doing + ": " + std::strerror(error));
}

Result<std::filesystem::path> default_directory() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  // The XDG spec says to ignore a relative path.
  if (xdg && xdg[0] == '/') return std::filesystem::path(xdg) / "wasm-sandbox";
  const char* home = std::getenv("HOME");
  if (home && home[0] != '\0') return std::filesystem::path(home) / ".cache" / "wasm-sandbox";
  return Error(ErrorKind::NotFound,
               "no artifact cache directory: neither XDG_CACHE_HOME nor HOME is set");
}

// mkdir -p with mode 0700 for what it creates. True in `created` if the last one was created.
Status create_directories(const std::filesystem::path& directory, bool& created) {
  std::filesystem::path prefix;
  for (const std::filesystem::path& part : directory) {
    prefix /= part;
    if (prefix == prefix.root_path()) continue;
    created = ::mkdir(prefix.c_str(), 0700) == 0;
    if (!created && errno != EEXIST) return io_error(prefix, "create the directory", errno);
  }
  return {};
}

// 64 bits that another process or thread is unlikely to pick in the same microsecond. O_EXCL
// catches the rest.
uint64_t random_u64() {
  uint64_t value = 0;
  if (getrandom(&value, sizeof value, GRND_NONBLOCK) == sizeof value) return value;
  static std::atomic<uint64_t> counter{0};
  return uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()) *
             0x9e3779b97f4a7c15u +
         counter.fetch_add(1);
}

std::string hex(uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4) text[i] = kDigits[value & 0xf];
  return text;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool write_all(int fd, std::span<const uint8_t> bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes = bytes.subspan(size_t(n));
  }
  return true;
}

struct Entry {
  timespec mtime;
  uint64_t size;
  std::string name;
};

bool older(const Entry& a, const Entry& b) {
  if (a.mtime.tv_sec != b.mtime.tv_sec) return a.mtime.tv_sec < b.mtime.tv_sec;
  if (a.mtime.tv_nsec != b.mtime.tv_nsec) return a.mtime.tv_nsec < b.mtime.tv_nsec;
  return a.name < b.name;
}

// The entries of the directory `fd`; with `clean`, also removes stale temporary files.
std::vector<Entry> scan(int fd, bool clean) {
  std::vector<Entry> entries;
  // A description of its own: a dup() would share the read position with other threads.
  int scan_fd = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (scan_fd < 0) return entries;
  DIR* dir = ::fdopendir(scan_fd);
  if (!dir) {
    ::close(scan_fd);
    return entries;
  }
  time_t now = ::time(nullptr);
  while (const dirent* item = ::readdir(dir)) {
    std::string_view name = item->d_name;
    bool entry = ends_with(name, kEntrySuffix) &&
                 DiskCache::valid_key(name.substr(0, name.size() - kEntrySuffix.size()));
    bool temp = ends_with(name, kTempSuffix);
    if (!entry && !temp) continue;
    struct stat st;
    if (::fstatat(fd, item->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    if (entry) {
      entries.push_back({st.st_mtim, uint64_t(st.st_size), std::string(name)});
    } else if (clean && now - st.st_mtim.tv_sec > kStaleTempSeconds) {
      ::unlinkat(fd, item->d_name, 0);
    }
  }
  ::closedir(dir);
  return entries;
}

}  // namespace

bool DiskCache::valid_key(std::string_view key) {
  if (key.size() < 16 || key.size() > 128) return false;
  return std::all_of(key.begin(), key.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<DiskCache> DiskCache::open(DiskCacheConfig config) {
  std::filesystem::path directory = config.directory;
  if (directory.empty()) {
    auto found = default_directory();
    if (!found.ok()) return std::move(found).error();
    directory = std::move(found).value();
  }
  std::error_code ignored;
  directory = std::filesystem::absolute(directory, ignored).lexically_normal();
  if (!directory.has_filename() && directory != directory.root_path()) {
    directory = directory.parent_path();  // no trailing separator in messages
  }

  bool created = false;
  if (auto status = create_directories(directory, created); !status.ok()) {
    return std::move(status).error();
  }
  auto refuse = [&](const std::string& problem) {
    return Error(ErrorKind::InvalidArgument, directory.string() + ": " + problem +
                                                 "; refusing to use it as the artifact cache");
  };
  // lstat first for a clear message; O_NOFOLLOW and fstat below make the check hold for the
  // directory actually opened.
  struct stat st;
  if (::lstat(directory.c_str(), &st) != 0) return io_error(directory, "stat", errno);
  if (S_ISLNK(st.st_mode)) return refuse("is a symbolic link");
  if (!S_ISDIR(st.st_mode)) return refuse("is not a directory");
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return io_error(directory, "open the directory", errno);
  DiskCache cache(directory, fd, config.max_bytes);  // closes fd on every return below
  if (created) ::fchmod(fd, 0700);                   // whatever the umask made of it
  if (::fstat(fd, &st) != 0) return io_error(directory, "stat", errno);
  if (!S_ISDIR(st.st_mode)) return refuse("is not a directory");
  if (st.st_uid != ::geteuid()) {
    return refuse("is owned by uid " + std::to_string(st.st_uid) + ", not by this user (uid " +
                  std::to_string(::geteuid()) + ")");
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
    return refuse(std::string("is writable by group or others (mode ") + mode + ")");
  }
  return cache;
}

DiskCache::DiskCache(std::filesystem::path directory, int fd, uint64_t max_bytes)
    : directory_(std::move(directory)), fd_(fd), max_bytes_(max_bytes) {}

DiskCache::DiskCache(DiskCache&& other) noexcept
    : directory_(std::move(other.directory_)),
      fd_(std::exchange(other.fd_, -1)),
      max_bytes_(other.max_bytes_) {}

DiskCache& DiskCache::operator=(DiskCache&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    directory_ = std::move(other.directory_);
    fd_ = std::exchange(other.fd_, -1);
    max_bytes_ = other.max_bytes_;
  }
  return *this;
}

DiskCache::~DiskCache() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::vector<uint8_t>> DiskCache::get(std::string_view key) const {
  if (!valid_key(key)) return std::nullopt;
  int fd = ::openat(fd_, entry_name(key).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<std::vector<uint8_t>> result;
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && uint64_t(st.st_size) <= max_bytes_) {
    std::vector<uint8_t> bytes(size_t(st.st_size));
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += size_t(n);
    }
    if (done == bytes.size()) {
      ::futimens(fd, nullptr);  // used now: least-recently-used eviction goes by mtime
      result = std::move(bytes);
    }
  }
  ::close(fd);
  return result;
}

Status DiskCache::put(std::string_view key, std::span<const uint8_t> bytes) const {
  if (!valid_key(key)) {
    return Error(ErrorKind::InvalidArgument, "invalid artifact cache key `" +
                                                 std::string(key.substr(0, 200)) +
                                                 "`: expected 16 to 128 lowercase hex digits");
  }
  std::string name = entry_name(key);
  if (bytes.size() > max_bytes_) {
    return Error(ErrorKind::LimitExceeded, (directory_ / name).string() + ": " +
                                               std::to_string(bytes.size()) +
                                               " bytes exceed the artifact cache's size limit of " +
                                               std::to_string(max_bytes_) + " bytes; not stored");
  }

  // A temporary file of our own, complete before it takes the entry's name: readers see the
  // old entry or the new one, never a part.
  std::string temp;
  int fd = -1;
  for (int attempt = 0; fd < 0 && attempt < 8; ++attempt) {
    temp = std::string(key) + "." + std::to_string(::getpid()) + "." + hex(random_u64()) +
           std::string(kTempSuffix);
    fd = ::openat(fd_, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) return io_error(directory_ / temp, "create", errno);
  // No fsync: after a crash, an entry may be short or empty, which deserialize() detects.
  bool written = write_all(fd, bytes);
  int write_errno = errno;
  if (::close(fd) != 0 && written) {
    written = false;
    write_errno = errno;
  }
  if (!written) {
    ::unlinkat(fd_, temp.c_str(), 0);
    return io_error(directory_ / temp, "write", write_errno);
  }
  if (::renameat(fd_, temp.c_str(), fd_, name.c_str()) != 0) {
    int rename_errno = errno;
    ::unlinkat(fd_, temp.c_str(), 0);
    return io_error(directory_ / name, "rename a temporary file to", rename_errno);
  }
  evict(name);
  return {};
}

void DiskCache::evict(std::string_view keep) const {
  std::vector<Entry> entries = scan(fd_, /*clean=*/true);
  uint64_t total = 0;
  for (const Entry& entry : entries) total += entry.size;
  if (total <= max_bytes_) return;
  std::sort(entries.begin(), entries.end(), older);
  for (const Entry& entry : entries) {
    if (total <= max_bytes_) break;
    if (entry.name == keep) continue;
    // ENOENT: another process evicted it first; either way it no longer counts.
    ::unlinkat(fd_, entry.name.c_str(), 0);
    total -= entry.size;
  }
}

void DiskCache::remove(std::string_view key) const {
  if (valid_key(key)) ::unlinkat(fd_, entry_name(key).c_str(), 0);
}

uint64_t DiskCache::size_bytes() const {
  uint64_t total = 0;
  for (const Entry& entry : scan(fd_, /*clean=*/false)) total += entry.size;
  return total;
}

}  // namespace wasm_sandbox::engine
