// WasiConfig, and Wasi: building a guest's WASI state from a config, binding the functions.
#include "wasm_sandbox/wasi.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "wasi/functions.h"
#include "wasi/state.h"

namespace wasm_sandbox {

namespace detail {
struct WasiState : wasi::WasiState {};
}  // namespace detail

// --- WasiConfig --------------------------------------------------------------------------

WasiConfig& WasiConfig::args(std::vector<std::string> argv) {
  argv_ = std::move(argv);
  return *this;
}
WasiConfig& WasiConfig::arg(std::string value) {
  argv_.push_back(std::move(value));
  return *this;
}
WasiConfig& WasiConfig::env(std::string key, std::string value) {
  env_.emplace_back(std::move(key), std::move(value));
  return *this;
}
WasiConfig& WasiConfig::inherit_env(std::string key) {
  inherited_env_.push_back(std::move(key));
  return *this;
}
WasiConfig& WasiConfig::preopen(std::filesystem::path host_dir, std::string guest_path,
                                DirAccess access) {
  preopens_.push_back({std::move(host_dir), std::move(guest_path), access});
  return *this;
}
WasiConfig& WasiConfig::stdin_bytes(std::string bytes) {
  stdin_ = {StdioSpec::Kind::Bytes, std::move(bytes), {}, 0};
  return *this;
}
WasiConfig& WasiConfig::stdin_file(std::filesystem::path path) {
  stdin_ = {StdioSpec::Kind::File, {}, std::move(path), 0};
  return *this;
}
WasiConfig& WasiConfig::inherit_stdin() {
  stdin_ = {StdioSpec::Kind::Inherit, {}, {}, 0};
  return *this;
}
WasiConfig& WasiConfig::capture_stdout(size_t limit) {
  stdout_ = {StdioSpec::Kind::Capture, {}, {}, limit};
  return *this;
}
WasiConfig& WasiConfig::capture_stderr(size_t limit) {
  stderr_ = {StdioSpec::Kind::Capture, {}, {}, limit};
  return *this;
}
WasiConfig& WasiConfig::stdout_file(std::filesystem::path path) {
  stdout_ = {StdioSpec::Kind::File, {}, std::move(path), 0};
  return *this;
}
WasiConfig& WasiConfig::stderr_file(std::filesystem::path path) {
  stderr_ = {StdioSpec::Kind::File, {}, std::move(path), 0};
  return *this;
}
WasiConfig& WasiConfig::inherit_stdout() {
  stdout_ = {StdioSpec::Kind::Inherit, {}, {}, 0};
  return *this;
}
WasiConfig& WasiConfig::inherit_stderr() {
  stderr_ = {StdioSpec::Kind::Inherit, {}, {}, 0};
  return *this;
}
WasiConfig& WasiConfig::inherit_stdio() {
  return inherit_stdin().inherit_stdout().inherit_stderr();
}
WasiConfig& WasiConfig::real_clocks() {
  real_clocks_ = true;
  return *this;
}
WasiConfig& WasiConfig::virtual_clock(uint64_t start_ns) {
  real_clocks_ = false;
  clock_start_ns_ = start_ns;
  return *this;
}
WasiConfig& WasiConfig::real_random() {
  real_random_ = true;
  return *this;
}
WasiConfig& WasiConfig::seeded_random(uint64_t seed) {
  real_random_ = false;
  seed_ = seed;
  return *this;
}
WasiConfig& WasiConfig::socket(int host_fd) {
  sockets_.push_back(host_fd);
  return *this;
}

// --- Wasi ----------------------------------------------------------------------------------

namespace {

using wasi::Descriptor;
using wasi::FileType;
namespace rights = wasi::rights;

constexpr uint64_t kStdinRights =
    rights::kFdRead | rights::kFdFdstatSetFlags | rights::kFdFilestatGet | rights::kPollFdReadwrite;
constexpr uint64_t kStdoutRights = rights::kFdWrite | rights::kFdFdstatSetFlags |
                                   rights::kFdFilestatGet | rights::kPollFdReadwrite;

Error io_error(const std::string& what, const std::filesystem::path& path, int e) {
  return Error(ErrorKind::Io, what + " " + path.string() + ": " + std::strerror(e));
}

// A duplicate of one of the host's descriptors, close-on-exec.
Result<Descriptor> host_stream(int host_fd, uint64_t stream_rights, const char* name) {
  Descriptor d;
  d.kind = Descriptor::Kind::Stream;
  d.fd.reset(fcntl(host_fd, F_DUPFD_CLOEXEC, 3));
  if (d.fd.get() < 0) {
    return Error(ErrorKind::Io,
                 std::string("cannot inherit ") + name + ": " + std::strerror(errno));
  }
  struct stat st;
  d.type = fstat(d.fd.get(), &st) == 0 ? wasi::file_type(st.st_mode) : FileType::Unknown;
  d.rights_base = stream_rights;
  return d;
}

Result<Descriptor> make_stdin(const StdioSpec& spec) {
  Descriptor d;
  d.rights_base = kStdinRights;
  switch (spec.kind) {
    case StdioSpec::Kind::Null:
    case StdioSpec::Kind::Capture:
      d.kind = Descriptor::Kind::Null;
      d.type = FileType::CharacterDevice;
      return d;
    case StdioSpec::Kind::Bytes:
      d.kind = Descriptor::Kind::Bytes;
      d.bytes = std::make_shared<std::string>(spec.bytes);
      return d;
    case StdioSpec::Kind::File: {
      d.kind = Descriptor::Kind::File;
      d.type = FileType::RegularFile;
      d.fd.reset(open(spec.path.c_str(), O_RDONLY | O_CLOEXEC));
      if (d.fd.get() < 0) return io_error("cannot read stdin from", spec.path, errno);
      d.rights_base |= rights::kFdSeek | rights::kFdTell;
      return d;
    }
    case StdioSpec::Kind::Inherit:
      return host_stream(STDIN_FILENO, kStdinRights, "stdin");
  }
  return d;
}

Result<Descriptor> make_output(const StdioSpec& spec, int host_fd, const char* name,
                               std::shared_ptr<wasi::Capture>& capture) {
  Descriptor d;
  d.rights_base = kStdoutRights;
  switch (spec.kind) {
    case StdioSpec::Kind::Null:
    case StdioSpec::Kind::Bytes:
      d.kind = Descriptor::Kind::Null;
      d.type = FileType::CharacterDevice;
      return d;
    case StdioSpec::Kind::Capture:
      d.kind = Descriptor::Kind::Capture;
      capture = std::make_shared<wasi::Capture>();
      capture->limit = spec.capture_limit;
      d.capture = capture;
      return d;
    case StdioSpec::Kind::File:
      d.kind = Descriptor::Kind::File;
      d.type = FileType::RegularFile;
      d.fd.reset(open(spec.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
      if (d.fd.get() < 0) {
        return io_error(std::string("cannot write ") + name + " to", spec.path, errno);
      }
      return d;
    case StdioSpec::Kind::Inherit:
      return host_stream(host_fd, kStdoutRights, name);
  }
  return d;
}

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

wasi::GuestMemory memory_of(Caller& caller) {
  auto memory = caller.memory();
  if (!memory) return {};
  return {memory->data(), memory->size()};
}

template <class... A>
Func bind(std::shared_ptr<detail::WasiState> state, wasi::Errno (*fn)(wasi::Env&, A...)) {
  return Func::wrap([state = std::move(state), fn](Caller& caller, A... args) -> Result<int32_t> {
    wasi::Env env{*state, memory_of(caller), caller, std::nullopt};
    const wasi::Errno e = fn(env, args...);
    if (env.stop) return std::move(*env.stop);
    return static_cast<int32_t>(e);
  });
}

}  // namespace

Result<Wasi> Wasi::create(const WasiConfig& config) {
  auto state = std::make_shared<detail::WasiState>();
  state->argv = config.argv_;
  for (const auto& [key, value] : config.env_) state->environ.push_back(key + "=" + value);
  for (const auto& key : config.inherited_env_) {
    if (const char* value = std::getenv(key.c_str())) state->environ.push_back(key + "=" + value);
  }
  for (const auto& s : state->argv) {
    if (s.find('\0') != std::string::npos) {
      return Error(ErrorKind::InvalidArgument, "argument contains a NUL byte");
    }
  }
  for (const auto& s : state->environ) {
    if (s.find('\0') != std::string::npos || s.front() == '=') {
      return Error(ErrorKind::InvalidArgument, "environment variable `" + s + "` is malformed");
    }
  }

  auto in = make_stdin(config.stdin_);
  if (!in) return std::move(in).error();
  auto out = make_output(config.stdout_, STDOUT_FILENO, "stdout", state->stdout_capture);
  if (!out) return std::move(out).error();
  auto err = make_output(config.stderr_, STDERR_FILENO, "stderr", state->stderr_capture);
  if (!err) return std::move(err).error();
  state->fds.emplace_back(std::move(*in));
  state->fds.emplace_back(std::move(*out));
  state->fds.emplace_back(std::move(*err));

  for (const auto& p : config.preopens_) {
    if (p.guest_path.empty()) {
      return Error(ErrorKind::InvalidArgument,
                   "preopen " + p.host_dir.string() + ": the guest path is empty");
    }
    Descriptor d;
    d.kind = Descriptor::Kind::Directory;
    d.type = FileType::Directory;
    d.fd.reset(open(p.host_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (d.fd.get() < 0) return io_error("cannot open directory", p.host_dir, errno);
    d.rights_base = rights::kDirectory;
    d.rights_inheriting = rights::kAll;
    d.read_only = p.access == DirAccess::ReadOnly;
    d.guest_path = p.guest_path;
    d.preopen = static_cast<int>(state->preopen_roots.size());
    state->preopen_roots.emplace_back(fcntl(d.fd.get(), F_DUPFD_CLOEXEC, 3));
    state->fds.emplace_back(std::move(d));
  }
  for (int host_fd : config.sockets_) {
    int type = 0;
    socklen_t len = sizeof type;
    if (getsockopt(host_fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
      return Error(ErrorKind::InvalidArgument,
                   "descriptor " + std::to_string(host_fd) + " is not a socket");
    }
    Descriptor d;
    d.kind = Descriptor::Kind::Socket;
    d.type = type == SOCK_DGRAM ? FileType::SocketDgram : FileType::SocketStream;
    d.fd.reset(fcntl(host_fd, F_DUPFD_CLOEXEC, 3));
    if (d.fd.get() < 0) {
      return Error(ErrorKind::Io, "cannot duplicate socket " + std::to_string(host_fd) + ": " +
                                      std::strerror(errno));
    }
    d.rights_base = rights::kSocket;
    state->fds.emplace_back(std::move(d));
  }

  state->real_clocks = config.real_clocks_;
  state->virtual_ns = config.clock_start_ns_;
  state->real_random = config.real_random_;
  uint64_t seed = config.seed_;
  for (uint64_t& word : state->rng) word = splitmix64(seed);
  return Wasi(std::move(state));
}

void Wasi::add_to(Imports& imports) const {
  static constexpr const char* kModule = "wasi_snapshot_preview1";
#define WASI_BIND(name, ...) imports.add(kModule, #name, bind(state_, &wasi::name));
  WASI_FUNCTIONS(WASI_BIND)
#undef WASI_BIND
  imports.add(kModule, "proc_exit",
              Func::wrap([](int32_t code) -> Status { return Error::exit(code); }));
}

Result<int32_t> Wasi::run(const Instance& instance) const {
  auto result = instance.call("_start", {});
  if (result) return 0;
  if (result.error().trap() == TrapKind::Exit) return result.error().exit_code();
  return std::move(result).error();
}

std::string Wasi::stdout_text() const {
  return state_->stdout_capture ? state_->stdout_capture->data : std::string();
}
std::string Wasi::stderr_text() const {
  return state_->stderr_capture ? state_->stderr_capture->data : std::string();
}
bool Wasi::stdout_truncated() const {
  return state_->stdout_capture && state_->stdout_capture->truncated;
}
bool Wasi::stderr_truncated() const {
  return state_->stderr_capture && state_->stderr_capture->truncated;
}
void Wasi::advance_clock(uint64_t ns) const { state_->virtual_ns += ns; }

}  // namespace wasm_sandbox
