// What a Wasi holds: the guest's descriptor table, arguments, environment, clocks and random
// generator, and the guest-memory accessors the WASI functions use.
//
// Thread safety: none; a WasiState is used by one guest call at a time (see wasi.h).
#pragma once

#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wasi/abi.h"
#include "wasm_sandbox/externs.h"

namespace wasm_sandbox::wasi {

static_assert(std::endian::native == std::endian::little, "WASI structures are little-endian");

// Owns a host file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// A captured stdout or stderr.
struct Capture {
  std::string data;
  size_t limit = 0;
  bool truncated = false;
};

struct DirEntry {
  std::string name;
  uint64_t ino;
  FileType type;
};

struct Descriptor {
  enum class Kind {
    Directory,  // a directory beneath (or at) a preopen
    File,       // a regular file, or another file a directory holds
    Stream,     // an inherited host stdio descriptor
    Socket,     // handed in by the host, or accepted from one that was
    Null,       // reads end at once, writes vanish
    Bytes,      // stdin from memory
    Capture,    // stdout/stderr into memory
  };
  Kind kind = Kind::Null;
  UniqueFd fd;  // Directory, File, Stream, Socket
  FileType type = FileType::Unknown;
  uint64_t rights_base = 0;
  uint64_t rights_inheriting = 0;
  uint16_t flags = 0;                  // fdflags, for descriptors without a host fd
  bool read_only = false;              // beneath a read-only preopen
  int preopen = -1;                    // which preopen the descriptor lies beneath (its index)
  std::string guest_path;              // preopens only: the name the guest knows it by
  std::shared_ptr<std::string> bytes;  // Bytes
  size_t position = 0;                 // Bytes
  std::shared_ptr<Capture> capture;    // Capture
  std::vector<DirEntry> entries;       // Directory: the listing fd_readdir serves
};

struct WasiState {
  std::vector<std::string> argv;
  std::vector<std::string> environ;  // "KEY=VALUE"
  std::vector<std::optional<Descriptor>> fds;
  std::vector<UniqueFd> preopen_roots;  // each preopen's directory, whatever the guest closes
  std::shared_ptr<Capture> stdout_capture, stderr_capture;
  bool real_clocks = false;
  uint64_t virtual_ns = 0;
  bool real_random = false;
  uint64_t rng[4] = {};  // xoshiro256** state

  Descriptor* get(uint32_t fd) { return fd < fds.size() && fds[fd] ? &*fds[fd] : nullptr; }
  // Puts `d` in the lowest free slot; its number.
  uint32_t insert(Descriptor d);
};

// Bounds-checked access to the calling guest's linear memory.
class GuestMemory {
 public:
  GuestMemory() = default;
  GuestMemory(uint8_t* base, uint64_t size) : base_(base), size_(size) {}

  bool contains(uint64_t offset, uint64_t length) const {
    return offset <= size_ && length <= size_ - offset;
  }
  // The bytes [offset, offset + length), or an empty optional if out of bounds.
  std::optional<std::span<uint8_t>> bytes(uint64_t offset, uint64_t length) const {
    if (!contains(offset, length)) return std::nullopt;
    return std::span<uint8_t>(base_ + offset, length);
  }
  template <class T>
  bool load(uint64_t offset, T& out) const {
    if (!contains(offset, sizeof(T))) return false;
    std::memcpy(&out, base_ + offset, sizeof(T));
    return true;
  }
  template <class T>
  bool store(uint64_t offset, T value) const {
    if (!contains(offset, sizeof(T))) return false;
    std::memcpy(base_ + offset, &value, sizeof(T));
    return true;
  }
  // A guest string (not NUL-terminated) of `length` bytes.
  std::optional<std::string_view> string(uint64_t offset, uint64_t length) const {
    if (!contains(offset, length)) return std::nullopt;
    return std::string_view(reinterpret_cast<const char*>(base_ + offset), length);
  }

 private:
  uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
};

// What every WASI function receives.
struct Env {
  WasiState& state;
  GuestMemory memory;
  const Caller& caller;
  // Set by a function that must end the guest call instead of returning an errno (it was
  // interrupted or timed out while blocking).
  std::optional<Error> stop;
};

// A scatter/gather list from the guest, as host iovecs into its memory.
// Errno::Fault if any buffer is out of bounds, Errno::Inval if there are too many.
Errno read_iovecs(const GuestMemory& memory, uint32_t iovs, uint32_t count,
                  std::vector<struct iovec>& out);

// Host time for a WASI clock, in ns (real or virtual).
Errno clock_now(const WasiState& state, uint32_t clock, uint64_t& out);
// The host clock behind a WASI clock id; false for an unknown id.
bool host_clock(uint32_t clock, clockid_t& out);

inline uint64_t to_ns(const struct timespec& t) {
  return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(t.tv_nsec);
}
inline struct timespec to_timespec(uint64_t ns) {
  return {static_cast<time_t>(ns / 1'000'000'000u), static_cast<long>(ns % 1'000'000'000u)};
}

}  // namespace wasm_sandbox::wasi
