// WASI preview1 (`wasi_snapshot_preview1`) as capabilities: a guest sees only what the host
// granted in a WasiConfig. Nothing is granted by default: no arguments beyond the program
// name, no environment, no files, empty stdin, stdout and stderr discarded, clocks that read
// zero and a random generator seeded with zero.
//
//   WasiConfig config;
//   config.args({"wc", "/data/words.txt"})
//       .preopen("/srv/tenant-7", "/data", DirAccess::ReadOnly)
//       .capture_stdout();
//   auto wasi = Wasi::create(config);            // opens the directories and files now
//   Imports imports;
//   wasi->add_to(imports);
//   auto instance = module->instantiate(imports);
//   Result<int32_t> status = wasi->run(*instance);  // _start; the guest's exit status
//   std::string out = wasi->stdout_text();
//
// Confinement: every path a guest names resolves beneath one of its preopened directories,
// in the kernel (openat2 with RESOLVE_BENEATH), so `..`, absolute paths, symlinks (including
// ones the guest creates, and races between a check and a use) cannot leave it; escapes fail
// with ENOTCAPABLE. Symlinks the guest creates may only point down the tree (no absolute
// target, no ".."), so that host programs following them stay inside too. A
// read-only directory refuses every change beneath it with EROFS.
//
// Thread safety: a Wasi belongs to the instances it was added to; like them, it must not be
// used from two threads at once. Its accessors may be called between guest calls.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wasm_sandbox/engine.h"
#include "wasm_sandbox/result.h"

namespace wasm_sandbox {

enum class DirAccess { ReadOnly, ReadWrite };

// Where a guest's stdin comes from and where its stdout and stderr go.
struct StdioSpec {
  enum class Kind { Null, Bytes, File, Inherit, Capture };
  Kind kind = Kind::Null;
  std::string bytes;           // Bytes (stdin)
  std::filesystem::path path;  // File: read for stdin; created or truncated for output
  size_t capture_limit = 0;    // Capture: bytes kept; writes past it fail with ENOSPC
};

class WasiConfig {
 public:
  // The whole argv, program name first. Default: {"main"}.
  WasiConfig& args(std::vector<std::string> argv);
  WasiConfig& arg(std::string value);
  // One environment variable, KEY=VALUE.
  WasiConfig& env(std::string key, std::string value);
  // The host's value of `key`, if the host has it set (read when Wasi::create runs).
  WasiConfig& inherit_env(std::string key);

  // Grants the host directory `host_dir` to the guest as `guest_path` (e.g. "/data" or ".").
  WasiConfig& preopen(std::filesystem::path host_dir, std::string guest_path,
                      DirAccess access = DirAccess::ReadWrite);

  WasiConfig& stdin_bytes(std::string bytes);
  WasiConfig& stdin_file(std::filesystem::path path);
  WasiConfig& inherit_stdin();
  // Default limit: 1 MiB.
  WasiConfig& capture_stdout(size_t limit = 1 << 20);
  WasiConfig& capture_stderr(size_t limit = 1 << 20);
  WasiConfig& stdout_file(std::filesystem::path path);
  WasiConfig& stderr_file(std::filesystem::path path);
  WasiConfig& inherit_stdout();
  WasiConfig& inherit_stderr();
  // inherit_stdin(), inherit_stdout() and inherit_stderr().
  WasiConfig& inherit_stdio();

  // Clocks read the host's real and monotonic clocks. Default: a virtual clock.
  WasiConfig& real_clocks();
  // A virtual clock: both clocks read `start_ns` and advance only by Wasi::advance_clock()
  // and by the guest's own sleeps (poll_oneoff), which return at once. Deterministic.
  WasiConfig& virtual_clock(uint64_t start_ns = 0);

  // random_get reads the kernel's generator. Default: a generator seeded with 0.
  WasiConfig& real_random();
  // A deterministic generator (not cryptographic): same seed, same bytes.
  WasiConfig& seeded_random(uint64_t seed);

  // Hands the guest a connected or listening socket. The Wasi owns a duplicate of `host_fd`;
  // the caller keeps its own. Guest descriptors of sockets follow the preopens.
  WasiConfig& socket(int host_fd);

  struct Preopen {
    std::filesystem::path host_dir;
    std::string guest_path;
    DirAccess access;
  };

 private:
  friend class Wasi;
  std::vector<std::string> argv_{"main"};
  std::vector<std::pair<std::string, std::string>> env_;
  std::vector<std::string> inherited_env_;
  std::vector<Preopen> preopens_;
  StdioSpec stdin_, stdout_, stderr_;
  bool real_clocks_ = false;
  uint64_t clock_start_ns_ = 0;
  bool real_random_ = false;
  uint64_t seed_ = 0;
  std::vector<int> sockets_;
};

namespace detail {
struct WasiState;
}

class Wasi {
 public:
  // Opens every preopened directory and stdio file. An error names the path and what is wrong
  // (a missing directory, a file that cannot be created).
  static Result<Wasi> create(const WasiConfig& config);

  // Adds every wasi_snapshot_preview1 function to `imports`. The functions keep this Wasi's
  // state alive; the guest's memory must be exported as "memory".
  void add_to(Imports& imports) const;

  // Calls the instance's `_start` export: the guest's exit status (0 when _start returns, the
  // status given to proc_exit otherwise). A trap or a missing _start is an error.
  Result<int32_t> run(const Instance& instance) const;

  // What the guest wrote to a captured stdout or stderr (empty otherwise).
  std::string stdout_text() const;
  std::string stderr_text() const;
  // True if the guest tried to write past a capture limit.
  bool stdout_truncated() const;
  bool stderr_truncated() const;

  // Moves a virtual clock forward (no effect on real clocks).
  void advance_clock(uint64_t ns) const;

 private:
  explicit Wasi(std::shared_ptr<detail::WasiState> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::WasiState> state_;
};

}  // namespace wasm_sandbox
