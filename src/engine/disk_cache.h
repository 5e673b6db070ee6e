// The on-disk artifact cache: content-addressed, size-bounded, shared by processes.
//
// Entries are files `<directory>/<key>.wsa`, where the key is a hex digest of everything that
// decides the compiled code (wasm bytes, engine version, compiler and flags, instrumentation).
// Entries are written rarely (after a compile that took seconds) and read on every cold start,
// so reads are one open and one read, and all bookkeeping (eviction, cleanup) happens in put().
//
// Contract with callers: the cache NEVER trusts or checks content. It returns whatever bytes a
// file holds; the caller must deserialize() them (which verifies size and hash) and check them
// (check_compatible()), and must call remove() on an entry that fails, then recompile and put()
// again. Safety against other users rests on the directory: open() refuses one that is not a
// private directory of this user.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "wasm_sandbox/result.h"

namespace wasm_sandbox::engine {

struct DiskCacheConfig {
  // Empty: $XDG_CACHE_HOME/wasm-sandbox if XDG_CACHE_HOME is an absolute path, else
  // $HOME/.cache/wasm-sandbox.
  std::filesystem::path directory;
  // The total size of the entries that put() keeps, evicting the least recently used.
  uint64_t max_bytes = 1ull << 30;
};

// Thread-safe: every method may be called from any thread at once, and any number of processes
// may share one directory. Writers never expose a partial entry (write a temporary file, then
// rename it), so concurrent writers of one key leave one complete entry. Eviction by several
// processes at once may remove a little more than needed; it never removes a file being read
// (an open file outlives its name).
class DiskCache {
 public:
  // Opens the cache directory, creating it and its missing parents with mode 0700.
  // Errors name the path: ErrorKind::InvalidArgument if it exists but is a symbolic link, is
  // not a directory, is not owned by this user, or is writable by group or others (never
  // silently use a directory someone else could plant entries in); ErrorKind::Io if it cannot
  // be created or opened; ErrorKind::NotFound if no directory is configured and neither
  // XDG_CACHE_HOME nor HOME is set. The directory is held open: renaming it afterwards does
  // not redirect the cache.
  static Result<DiskCache> open(DiskCacheConfig config);

  DiskCache(DiskCache&& other) noexcept;
  DiskCache& operator=(DiskCache&& other) noexcept;
  ~DiskCache();

  // The directory as configured (or defaulted), made absolute.
  const std::filesystem::path& directory() const { return directory_; }
  uint64_t max_bytes() const { return max_bytes_; }

  // The bytes stored under `key`, or nullopt if there is no such entry, the key is invalid,
  // the entry is not a regular file, is larger than max_bytes(), or cannot be read. Marks the
  // entry as used now (its modification time), for eviction. The bytes are unchecked: see
  // the contract above.
  std::optional<std::vector<uint8_t>> get(std::string_view key) const;

  // Stores `bytes` under `key`, replacing any entry, then evicts the least recently used other
  // entries until the total is at most max_bytes(), and removes temporary files more than an
  // hour old (left by writers that died). ErrorKind::InvalidArgument for an invalid key,
  // ErrorKind::LimitExceeded (nothing stored) if `bytes` alone exceed max_bytes(),
  // ErrorKind::Io naming the file if writing fails (nothing stored).
  Status put(std::string_view key, std::span<const uint8_t> bytes) const;

  // Removes the entry under `key` (e.g. one found corrupt). No error if absent or invalid.
  void remove(std::string_view key) const;

  // The total size of the entries now (a directory scan: for tests and statistics).
  uint64_t size_bytes() const;

  // A key is 16 to 128 lowercase hex digits, so it can never name a path.
  static bool valid_key(std::string_view key);

 private:
  DiskCache(std::filesystem::path directory, int fd, uint64_t max_bytes);
  void evict(std::string_view keep) const;

  std::filesystem::path directory_;
  int fd_ = -1;  // the directory, O_DIRECTORY: every file is opened relative to it
  uint64_t max_bytes_ = 0;
};

}  // namespace wasm_sandbox::engine
