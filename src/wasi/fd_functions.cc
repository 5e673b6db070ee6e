// fd_*: reading, writing, seeking and describing open descriptors.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>

#include "wasi/functions.h"

// Linux 6.9; older C headers lack the name.
#ifndef RWF_NOAPPEND
#define RWF_NOAPPEND 0x00000020
#endif

namespace wasm_sandbox::wasi {
namespace {

// Writes to a pipe or socket without letting SIGPIPE kill the host: the signal is blocked on
// this thread for the write, and a SIGPIPE the write raised is consumed.
ssize_t write_without_sigpipe(int fd, const struct iovec* iov, int count) {
  sigset_t pipe_only, old;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  const ssize_t n = writev(fd, iov, count);
  const int saved = errno;
  if (n < 0 && saved == EPIPE) {
    const struct timespec zero {};
    sigtimedwait(&pipe_only, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return n;
}

size_t total_length(const std::vector<struct iovec>& iovs) {
  size_t total = 0;
  for (const auto& v : iovs) total += v.iov_len;
  return total;
}

Errno write_to(Descriptor& d, const std::vector<struct iovec>& iovs, size_t& written) {
  switch (d.kind) {
    case Descriptor::Kind::Null:
      written = total_length(iovs);
      return Errno::Success;
    case Descriptor::Kind::Capture: {
      Capture& c = *d.capture;
      written = 0;
      for (const auto& v : iovs) {
        const size_t room = c.limit - std::min(c.limit, c.data.size());
        const size_t n = std::min(room, v.iov_len);
        c.data.append(static_cast<const char*>(v.iov_base), n);
        written += n;
        if (n < v.iov_len) {
          c.truncated = true;
          break;
        }
      }
      return written == 0 && total_length(iovs) > 0 ? Errno::NoSpc : Errno::Success;
    }
    case Descriptor::Kind::Bytes:
    case Descriptor::Kind::Directory:
      return Errno::BadF;
    case Descriptor::Kind::Socket:
    case Descriptor::Kind::Stream:
    case Descriptor::Kind::File: {
      const bool may_raise_sigpipe = d.kind != Descriptor::Kind::File;
      const int count = static_cast<int>(iovs.size());
      const ssize_t n = may_raise_sigpipe ? write_without_sigpipe(d.fd.get(), iovs.data(), count)
                                          : writev(d.fd.get(), iovs.data(), count);
      if (n < 0) return from_errno(errno);
      written = static_cast<size_t>(n);
      return Errno::Success;
    }
  }
  return Errno::BadF;
}

Errno read_from(Descriptor& d, const std::vector<struct iovec>& iovs, size_t& got) {
  got = 0;
  switch (d.kind) {
    case Descriptor::Kind::Null:
      return Errno::Success;
    case Descriptor::Kind::Bytes:
      for (const auto& v : iovs) {
        const size_t n = std::min(v.iov_len, d.bytes->size() - d.position);
        std::memcpy(v.iov_base, d.bytes->data() + d.position, n);
        d.position += n;
        got += n;
      }
      return Errno::Success;
    case Descriptor::Kind::Capture:
    case Descriptor::Kind::Directory:
      return Errno::BadF;
    case Descriptor::Kind::Socket:
    case Descriptor::Kind::Stream:
    case Descriptor::Kind::File: {
      const ssize_t n = readv(d.fd.get(), iovs.data(), static_cast<int>(iovs.size()));
      if (n < 0) return from_errno(errno);
      got = static_cast<size_t>(n);
      return Errno::Success;
    }
  }
  return Errno::BadF;
}

bool has_host_fd(const Descriptor& d) { return d.fd.get() >= 0; }

uint16_t host_fdflags(int fd) {
  const int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return 0;
  uint16_t out = 0;
  if (fl & O_APPEND) out |= fdflags::kAppend;
  if (fl & O_NONBLOCK) out |= fdflags::kNonblock;
  if ((fl & O_SYNC) == O_SYNC)
    out |= fdflags::kSync;
  else if (fl & O_DSYNC)
    out |= fdflags::kDsync;
  return out;
}

FileType dirent_type(unsigned char t) {
  switch (t) {
    case DT_BLK:
      return FileType::BlockDevice;
    case DT_CHR:
      return FileType::CharacterDevice;
    case DT_DIR:
      return FileType::Directory;
    case DT_REG:
      return FileType::RegularFile;
    case DT_LNK:
      return FileType::SymbolicLink;
    case DT_SOCK:
      return FileType::SocketStream;
    default:
      return FileType::Unknown;
  }
}

// Reads a directory's entries, sorted by name so that listings are deterministic.
Errno list_directory(int dir, std::vector<DirEntry>& out) {
  const int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return from_errno(errno);
  DIR* stream = fdopendir(fd);
  if (!stream) {
    const int saved = errno;
    close(fd);
    return from_errno(saved);
  }
  out.clear();
  errno = 0;
  while (struct dirent* e = readdir(stream)) {
    FileType type = dirent_type(e->d_type);
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) type = file_type(st.st_mode);
    }
    out.push_back({e->d_name, e->d_ino, type});
  }
  const int saved = errno;
  closedir(stream);
  if (saved != 0) return from_errno(saved);
  std::sort(out.begin(), out.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return Errno::Success;
}

}  // namespace

FileType file_type(mode_t mode) {
  if (S_ISREG(mode)) return FileType::RegularFile;
  if (S_ISDIR(mode)) return FileType::Directory;
  if (S_ISLNK(mode)) return FileType::SymbolicLink;
  if (S_ISCHR(mode)) return FileType::CharacterDevice;
  if (S_ISBLK(mode)) return FileType::BlockDevice;
  if (S_ISSOCK(mode)) return FileType::SocketStream;
  return FileType::Unknown;
}

bool store_filestat(const GuestMemory& memory, uint32_t ptr, const struct stat& st) {
  auto out = memory.bytes(ptr, layout::kFilestatSize);
  if (!out) return false;
  std::fill(out->begin(), out->end(), 0);
  memory.store<uint64_t>(ptr + 0, st.st_dev);
  memory.store<uint64_t>(ptr + 8, st.st_ino);
  memory.store<uint8_t>(ptr + 16, static_cast<uint8_t>(file_type(st.st_mode)));
  memory.store<uint64_t>(ptr + 24, st.st_nlink);
  memory.store<uint64_t>(ptr + 32, static_cast<uint64_t>(st.st_size));
  memory.store<uint64_t>(ptr + 40, to_ns(st.st_atim));
  memory.store<uint64_t>(ptr + 48, to_ns(st.st_mtim));
  memory.store<uint64_t>(ptr + 56, to_ns(st.st_ctim));
  return true;
}

bool to_timespec(uint64_t ns, uint32_t flags, uint16_t set, uint16_t now, struct timespec& out) {
  if ((flags & set) && (flags & now)) return false;
  if (flags & now) {
    out = {0, UTIME_NOW};
  } else if (flags & set) {
    out = to_timespec(ns);
  } else {
    out = {0, UTIME_OMIT};
  }
  return true;
}

Errno lookup(Env& env, uint32_t fd, uint64_t needed, Descriptor*& out) {
  out = env.state.get(fd);
  if (!out) return Errno::BadF;
  if ((out->rights_base & needed) != needed) return Errno::NotCapable;
  return Errno::Success;
}

Errno fd_write(Env& env, u32 fd, u32 iovs, u32 iovs_len, u32 nwritten) {
  Descriptor* d;
  if (Errno e = lookup(env, fd, 0, d); e != Errno::Success) return e;
  if (!(d->rights_base & rights::kFdWrite)) return Errno::BadF;
  std::vector<struct iovec> list;
  if (Errno e = read_iovecs(env.memory, iovs, iovs_len, list); e != Errno::Success) return e;
  size_t written = 0;
  if (Errno e = write_to(*d, list, written); e != Errno::Success) return e;
  return env.memory.store(nwritten, static_cast<uint32_t>(written)) ? Errno::Success : Errno::Fault;
}

Errno fd_read(Env& env, u32 fd, u32 iovs, u32 iovs_len, u32 nread) {
  Descriptor* d;
  if (Errno e = lookup(env, fd, 0, d); e != Errno::Success) return e;
  if (!(d->rights_base & rights::kFdRead)) return Errno::BadF;
  std::vector<struct iovec> list;
  if (Errno e = read_iovecs(env.memory, iovs, iovs_len, list); e != Errno::Success) return e;
  size_t got = 0;
  if (Errno e = read_from(*d, list, got); e != Errno::Success) return e;
  return env.memory.store(nread, static_cast<uint32_t>(got)) ? Errno::Success : Errno::Fault;
}

Errno fd_pread(Env& env, u32 fd, u32 iovs, u32 iovs_len, u64 offset, u32 nread) {
  Descriptor* d;
  if (Errno e = lookup(env, fd, rights::kFdSeek, d); e != Errno::Success) return e;
  if (!(d->rights_base & rights::kFdRead)) return Errno::BadF;
  if (d->kind != Descriptor::Kind::File) return Errno::SPipe;
  if (offset > static_cast<uint64_t>(INT64_MAX)) return Errno::Inval;
  std::vector<struct iovec> list;
  if (Errno e = read_iovecs(env.memory, iovs, iovs_len, list); e != Errno::Success) return e;
  const ssize_t n =
      preadv(d->fd.get(), list.data(), static_cast<int>(list.size()), static_cast<off_t>(offset));
  if (n < 0) return from_errno(errno);
  return env.memory.store(nread, static_cast<uint32_t>(n)) ? Errno::Success : Errno::Fault;
}

Errno fd_pwrite(Env& env, u32 fd, u32 iovs, u32 iovs_len, u64 offset, u32 nwritten) {
  Descriptor* d;
  if (Errno e = lookup(env, fd, rights::kFdSeek, d); e != Errno::Success) return e;
  if (!(d->rights_base & rights::kFdWrite)) return Errno::BadF;
  if (d->kind != Descriptor::Kind::File) return Errno::SPipe;
  if (offset > static_cast<uint64_t>(INT64_MAX)) return Errno::Inval;
  std::vector<struct iovec> list;
  if (Errno e = read_iovecs(env.memory, iovs, iovs_len, list); e != Errno::Success) return e;
  // POSIX: pwrite writes at `offset` even in append mode, which Linux does only when told
  // RWF_NOAPPEND (6.9 and later). Older kernels: leave append mode for the write.
  const int fd_host = d->fd.get();
  const int count = static_cast<int>(list.size());
  ssize_t n = pwritev2(fd_host, list.data(), count, static_cast<off_t>(offset), RWF_NOAPPEND);
  if (n < 0 && (errno == EOPNOTSUPP || errno == EINVAL)) {
    const int fl = fcntl(fd_host, F_GETFL);
    if (fl >= 0 && (fl & O_APPEND)) fcntl(fd_host, F_SETFL, fl & ~O_APPEND);
    n = pwritev(fd_host, list.data(), count, static_cast<off_t>(offset));
    const int saved = errno;
    if (fl >= 0 && (fl & O_APPEND)) fcntl(fd_host, F_SETFL, fl);
    errno = saved;
  }
  if (n < 0) return from_errno(errno);
  return env.memory.store(nwritten, static_cast<uint32_t>(n)) ? Errno::Success : Errno::Fault;
}

Errno fd_seek(Env& env, u32 fd, i64 delta, u32 how, u32 newoffset) {
  const bool tell_only = delta == 0 && how == whence::kCur;
  Descriptor* d;
  if (Errno e = lookup(env, fd, tell_only ? rights::kFdTell : rights::kFdSeek, d);
      e != Errno::Success) {
    return e;
  }
  int host_whence;
  switch (how) {
    case whence::kSet:
      host_whence = SEEK_SET;
      break;
    case whence::kCur:
      host_whence = SEEK_CUR;
      break;
    case whence::kEnd:
      host_whence = SEEK_END;
      break;
    default:
      return Errno::Inval;
  }
  if (!has_host_fd(*d) || d->kind == Descriptor::Kind::Directory) return Errno::SPipe;
  const off_t at = lseek(d->fd.get(), static_cast<off_t>(delta), host_whence);
  if (at < 0) return from_errno(errno);
  return env.memory.store(newoffset, static_cast<uint64_t>(at)) ? Errno::Success : Errno::Fault;
}

Errno fd_tell(Env& env, u32 fd, u32 offset) { return fd_seek(env, fd, 0, whence::kCur, offset); }

Errno fd_close(Env& env, u32 fd) {
  if (!env.state.get(fd)) return Errno::BadF;
  env.state.fds[fd].reset();
  return Errno::Success;
}

Errno fd_renumber(Env& env, u32 from, u32 to) {
  if (!env.state.get(from) || !env.state.get(to)) return Errno::BadF;
  if (from == to) return Errno::Success;
  env.state.fds[to] = std::move(env.state.fds[from]);
  env.state.fds[from].reset();
  return Errno::Success;
}

Errno fd_datasync(Env& env, u32 fd) {
  Descriptor* d;
  if (Errno e = lookup(env, fd, rights::kFdDatasync, d); e != Errno::Success) return e;
  if (!has_host_fd(*d)) return Errno::Inval;
  return fdatasync(d->fd.get()) == 0 ? Errno::Success : from_errno(errno);
}

Errno fd_sync(Env& env, u32 fd) {
  Descriptor* d;
  if (Errno e = lookup(env, fd, rights::kFdSync, d); e != Errno::Success) return e;
  if (!has_host_fd(*d)) return Errno::Inval;
  return fsync(d->fd.get()) == 0 ? Errno::Success : from_errno(errno);
}

Errno fd_advise(Env& env, u32 fd, u64 offset, u64 len, u32 advice) {
  Descriptor* d;
  if (Errno e = lookup(env, fd, rights::kFdAdvise, d); e != Errno::Success) return e;
  if (advice > 5) return Errno::Inval;
  if (d->kind != Descriptor::Kind::File) return Errno::BadF;
  static constexpr int kHostAdvice[] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL,
                                        POSIX_FADV_RANDOM,   POSIX_FADV_WILLNEED,
                                        POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
  const int r = posix_fadvise(d->fd.get(), static_cast<off_t>(offset), static_cast<off_t>(len),
                              kHostAdvice[advice]);
  return from_errno(r);
}

Errno fd_allocate(Env& env, u32 fd, u64 offset, u64 len) {
  Descriptor* d;
  if (Errno e = lookup(env, fd, rights::kFdAllocate, d); e != Errno::Success) return e;
  if (d->kind != Descriptor::Kind::File) return Errno::BadF;
  if (d->read_only) return Errno::RoFs;
  if (offset > INT64_MAX || len > INT64_MAX || offset + len > INT64_MAX) return Errno::FBig;
  return from_errno(
      posix_fallocate(d->fd.get(), static_cast<off_t>(offset), static_cast<off_t>(len)));
}

Errno fd_fdstat_get(Env& env, u32 fd, u32 buf) {
  Descriptor* d;
  if (Errno e = lookup(env, fd, 0, d); e != Errno::Success) return e;
  auto out = env.memory.bytes(buf, layout::kFdstatSize);
  if (!out) return Errno::Fault;
  std::fill(out->begin(), out->end(), 0);
  const uint16_t flags = has_host_fd(*d) ? host_fdflags(d->fd.get()) : d->flags;
  env.memory.store<uint8_t>(buf + 0, static_cast<uint8_t>(d->type));
  env.memory.store<uint16_t>(buf + 2, flags);
  env.memory.store<uint64_t>(buf + 8, d->rights_base);
  env.memory.store<uint64_t>(buf + 16, d->rights_inheriting);
  return Errno::Success;
}

Errno fd_fdstat_set_flags(Env& env, u32 fd, u32 flags) {
  Descriptor* d;
  if (Errno e = lookup(env, fd, rights::kFdFdstatSetFlags, d); e != Errno::Success) return e;
  if (flags & ~uint32_t{fdflags::kAppend | fdflags::kNonblock}) return Errno::NotSup;
  if (!has_host_fd(*d)) {
    d->flags = static_cast<uint16_t>(flags);
    return Errno::Success;
  }
  if ((flags & fdflags::kAppend) && d->read_only) return Errno::RoFs;
  int fl = fcntl(d->fd.get(), F_GETFL);
  if (fl < 0) return from_errno(errno);
  fl &= ~(O_APPEND | O_NONBLOCK);
  if (flags & fdflags::kAppend) fl |= O_APPEND;
  if (flags & fdflags::kNonblock) fl |= O_NONBLOCK;
  return fcntl(d->fd.get(), F_SETFL, fl) == 0 ? Errno::Success : from_errno(errno);
}

Errno fd_fdstat_set_rights(Env& env, u32 fd, u64 base, u64 inheriting) {
  Descriptor* d;
  if (Errno e = lookup(env, fd, 0, d); e != Errno::Success) return e;
  if ((base & ~d->rights_base) || (inheriting & ~d->rights_inheriting)) {
    return Errno::NotCapable;
  }
  d->rights_base = base;
  d->rights_inheriting = inheriting;
  return Errno::Success;
}

Errno fd_filestat_get(Env& env, u32 fd, u32 buf) {
  Descriptor* d;
  if (Errno e = lookup(env, fd, rights::kFdFilestatGet, d); e != Errno::Success) return e;
  struct stat st {};
  if (has_host_fd(*d)) {
    if (fstat(d->fd.get(), &st) != 0) return from_errno(errno);
  } else {
    st.st_mode = d->kind == Descriptor::Kind::Null ? S_IFCHR : 0;
    st.st_nlink = 1;
  }
  return store_filestat(env.memory, buf, st) ? Errno::Success : Errno::Fault;
}

Errno fd_filestat_set_size(Env& env, u32 fd, u64 size) {
  Descriptor* d;
  if (Errno e = lookup(env, fd, rights::kFdFilestatSetSize, d); e != Errno::Success) return e;
  if (d->read_only) return Errno::RoFs;
  if (d->kind != Descriptor::Kind::File) return Errno::BadF;
  if (size > INT64_MAX) return Errno::FBig;
  return ftruncate(d->fd.get(), static_cast<off_t>(size)) == 0 ? Errno::Success : from_errno(errno);
}

Errno fd_filestat_set_times(Env& env, u32 fd, u64 atim, u64 mtim, u32 flags) {
  Descriptor* d;
  if (Errno e = lookup(env, fd, rights::kFdFilestatSetTimes, d); e != Errno::Success) return e;
  if (d->read_only) return Errno::RoFs;
  if (!has_host_fd(*d)) return Errno::BadF;
  struct timespec times[2];
  if (!to_timespec(atim, flags, fstflags::kAtim, fstflags::kAtimNow, times[0]) ||
      !to_timespec(mtim, flags, fstflags::kMtim, fstflags::kMtimNow, times[1])) {
    return Errno::Inval;
  }
  return futimens(d->fd.get(), times) == 0 ? Errno::Success : from_errno(errno);
}

Errno fd_prestat_get(Env& env, u32 fd, u32 buf) {
  Descriptor* d = env.state.get(fd);
  if (!d || d->guest_path.empty()) return Errno::BadF;
  if (!env.memory.store<uint32_t>(buf, 0) ||
      !env.memory.store<uint32_t>(buf + 4, static_cast<uint32_t>(d->guest_path.size()))) {
    return Errno::Fault;
  }
  return Errno::Success;
}

Errno fd_prestat_dir_name(Env& env, u32 fd, u32 path, u32 path_len) {
  Descriptor* d = env.state.get(fd);
  if (!d || d->guest_path.empty()) return Errno::BadF;
  if (path_len < d->guest_path.size()) return Errno::NameTooLong;
  auto out = env.memory.bytes(path, d->guest_path.size());
  if (!out) return Errno::Fault;
  std::memcpy(out->data(), d->guest_path.data(), d->guest_path.size());
  return Errno::Success;
}

Errno fd_readdir(Env& env, u32 fd, u32 buf, u32 buf_len, u64 cookie, u32 bufused) {
  Descriptor* d;
  if (Errno e = lookup(env, fd, rights::kFdReaddir, d); e != Errno::Success) return e;
  if (d->kind != Descriptor::Kind::Directory) return Errno::NotDir;
  if (!env.memory.contains(buf, buf_len)) return Errno::Fault;
  if (cookie == 0 || d->entries.empty()) {
    if (Errno e = list_directory(d->fd.get(), d->entries); e != Errno::Success) return e;
  }
  uint32_t used = 0;
  for (uint64_t i = cookie; i < d->entries.size() && used < buf_len; ++i) {
    const DirEntry& entry = d->entries[i];
    uint8_t header[layout::kDirentSize] = {};
    const uint64_t next = i + 1;
    const uint32_t namlen = static_cast<uint32_t>(entry.name.size());
    std::memcpy(header + 0, &next, 8);
    std::memcpy(header + 8, &entry.ino, 8);
    std::memcpy(header + 16, &namlen, 4);
    header[20] = static_cast<uint8_t>(entry.type);
    // Entries may be cut off at the end of the buffer; the guest then asks again with a
    // larger one.
    const uint32_t header_part = std::min<uint32_t>(layout::kDirentSize, buf_len - used);
    std::memcpy(env.memory.bytes(buf + used, header_part)->data(), header, header_part);
    used += header_part;
    const uint32_t name_part = std::min<uint32_t>(namlen, buf_len - used);
    std::memcpy(env.memory.bytes(buf + used, name_part)->data(), entry.name.data(), name_part);
    used += name_part;
  }
  return env.memory.store(bufused, used) ? Errno::Success : Errno::Fault;
}

}  // namespace wasm_sandbox::wasi
