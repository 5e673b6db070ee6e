#include "wasi/paths.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>

namespace wasm_sandbox::wasi {
namespace {

// RESOLVE_BENEATH lookups fail with EAGAIN when a rename elsewhere races with them; they are
// safe to retry.
constexpr int kRaceRetries = 16;

int sys_openat2(int dir, const char* path, int flags, int mode) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  const bool creates = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
  how.mode = creates ? static_cast<uint64_t>(mode) : 0;  // openat2 insists
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  for (int attempt = 0;; ++attempt) {
    const long fd = syscall(SYS_openat2, dir, path, &how, sizeof how);
    if (fd >= 0 || errno != EAGAIN || attempt == kRaceRetries) return static_cast<int>(fd);
  }
}

Errno escape_or(int host_errno) {
  // EXDEV: the path left the directory.
  return host_errno == EXDEV ? Errno::NotCapable : from_errno(host_errno);
}

}  // namespace

Errno check_path(std::string_view path) {
  if (path.find('\0') != std::string_view::npos) return Errno::IlSeq;
  if (path.size() >= PATH_MAX) return Errno::NameTooLong;
  if (path.empty()) return Errno::NoEnt;
  return Errno::Success;
}

Errno open_beneath(int dir, std::string_view path, int flags, int mode, UniqueFd& out) {
  if (Errno e = check_path(path); e != Errno::Success) return e;
  if (path.front() == '/') return Errno::NotCapable;
  const std::string p(path);
  const int fd = sys_openat2(dir, p.c_str(), flags, mode);
  if (fd < 0) return escape_or(errno);
  out.reset(fd);
  return Errno::Success;
}

Errno open_parent(int dir, std::string_view path, ParentAndName& out) {
  if (Errno e = check_path(path); e != Errno::Success) return e;
  if (path.front() == '/') return Errno::NotCapable;
  size_t end = path.size();
  while (end > 0 && path[end - 1] == '/') --end;
  out.trailing_slash = end < path.size();
  const size_t slash = path.rfind('/', end == 0 ? 0 : end - 1);
  const size_t name_start = slash == std::string_view::npos ? 0 : slash + 1;
  out.name = std::string(path.substr(name_start, end - name_start));
  if (out.name.empty() || out.name == "." || out.name == "..") return Errno::Inval;
  const std::string parent = name_start == 0 ? "." : std::string(path.substr(0, name_start));
  const int fd = sys_openat2(dir, parent.c_str(), O_PATH | O_DIRECTORY, 0);
  if (fd < 0) return escape_or(errno);
  out.parent.reset(fd);
  return Errno::Success;
}

bool symlink_target_points_down(std::string_view target) {
  if (target.empty() || target.front() == '/') return false;
  size_t pos = 0;
  while (pos <= target.size()) {
    size_t next = target.find('/', pos);
    if (next == std::string_view::npos) next = target.size();
    if (target.substr(pos, next - pos) == "..") return false;
    pos = next + 1;
  }
  return true;
}

}  // namespace wasm_sandbox::wasi
