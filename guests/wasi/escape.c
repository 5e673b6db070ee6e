// escape: tries to get out of its WASI preopens, a hostile guest for tests/wasi_escape_test.cc.
//
// Usage: escape ATTEMPT... | escape all
//   Runs each named attempt (table `attempts` below) in argument order and prints exactly one
//   line for each:
//     NAME ok              the operation succeeded
//     NAME ok TEXT         it succeeded and read TEXT (a file's bytes, a listing, a link target)
//     NAME ERRNO           it failed; ERRNO is the wasi-libc name, e.g. ENOTCAPABLE or EROFS
//   "race-open N" and "race-create N" take a count and print counters instead (see race_*).
//   Unknown attempts print "NAME unknown" and make the exit code 2.
//
// Assumes the host preopens a read-write directory as /data and a read-only one as /ro, laid
// out as the test builds them, and sets ESCAPE_OUTSIDE to the host's absolute path of the
// directory next to them that holds the secret. A path that starts with "$OUT" has that prefix
// replaced by ESCAPE_OUTSIDE.
//
// Two kinds of call. Most attempts use wasi-libc (open, mkdir, rename, ...), which maps an
// absolute guest path to a preopen and the rest of the path, and passes that rest on unchanged
// (`..` included). Attempts named *-raw call the wasi_snapshot_preview1 functions themselves on
// a directory descriptor with a path of their choosing, e.g. "/etc/passwd" relative to /data,
// which wasi-libc would never send: a hostile guest is not bound by its libc. Their path
// arguments read "DIR:PATH", DIR being a guest directory that is opened first.
//
// WASI only: the native build (add_wasi_guest builds every guest natively too) just says so.
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>

#ifdef __wasi__

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

// The errnos an attempt can plausibly end with; anything else prints as E<number>.
#define ESCAPE_ERRNOS(X) \
  X(ENOTCAPABLE)         \
  X(EROFS)               \
  X(EXDEV)               \
  X(ENOENT)              \
  X(ELOOP)               \
  X(EBADF)               \
  X(EINVAL)              \
  X(EEXIST)              \
  X(ENOTDIR)             \
  X(EISDIR)              \
  X(ENOTEMPTY)           \
  X(EACCES)              \
  X(EPERM)               \
  X(EAGAIN)              \
  X(EBUSY)               \
  X(EFAULT)              \
  X(EILSEQ)              \
  X(EIO)                 \
  X(EMLINK)              \
  X(ENAMETOOLONG)        \
  X(ENOSPC)              \
  X(ENOSYS)              \
  X(ENOTSUP)             \
  X(ESPIPE)

static const char* errno_name(int e) {
  static char other[16];
  switch (e) {
#define ESCAPE_ERRNO_CASE(name) \
  case name:                    \
    return #name;
    ESCAPE_ERRNOS(ESCAPE_ERRNO_CASE)
#undef ESCAPE_ERRNO_CASE
  }
  snprintf(other, sizeof other, "E%d", e);
  return other;
}

enum op {
  READ,            // a: open(O_RDONLY) and read; prints what was read
  OPEN,            // a, flags: open(2); closes it again
  LIST,            // a: the directory's names, sorted, comma-separated
  STAT,            // a: stat(2)
  LSTAT,           // a: lstat(2)
  READLINK,        // a: prints the link's target
  MKDIR,           // a
  RMDIR,           // a
  UNLINK,          // a
  RENAME,          // a to b
  LINK,            // a to b (link(2): the source is not followed)
  SYMLINK,         // a link at b with contents a
  SYMLINK_READ,    // SYMLINK, then READ b
  LINK_READ,       // LINK, then READ b
  TRUNCATE,        // a: truncate(2) to 0
  UTIMENS,         // a, flags (0 or AT_SYMLINK_NOFOLLOW): utimensat to 1 s after the epoch
  FD_WRITE,        // a opened O_RDONLY, then write(2)
  FD_TRUNCATE,     // ... ftruncate(2)
  FD_UTIMENS,      // ... futimens(2)
  FD_APPEND,       // ... fcntl(F_SETFL, O_APPEND)
  FD_ALLOCATE,     // ... posix_fallocate(3)
  FD_GRANT_WRITE,  // ... fd_fdstat_set_rights adding fd_write
  RAW_READ,        // a "DIR:PATH", flags lookupflags: path_open for reading, then fd_read
  RAW_CREATE,      // a "DIR:PATH": path_open(O_CREAT) for writing
  RAW_STAT,        // a "DIR:PATH", flags lookupflags: path_filestat_get
  RAW_MKDIR,       // a "DIR:PATH": path_create_directory
  RAW_UNLINK,      // a "DIR:PATH": path_unlink_file
  RAW_SYMLINK,     // contents a, b "DIR:PATH": path_symlink
  RAW_RENAME,      // a "DIR:PATH" to b "DIR:PATH": path_rename
  RAW_LINK,        // a "DIR:PATH" to b "DIR:PATH", flags lookupflags: path_link
  RAW_UTIMENS,     // a "DIR:PATH", flags lookupflags: path_filestat_set_times
};

struct attempt {
  const char* name;
  enum op op;
  const char* a;
  const char* b;
  int flags;
};

#define FOLLOW __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW

static const struct attempt attempts[] = {
    // `..` out of /data, plain and deep, through every kind of call.
    {"dotdot-open", READ, "/data/../outside/secret", NULL, 0},
    {"dotdot-open-raw", RAW_READ, "/data:../outside/secret", NULL, FOLLOW},
    {"dotdot-deep-open", READ, "/data/sub/../../outside/secret", NULL, 0},
    {"dotdot-deeper-open", READ, "/data/sub/deep/../../../outside/secret", NULL, 0},
    {"dotdot-climb-open", READ, "/data/sub/deep/../../../../../../../../etc/passwd", NULL, 0},
    {"dotdot-missing-open", READ, "/data/nosuch/../../outside/secret", NULL, 0},
    {"dotdot-parent-list", LIST, "/data/..", NULL, 0},
    {"dotdot-subfd-open-raw", RAW_READ, "/data/sub:../../outside/secret", NULL, FOLLOW},
    {"dotdot-stat", STAT, "/data/../outside/secret", NULL, 0},
    {"dotdot-create", OPEN, "/data/../planted", NULL, O_WRONLY | O_CREAT},
    {"dotdot-write", OPEN, "/data/sub/../../outside/secret", NULL, O_WRONLY | O_TRUNC},
    {"dotdot-mkdir", MKDIR, "/data/../planted", NULL, 0},
    {"dotdot-rmdir", RMDIR, "/data/sub/../../outside/dir", NULL, 0},
    {"dotdot-unlink", UNLINK, "/data/../outside/secret", NULL, 0},
    {"dotdot-rename-out", RENAME, "/data/file", "/data/../planted", 0},
    {"dotdot-rename-in", RENAME, "/data/../outside/secret", "/data/stolen", 0},
    {"dotdot-link-in", LINK, "/data/../outside/secret", "/data/stolen", 0},
    {"dotdot-link-out", LINK, "/data/file", "/data/../planted", 0},
    {"dotdot-symlink-at", SYMLINK, "data/file", "/data/../planted", 0},
    {"dotdot-readlink", READLINK, "/data/../outside/link", NULL, 0},
    {"dotdot-truncate", TRUNCATE, "/data/../outside/secret", NULL, 0},
    {"dotdot-utimens", UTIMENS, "/data/../outside/secret", NULL, 0},
    {"dotdot-ro-open-raw", RAW_READ, "/ro:../outside/secret", NULL, FOLLOW},
    {"dotdot-ro-to-data-raw", RAW_READ, "/ro:../data/file", NULL, FOLLOW},
    {"dotdot-inside-open", READ, "/data/sub/../file", NULL, 0},
    {"data-missing-open", READ, "/data/nosuch", NULL, 0},

    // Absolute paths. wasi-libc maps "/etc/passwd" to no preopen and fails by itself; the
    // *-raw attempts hand absolute paths to the host relative to /data.
    {"abs-open", READ, "/etc/passwd", NULL, 0},
    {"abs-outside-open", READ, "/outside/secret", NULL, 0},
    {"abs-host-open", READ, "$OUT/secret", NULL, 0},
    {"abs-open-raw", RAW_READ, "/data:/etc/passwd", NULL, FOLLOW},
    {"abs-outside-open-raw", RAW_READ, "/data:/outside/secret", NULL, FOLLOW},
    {"abs-host-open-raw", RAW_READ, "/data:$OUT/secret", NULL, FOLLOW},
    {"abs-root-open-raw", RAW_READ, "/data:/", NULL, FOLLOW},
    {"abs-stat-raw", RAW_STAT, "/data:/etc/passwd", NULL, FOLLOW},
    {"abs-create-raw", RAW_CREATE, "/data:$OUT/planted", NULL, 0},
    {"abs-mkdir-raw", RAW_MKDIR, "/data:$OUT/planted", NULL, 0},
    {"abs-unlink-raw", RAW_UNLINK, "/data:$OUT/secret", NULL, 0},
    {"abs-rename-in-raw", RAW_RENAME, "/data:$OUT/secret", "/data:stolen", 0},
    {"abs-rename-out-raw", RAW_RENAME, "/data:file", "/data:$OUT/planted", 0},
    {"abs-link-in-raw", RAW_LINK, "/data:$OUT/secret", "/data:stolen", 0},
    {"abs-symlink-at-raw", RAW_SYMLINK, "file", "/data:$OUT/planted", 0},
    {"abs-utimens-raw", RAW_UTIMENS, "/data:$OUT/secret", NULL, FOLLOW},
    {"abs-ro-open-raw", RAW_READ, "/ro:$OUT/secret", NULL, FOLLOW},

    // Symbolic links the host left in /data that lead out (see the test's tree).
    {"hostlink-abs-open", READ, "/data/abs_link", NULL, 0},
    {"hostlink-rel-open", READ, "/data/rel_link", NULL, 0},
    {"hostlink-deep-open", READ, "/data/sub/up_link", NULL, 0},
    {"hostlink-absdir-open", READ, "/data/absdir_link/secret", NULL, 0},
    {"hostlink-reldir-open", READ, "/data/reldir_link/secret", NULL, 0},
    {"hostlink-reldir-list", LIST, "/data/reldir_link", NULL, 0},
    {"hostlink-dotlink-out", READ, "/data/sub/dot_link/../outside/secret", NULL, 0},
    {"hostlink-nofollow-raw", RAW_READ, "/data:rel_link", NULL, 0},
    {"hostlink-stat", STAT, "/data/rel_link", NULL, 0},
    {"hostlink-write", OPEN, "/data/abs_link", NULL, O_WRONLY},
    {"hostlink-truncate", TRUNCATE, "/data/rel_link", NULL, 0},
    {"hostlink-create-dangling", OPEN, "/data/dangle_link", NULL, O_WRONLY | O_CREAT},
    {"hostlink-create-through", OPEN, "/data/absdir_link/planted", NULL, O_WRONLY | O_CREAT},
    {"hostlink-mkdir-through", MKDIR, "/data/reldir_link/planted", NULL, 0},
    {"hostlink-symlink-through", SYMLINK, "secret", "/data/reldir_link/planted", 0},
    {"hostlink-unlink-through", UNLINK, "/data/reldir_link/secret", NULL, 0},
    {"hostlink-rmdir-through", RMDIR, "/data/absdir_link/dir", NULL, 0},
    {"hostlink-rename-through", RENAME, "/data/file", "/data/reldir_link/planted", 0},
    {"hostlink-rename-from", RENAME, "/data/absdir_link/secret", "/data/stolen", 0},
    {"hostlink-utimens", UTIMENS, "/data/rel_link", NULL, 0},
    {"hostlink-link-follow-raw", RAW_LINK, "/data:rel_link", "/data:stolen", FOLLOW},
    {"hostlink-link-through", LINK, "/data/reldir_link/secret", "/data/stolen", 0},
    // Reading the links themselves, and links that stay inside, is fine.
    {"hostlink-lstat", LSTAT, "/data/rel_link", NULL, 0},
    {"hostlink-readlink", READLINK, "/data/rel_link", NULL, 0},
    {"hostlink-inside-open", READ, "/data/in_link", NULL, 0},
    {"hostlink-dotlink-inside", READ, "/data/sub/dot_link/file", NULL, 0},

    // Chains of links, leading out, staying in, and going round.
    {"chain-out-open", READ, "/data/chain_a", NULL, 0},
    {"chain-out-stat", STAT, "/data/chain_a", NULL, 0},
    {"chain-in-open", READ, "/data/good_a", NULL, 0},
    {"chain-loop-open", READ, "/data/loop_a", NULL, 0},
    {"chain-guest-to-host", SYMLINK, "chain_a", "/data/g_chain", 0},
    {"chain-guest-to-host-open", READ, "/data/g_chain", NULL, 0},

    // Links the guest makes. Creating one that points out is refused; one that stays in works.
    {"gsym-abs", SYMLINK, "/etc/passwd", "/data/g_abs", 0},
    {"gsym-abs-host", SYMLINK, "$OUT/secret", "/data/g_abs_host", 0},
    {"gsym-rel-out", SYMLINK, "../outside/secret", "/data/g_rel", 0},
    {"gsym-deep-out", SYMLINK, "../../outside/secret", "/data/sub/g_deep", 0},
    {"gsym-sneaky-out", SYMLINK, "sub/../../outside/secret", "/data/g_sneaky", 0},
    {"gsym-parent", SYMLINK, "..", "/data/g_parent", 0},
    {"gsym-abs-raw", RAW_SYMLINK, "/etc/passwd", "/data:g_abs_raw", 0},
    {"gsym-subfd-out-raw", RAW_SYMLINK, "../../outside/secret", "/data/sub:g_subfd", 0},
    {"gsym-in", SYMLINK_READ, "file", "/data/g_in", 0},
    {"gsym-in-down", SYMLINK_READ, "sub/subfile", "/data/g_down", 0},
    {"gsym-in-dot", SYMLINK_READ, "./sub/./subfile", "/data/g_dot", 0},
    {"gsym-in-dangling", SYMLINK, "nosuch", "/data/g_dangling", 0},
    // Links whose text climbs but stays inside where they are made. Each could lead out: moved
    // or hard-linked higher (data/sub/../outside/secret becomes data/../outside/secret) or
    // read through another link (g_self is "." at the top, so g_self/.. is above /data).
    {"gsym-in-up", SYMLINK_READ, "../file", "/data/sub/g_up", 0},
    {"gsym-plant", SYMLINK, "../outside/secret", "/data/sub/g_planted", 0},
    {"gsym-self", SYMLINK, ".", "/data/g_self", 0},
    {"gsym-via-self", SYMLINK, "g_self/../outside/secret", "/data/g_via_self", 0},
    // The same with links the host made that climb but stay inside: sub/dot_link is "..".
    {"hostlink-link-up", LINK, "/data/sub/dot_link", "/data/g_linked", 0},
    {"hostlink-move-up", RENAME, "/data/sub/dot_link", "/data/g_moved", 0},

    // Hard links.
    {"link-ro-to-data", LINK, "/ro/file", "/data/hl", 0},
    {"link-ro-subdir-to-data-raw", RAW_LINK, "/ro/sub:inner", "/data:hl", 0},
    {"link-data-to-ro", LINK, "/data/file", "/ro/hl", 0},
    {"link-within-ro", LINK, "/ro/file", "/ro/hl", 0},
    {"link-within-data", LINK_READ, "/data/file", "/data/hl", 0},
    {"link-follow-within-data-raw", RAW_LINK, "/data:in_link", "/data:hl_follow", FOLLOW},

    // The read-only preopen: reading works, every change is refused.
    {"ro-read", READ, "/ro/file", NULL, 0},
    {"ro-read-sub", READ, "/ro/sub/inner", NULL, 0},
    {"ro-list", LIST, "/ro", NULL, 0},
    {"ro-stat", STAT, "/ro/file", NULL, 0},
    {"ro-missing", READ, "/ro/nosuch", NULL, 0},
    {"ro-open-wronly", OPEN, "/ro/file", NULL, O_WRONLY},
    {"ro-open-rdwr", OPEN, "/ro/file", NULL, O_RDWR},
    {"ro-open-trunc", OPEN, "/ro/file", NULL, O_RDONLY | O_TRUNC},
    {"ro-open-append", OPEN, "/ro/file", NULL, O_RDONLY | O_APPEND},
    {"ro-create", OPEN, "/ro/new", NULL, O_WRONLY | O_CREAT},
    {"ro-create-rdonly", OPEN, "/ro/new", NULL, O_RDONLY | O_CREAT},
    {"ro-create-sub", OPEN, "/ro/sub/new", NULL, O_WRONLY | O_CREAT},
    {"ro-create-subfd-raw", RAW_CREATE, "/ro/sub:new", NULL, 0},
    {"ro-write", FD_WRITE, "/ro/file", NULL, 0},
    {"ro-ftruncate", FD_TRUNCATE, "/ro/file", NULL, 0},
    {"ro-fallocate", FD_ALLOCATE, "/ro/file", NULL, 0},
    {"ro-set-append", FD_APPEND, "/ro/file", NULL, 0},
    {"ro-grant-write", FD_GRANT_WRITE, "/ro/file", NULL, 0},
    {"ro-truncate", TRUNCATE, "/ro/file", NULL, 0},
    {"ro-rename-from", RENAME, "/ro/file", "/data/moved", 0},
    {"ro-rename-into", RENAME, "/data/file", "/ro/moved", 0},
    {"ro-rename-within", RENAME, "/ro/file", "/ro/moved", 0},
    {"ro-unlink", UNLINK, "/ro/file", NULL, 0},
    {"ro-unlink-sub", UNLINK, "/ro/sub/inner", NULL, 0},
    {"ro-rmdir", RMDIR, "/ro/emptydir", NULL, 0},
    {"ro-mkdir", MKDIR, "/ro/newdir", NULL, 0},
    {"ro-mkdir-subfd-raw", RAW_MKDIR, "/ro/sub:newdir", NULL, 0},
    {"ro-symlink", SYMLINK, "file", "/ro/newlink", 0},
    {"ro-utimens", UTIMENS, "/ro/file", NULL, 0},
    {"ro-utimens-dir", UTIMENS, "/ro/sub", NULL, 0},
    {"ro-futimens", FD_UTIMENS, "/ro/file", NULL, 0},
};

#define ATTEMPT_COUNT (sizeof attempts / sizeof attempts[0])

// What an attempt produced: an errno (0 for success) and, for reads, the text read.
struct outcome {
  int err;
  char text[512];
};

static struct outcome fail(int e) {
  struct outcome o = {e, ""};
  return o;
}
static struct outcome fail_errno(void) { return fail(errno); }
static struct outcome success(void) { return fail(0); }
static struct outcome check(int r) { return r == 0 ? success() : fail_errno(); }

// `path` with a leading "$OUT" replaced by ESCAPE_OUTSIDE, in a static buffer (one of two, so
// that an attempt can expand both of its paths).
static const char* expand(const char* path) {
  static char buffers[2][1024];
  static int next;
  if (!path || strncmp(path, "$OUT", 4) != 0) return path;
  const char* outside = getenv("ESCAPE_OUTSIDE");
  char* buffer = buffers[next++ % 2];
  snprintf(buffer, sizeof buffers[0], "%s%s", outside ? outside : "/nonexistent", path + 4);
  return buffer;
}

static struct outcome read_fd(int fd) {
  struct outcome o = success();
  size_t used = 0;
  for (;;) {
    ssize_t n = read(fd, o.text + used, sizeof o.text - 1 - used);
    if (n < 0) {
      o = fail_errno();
      break;
    }
    if (n == 0 || used + (size_t)n == sizeof o.text - 1) {
      used += (size_t)n;
      break;
    }
    used += (size_t)n;
  }
  if (o.err == 0) o.text[used] = '\0';
  return o;
}

static struct outcome do_read(const char* path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return fail_errno();
  struct outcome o = read_fd(fd);
  close(fd);
  return o;
}

static int compare_names(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

static struct outcome do_list(const char* path) {
  DIR* dir = opendir(path);
  if (!dir) return fail_errno();
  char* names[64];
  size_t n = 0;
  struct dirent* d;
  while (n < 64 && (d = readdir(dir)) != NULL) {
    if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) continue;
    names[n++] = strdup(d->d_name);
  }
  closedir(dir);
  qsort(names, n, sizeof names[0], compare_names);
  struct outcome o = success();
  for (size_t i = 0; i < n; i++) {
    if (i > 0) strncat(o.text, ",", sizeof o.text - strlen(o.text) - 1);
    strncat(o.text, names[i], sizeof o.text - strlen(o.text) - 1);
    free(names[i]);
  }
  return o;
}

static struct outcome do_readlink(const char* path) {
  struct outcome o = success();
  ssize_t n = readlink(path, o.text, sizeof o.text - 1);
  if (n < 0) return fail_errno();
  o.text[n] = '\0';
  return o;
}

static const struct timespec kEpochPlusOne[2] = {{1, 0}, {1, 0}};

// An operation on a descriptor opened read-only.
static struct outcome on_read_only_fd(const char* path, enum op op) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return fail_errno();
  struct outcome o = success();
  switch (op) {
    case FD_WRITE:
      if (write(fd, "x", 1) < 0) o = fail_errno();
      break;
    case FD_TRUNCATE:
      o = check(ftruncate(fd, 0));
      break;
    case FD_UTIMENS:
      o = check(futimens(fd, kEpochPlusOne));
      break;
    case FD_APPEND:
      o = check(fcntl(fd, F_SETFL, O_APPEND));
      break;
    case FD_ALLOCATE:
      o = fail(posix_fallocate(fd, 0, 4096));  // returns the errno
      break;
    case FD_GRANT_WRITE: {
      __wasi_fdstat_t st;
      __wasi_errno_t e = __wasi_fd_fdstat_get((__wasi_fd_t)fd, &st);
      if (e == 0) {
        e = __wasi_fd_fdstat_set_rights(
            (__wasi_fd_t)fd,
            st.fs_rights_base | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE,
            st.fs_rights_inheriting);
      }
      o = fail(e);
      break;
    }
    default:
      o = fail(ENOSYS);
  }
  close(fd);
  return o;
}

// A raw path "DIR:PATH": DIR opened as a directory, PATH expanded; NULL after a failure.
struct raw_path {
  int dir;
  const char* path;
};

static int open_raw(const char* spec, struct raw_path* out, int* err) {
  const char* colon = strchr(spec, ':');
  char dir[256];
  size_t len = colon ? (size_t)(colon - spec) : 0;
  if (!colon || len >= sizeof dir) {
    *err = EINVAL;
    return -1;
  }
  memcpy(dir, spec, len);
  dir[len] = '\0';
  out->dir = open(dir, O_RDONLY | O_DIRECTORY);
  if (out->dir < 0) {
    *err = errno;
    return -1;
  }
  out->path = expand(colon + 1);
  return 0;
}

static struct outcome run_raw(const struct attempt* t) {
  struct raw_path p, q = {-1, NULL};
  int err = 0;
  if (t->op == RAW_SYMLINK) {  // the contents come first, the link's place second
    if (open_raw(t->b, &p, &err) != 0) return fail(err);
    struct outcome o = fail(__wasi_path_symlink(expand(t->a), (__wasi_fd_t)p.dir, p.path));
    close(p.dir);
    return o;
  }
  if (open_raw(t->a, &p, &err) != 0) return fail(err);
  if ((t->op == RAW_RENAME || t->op == RAW_LINK) && open_raw(t->b, &q, &err) != 0) {
    close(p.dir);
    return fail(err);
  }
  const __wasi_fd_t dir = (__wasi_fd_t)p.dir;
  struct outcome o = success();
  __wasi_fd_t fd;
  __wasi_filestat_t st;
  switch (t->op) {
    case RAW_READ: {
      __wasi_errno_t e =
          __wasi_path_open(dir, (__wasi_lookupflags_t)t->flags, p.path, 0,
                           __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_READDIR, 0, 0, &fd);
      if (e != 0) {
        o = fail(e);
      } else {
        o = read_fd((int)fd);
        close((int)fd);
      }
      break;
    }
    case RAW_CREATE: {
      __wasi_errno_t e =
          __wasi_path_open(dir, 0, p.path, __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_WRITE, 0, 0, &fd);
      if (e == 0) close((int)fd);
      o = fail(e);
      break;
    }
    case RAW_STAT:
      o = fail(__wasi_path_filestat_get(dir, (__wasi_lookupflags_t)t->flags, p.path, &st));
      break;
    case RAW_MKDIR:
      o = fail(__wasi_path_create_directory(dir, p.path));
      break;
    case RAW_UNLINK:
      o = fail(__wasi_path_unlink_file(dir, p.path));
      break;
    case RAW_RENAME:
      o = fail(__wasi_path_rename(dir, p.path, (__wasi_fd_t)q.dir, q.path));
      break;
    case RAW_LINK:
      o = fail(__wasi_path_link(dir, (__wasi_lookupflags_t)t->flags, p.path, (__wasi_fd_t)q.dir,
                                q.path));
      break;
    case RAW_UTIMENS:
      o = fail(__wasi_path_filestat_set_times(dir, (__wasi_lookupflags_t)t->flags, p.path,
                                              1000000000ull, 1000000000ull,
                                              __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
      break;
    default:
      o = fail(ENOSYS);
  }
  close(p.dir);
  if (q.dir >= 0) close(q.dir);
  return o;
}

static struct outcome run(const struct attempt* t) {
  const char* a = expand(t->a);
  const char* b = expand(t->b);
  switch (t->op) {
    case READ:
      return do_read(a);
    case OPEN: {
      int fd = open(a, t->flags, 0644);
      if (fd < 0) return fail_errno();
      close(fd);
      return success();
    }
    case LIST:
      return do_list(a);
    case STAT: {
      struct stat st;
      return check(stat(a, &st));
    }
    case LSTAT: {
      struct stat st;
      if (lstat(a, &st) != 0) return fail_errno();
      struct outcome o = success();
      snprintf(o.text, sizeof o.text, "%s", S_ISLNK(st.st_mode) ? "symlink" : "not-a-symlink");
      return o;
    }
    case READLINK:
      return do_readlink(a);
    case MKDIR:
      return check(mkdir(a, 0755));
    case RMDIR:
      return check(rmdir(a));
    case UNLINK:
      return check(unlink(a));
    case RENAME:
      return check(rename(a, b));
    case LINK:
      return check(link(a, b));
    case SYMLINK:
      return check(symlink(a, b));
    case SYMLINK_READ:
      if (symlink(a, b) != 0) return fail_errno();
      return do_read(b);
    case LINK_READ:
      if (link(a, b) != 0) return fail_errno();
      return do_read(b);
    case TRUNCATE:
      return check(truncate(a, 0));
    case UTIMENS:
      return check(utimensat(AT_FDCWD, a, kEpochPlusOne, t->flags));
    case FD_WRITE:
    case FD_TRUNCATE:
    case FD_UTIMENS:
    case FD_APPEND:
    case FD_ALLOCATE:
    case FD_GRANT_WRITE:
      return on_read_only_fd(a, t->op);
    default:
      return run_raw(t);
  }
}

static void print_outcome(const char* name, const struct outcome* o) {
  if (o->err != 0) {
    printf("%s %s\n", name, errno_name(o->err));
  } else if (o->text[0] != '\0') {
    printf("%s ok %s\n", name, o->text);
  } else {
    printf("%s ok\n", name);
  }
}

// Distinct errno names seen by a race, as "A,B".
struct errno_set {
  int seen[8];
  int count;
};

static void note_errno(struct errno_set* s, int e) {
  for (int i = 0; i < s->count; i++) {
    if (s->seen[i] == e) return;
  }
  if (s->count < 8) s->seen[s->count++] = e;
}

static void print_errnos(const struct errno_set* s) {
  printf(" errnos=");
  if (s->count == 0) printf("-");
  for (int i = 0; i < s->count; i++) printf("%s%s", i ? "," : "", errno_name(s->seen[i]));
  printf("\n");
}

// Opens and reads /data/swap/secret `n` times while the host swaps /data/swap between a
// directory and a link out. Prints how often it read the inside secret, the outside one,
// anything else, and how often the open or read failed.
static void race_open(int n) {
  int inside = 0, outside = 0, other = 0, errors = 0;
  struct errno_set errnos = {{0}, 0};
  for (int i = 0; i < n; i++) {
    struct outcome o = do_read("/data/swap/secret");
    if (o.err != 0) {
      errors++;
      note_errno(&errnos, o.err);
    } else if (strcmp(o.text, "INSIDE") == 0) {
      inside++;
    } else if (strcmp(o.text, "OUTSIDE") == 0) {
      outside++;
    } else {
      other++;
    }
  }
  printf("race-open inside=%d outside=%d other=%d errors=%d", inside, outside, other, errors);
  print_errnos(&errnos);
}

// Creates, writes and removes /data/swap/planted `n` times during the same swapping. Prints
// how often the file was created and removed, and how often a step failed. A file left behind
// by a failed removal is removed before returning.
static void race_create(int n) {
  const char* path = "/data/swap/planted";
  int created = 0, errors = 0;
  struct errno_set errnos = {{0}, 0};
  for (int i = 0; i < n; i++) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
      errors++;
      note_errno(&errnos, errno);
      continue;
    }
    if (write(fd, "PLANTED", 7) != 7) {
      errors++;
      note_errno(&errnos, errno);
    }
    close(fd);
    created++;
    while (unlink(path) != 0) {  // the link may be in place for a while: wait for the directory
      if (errno == ENOENT) break;
      note_errno(&errnos, errno);
    }
  }
  printf("race-create created=%d errors=%d", created, errors);
  print_errnos(&errnos);
}

static const struct attempt* find(const char* name) {
  for (size_t i = 0; i < ATTEMPT_COUNT; i++) {
    if (strcmp(attempts[i].name, name) == 0) return &attempts[i];
  }
  return NULL;
}

int main(int argc, char** argv) {
  int status = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "race-open") == 0 || strcmp(argv[i], "race-create") == 0) {
      const int n = i + 1 < argc ? atoi(argv[i + 1]) : 0;
      if (strcmp(argv[i], "race-open") == 0) {
        race_open(n);
      } else {
        race_create(n);
      }
      i++;
    } else if (strcmp(argv[i], "all") == 0) {
      for (size_t j = 0; j < ATTEMPT_COUNT; j++) {
        struct outcome o = run(&attempts[j]);
        print_outcome(attempts[j].name, &o);
      }
    } else if (find(argv[i]) != NULL) {
      struct outcome o = run(find(argv[i]));
      print_outcome(argv[i], &o);
    } else {
      printf("%s unknown\n", argv[i]);
      status = 2;
    }
    fflush(stdout);
  }
  return status;
}

#else  // !__wasi__

int main(void) {
  fputs("escape: a WASI-only program (run escape.wasm with /data and /ro preopened)\n", stderr);
  return 2;
}

#endif
