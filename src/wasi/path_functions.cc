// path_*: everything that names a file by path. Every path is resolved beneath the directory
// descriptor it is relative to (paths.h); a read-only tree refuses every change with EROFS.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi/functions.h"
#include "wasi/paths.h"

namespace wasm_sandbox::wasi {
namespace {

constexpr uint64_t kWriteRights =
    rights::kFdWrite | rights::kFdAllocate | rights::kFdFilestatSetSize;
constexpr uint64_t kReadRights = rights::kFdRead | rights::kFdReaddir;

Errno directory(Env& env, uint32_t fd, uint64_t needed, Descriptor*& out) {
  if (Errno e = lookup(env, fd, needed, out); e != Errno::Success) return e;
  return out->kind == Descriptor::Kind::Directory ? Errno::Success : Errno::NotDir;
}

// The directory `fd`, for an operation that changes the tree beneath it.
Errno writable_directory(Env& env, uint32_t fd, uint64_t needed, Descriptor*& out) {
  if (Errno e = directory(env, fd, needed, out); e != Errno::Success) return e;
  return out->read_only ? Errno::RoFs : Errno::Success;
}

Errno guest_path(Env& env, uint32_t ptr, uint32_t len, std::string_view& out) {
  auto s = env.memory.string(ptr, len);
  if (!s) return Errno::Fault;
  out = *s;
  return Errno::Success;
}

// For operations that change the entry a path names: the directory `fd` (writable, with
// `needed`), the path, and its opened parent.
Errno entry_to_change(Env& env, uint32_t fd, uint64_t needed, uint32_t path_ptr, uint32_t path_len,
                      ParentAndName& out) {
  Descriptor* dir;
  WASI_TRY(writable_directory(env, fd, needed, dir));
  std::string_view path;
  WASI_TRY(guest_path(env, path_ptr, path_len, path));
  return open_parent(dir->fd.get(), path, out);
}

// A symlink the guest renames or hard-links must point down the tree wherever it lands (the
// rule path_symlink applies to new links); a link the host made with ".." might not.
Errno check_movable(const ParentAndName& entry) {
  char target[PATH_MAX];
  const ssize_t n = readlinkat(entry.parent.get(), entry.name.c_str(), target, sizeof target);
  if (n < 0) return Errno::Success;  // not a symlink, or missing: the operation itself says so
  return symlink_target_points_down({target, static_cast<size_t>(n)}) ? Errno::Success
                                                                      : Errno::NotCapable;
}

Errno from_result(int r) { return r == 0 ? Errno::Success : from_errno(errno); }

}  // namespace

Errno path_open(Env& env, u32 fd, u32 dirflags, u32 path_ptr, u32 path_len, u32 oflags,
                u64 rights_base, u64 rights_inheriting, u32 fdflags, u32 opened) {
  Descriptor* dir;
  WASI_TRY(directory(env, fd, rights::kPathOpen, dir));
  std::string_view path;
  WASI_TRY(guest_path(env, path_ptr, path_len, path));
  if (oflags & ~uint32_t{oflags::kCreat | oflags::kDirectory | oflags::kExcl | oflags::kTrunc}) {
    return Errno::Inval;
  }
  const bool want_write = (rights_base & kWriteRights) != 0 || (oflags & oflags::kTrunc) ||
                          (fdflags & fdflags::kAppend);
  const bool want_read = (rights_base & kReadRights) != 0;
  if (dir->read_only && (want_write || (oflags & oflags::kCreat))) return Errno::RoFs;
  if ((oflags & oflags::kCreat) && !(dir->rights_base & rights::kPathCreateFile)) {
    return Errno::NotCapable;
  }

  int flags = O_NONBLOCK;  // never block in open() (a FIFO); cleared below unless asked for
  if (oflags & oflags::kDirectory) {
    flags |= O_RDONLY | O_DIRECTORY;
  } else if (want_write) {
    flags |= want_read ? O_RDWR : O_WRONLY;
  } else {
    flags |= O_RDONLY;
  }
  if (oflags & oflags::kCreat) flags |= O_CREAT;
  if (oflags & oflags::kExcl) flags |= O_EXCL;
  if (oflags & oflags::kTrunc) flags |= O_TRUNC;
  if (fdflags & fdflags::kAppend) flags |= O_APPEND;
  if (fdflags & fdflags::kDsync) flags |= O_DSYNC;
  if (fdflags & fdflags::kSync) flags |= O_SYNC;
  if (fdflags & fdflags::kRsync) flags |= O_RSYNC;
  if (!(dirflags & lookupflags::kSymlinkFollow)) flags |= O_NOFOLLOW;

  UniqueFd file;
  WASI_TRY(open_beneath(dir->fd.get(), path, flags, 0666, file));
  if (!(fdflags & fdflags::kNonblock)) {
    const int fl = fcntl(file.get(), F_GETFL);
    if (fl >= 0) fcntl(file.get(), F_SETFL, fl & ~O_NONBLOCK);
  }
  struct stat st;
  if (fstat(file.get(), &st) != 0) return from_errno(errno);

  Descriptor d;
  d.type = file_type(st.st_mode);
  d.kind = S_ISDIR(st.st_mode) ? Descriptor::Kind::Directory : Descriptor::Kind::File;
  const uint64_t allowed =
      d.kind == Descriptor::Kind::Directory ? rights::kDirectory : rights::kFile;
  d.rights_base = rights_base & dir->rights_inheriting & allowed;
  d.rights_inheriting = rights_inheriting & dir->rights_inheriting;
  if (!want_write) d.rights_base &= ~kWriteRights;
  d.read_only = dir->read_only;
  d.preopen = dir->preopen;
  d.fd = std::move(file);
  const uint32_t number = env.state.insert(std::move(d));
  if (!env.memory.store(opened, number)) {
    env.state.fds[number].reset();
    return Errno::Fault;
  }
  return Errno::Success;
}

Errno path_create_directory(Env& env, u32 fd, u32 path_ptr, u32 path_len) {
  ParentAndName target;
  WASI_TRY(entry_to_change(env, fd, rights::kPathCreateDirectory, path_ptr, path_len, target));
  return from_result(mkdirat(target.parent.get(), target.name.c_str(), 0777));
}

Errno path_remove_directory(Env& env, u32 fd, u32 path_ptr, u32 path_len) {
  ParentAndName target;
  WASI_TRY(entry_to_change(env, fd, rights::kPathRemoveDirectory, path_ptr, path_len, target));
  return from_result(unlinkat(target.parent.get(), target.name.c_str(), AT_REMOVEDIR));
}

Errno path_unlink_file(Env& env, u32 fd, u32 path_ptr, u32 path_len) {
  ParentAndName target;
  WASI_TRY(entry_to_change(env, fd, rights::kPathUnlinkFile, path_ptr, path_len, target));
  if (target.trailing_slash) {
    struct stat st;
    if (fstatat(target.parent.get(), target.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      return S_ISDIR(st.st_mode) ? Errno::IsDir : Errno::NotDir;
    }
    return from_errno(errno);
  }
  return from_result(unlinkat(target.parent.get(), target.name.c_str(), 0));
}

Errno path_filestat_get(Env& env, u32 fd, u32 flags, u32 path_ptr, u32 path_len, u32 buf) {
  Descriptor* dir;
  WASI_TRY(directory(env, fd, rights::kPathFilestatGet, dir));
  std::string_view path;
  WASI_TRY(guest_path(env, path_ptr, path_len, path));
  const int follow = (flags & lookupflags::kSymlinkFollow) ? 0 : O_NOFOLLOW;
  UniqueFd target;
  WASI_TRY(open_beneath(dir->fd.get(), path, O_PATH | follow, 0, target));
  struct stat st;
  if (fstat(target.get(), &st) != 0) return from_errno(errno);
  return store_filestat(env.memory, buf, st) ? Errno::Success : Errno::Fault;
}

Errno path_filestat_set_times(Env& env, u32 fd, u32 flags, u32 path_ptr, u32 path_len, u64 atim,
                              u64 mtim, u32 fst_flags) {
  Descriptor* dir;
  WASI_TRY(writable_directory(env, fd, rights::kPathFilestatSetTimes, dir));
  std::string_view path;
  WASI_TRY(guest_path(env, path_ptr, path_len, path));
  struct timespec times[2];
  if (!to_timespec(atim, fst_flags, fstflags::kAtim, fstflags::kAtimNow, times[0]) ||
      !to_timespec(mtim, fst_flags, fstflags::kMtim, fstflags::kMtimNow, times[1])) {
    return Errno::Inval;
  }
  const bool follow = flags & lookupflags::kSymlinkFollow;
  UniqueFd target;
  WASI_TRY(open_beneath(dir->fd.get(), path, O_PATH | (follow ? 0 : O_NOFOLLOW), 0, target));
  return from_result(
      utimensat(target.get(), "", times, AT_EMPTY_PATH | (follow ? 0 : AT_SYMLINK_NOFOLLOW)));
}

Errno path_link(Env& env, u32 old_fd, u32 old_flags, u32 old_ptr, u32 old_len, u32 new_fd,
                u32 new_ptr, u32 new_len) {
  Descriptor* old_dir;
  Descriptor* new_dir;
  WASI_TRY(directory(env, old_fd, rights::kPathLinkSource, old_dir));
  WASI_TRY(writable_directory(env, new_fd, rights::kPathLinkTarget, new_dir));
  // A hard link from one preopen into another would give a second way in to the file (a
  // read-only file made writable).
  if (old_dir->preopen != new_dir->preopen) return Errno::XDev;
  std::string_view old_path, new_path;
  WASI_TRY(guest_path(env, old_ptr, old_len, old_path));
  WASI_TRY(guest_path(env, new_ptr, new_len, new_path));
  ParentAndName to;
  WASI_TRY(open_parent(new_dir->fd.get(), new_path, to));
  if (old_flags & lookupflags::kSymlinkFollow) {
    UniqueFd source;
    WASI_TRY(open_beneath(old_dir->fd.get(), old_path, O_PATH, 0, source));
    return from_result(linkat(source.get(), "", to.parent.get(), to.name.c_str(), AT_EMPTY_PATH));
  }
  ParentAndName from;
  WASI_TRY(open_parent(old_dir->fd.get(), old_path, from));
  WASI_TRY(check_movable(from));
  return from_result(
      linkat(from.parent.get(), from.name.c_str(), to.parent.get(), to.name.c_str(), 0));
}

Errno path_readlink(Env& env, u32 fd, u32 path_ptr, u32 path_len, u32 buf, u32 buf_len,
                    u32 bufused) {
  Descriptor* dir;
  WASI_TRY(directory(env, fd, rights::kPathReadlink, dir));
  std::string_view path;
  WASI_TRY(guest_path(env, path_ptr, path_len, path));
  auto out = env.memory.bytes(buf, buf_len);
  if (!out) return Errno::Fault;
  ParentAndName target;
  WASI_TRY(open_parent(dir->fd.get(), path, target));
  char link[PATH_MAX];
  const ssize_t n = readlinkat(target.parent.get(), target.name.c_str(), link, sizeof link);
  if (n < 0) return from_errno(errno);
  const uint32_t copied = std::min<uint32_t>(static_cast<uint32_t>(n), buf_len);
  std::memcpy(out->data(), link, copied);
  return env.memory.store(bufused, copied) ? Errno::Success : Errno::Fault;
}

Errno path_rename(Env& env, u32 old_fd, u32 old_ptr, u32 old_len, u32 new_fd, u32 new_ptr,
                  u32 new_len) {
  Descriptor* old_dir;
  Descriptor* new_dir;
  WASI_TRY(writable_directory(env, old_fd, rights::kPathRenameSource, old_dir));
  WASI_TRY(writable_directory(env, new_fd, rights::kPathRenameTarget, new_dir));
  std::string_view old_path, new_path;
  WASI_TRY(guest_path(env, old_ptr, old_len, old_path));
  WASI_TRY(guest_path(env, new_ptr, new_len, new_path));
  ParentAndName from, to;
  WASI_TRY(open_parent(old_dir->fd.get(), old_path, from));
  WASI_TRY(open_parent(new_dir->fd.get(), new_path, to));
  WASI_TRY(check_movable(from));
  return from_result(
      renameat(from.parent.get(), from.name.c_str(), to.parent.get(), to.name.c_str()));
}

Errno path_symlink(Env& env, u32 old_ptr, u32 old_len, u32 fd, u32 new_ptr, u32 new_len) {
  Descriptor* dir;
  WASI_TRY(writable_directory(env, fd, rights::kPathSymlink, dir));
  std::string_view target, path;
  WASI_TRY(guest_path(env, old_ptr, old_len, target));
  WASI_TRY(guest_path(env, new_ptr, new_len, path));
  WASI_TRY(check_path(target));
  ParentAndName link;
  WASI_TRY(open_parent(dir->fd.get(), path, link));
  // The guest could never follow a link out of its tree, but host programs could: refuse
  // to create one that could ever lead upwards.
  if (!symlink_target_points_down(target)) return Errno::NotCapable;
  const std::string contents(target);
  return from_result(symlinkat(contents.c_str(), link.parent.get(), link.name.c_str()));
}

}  // namespace wasm_sandbox::wasi
