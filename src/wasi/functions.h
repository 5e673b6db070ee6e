// The wasi_snapshot_preview1 functions. Each takes the caller's Env and the raw wasm
// arguments (pointers are offsets into guest memory) and returns a WASI error number;
// proc_exit instead ends the guest call. The X-macro list binds them in bind.cc.
#pragma once

#include <sys/stat.h>
#include <time.h>

#include <cstdint>

#include "wasi/state.h"
#include "wasm_sandbox/result.h"

namespace wasm_sandbox::wasi {

// Returns the error of `expr` unless it succeeded.
#define WASI_TRY(expr)                                                     \
  do {                                                                     \
    if (Errno wasi_e_ = (expr); wasi_e_ != Errno::Success) return wasi_e_; \
  } while (0)

using u32 = uint32_t;
using u64 = uint64_t;
using i64 = int64_t;

#define WASI_FUNCTIONS(X)                                       \
  X(args_get, u32, u32)                                         \
  X(args_sizes_get, u32, u32)                                   \
  X(environ_get, u32, u32)                                      \
  X(environ_sizes_get, u32, u32)                                \
  X(clock_res_get, u32, u32)                                    \
  X(clock_time_get, u32, u64, u32)                              \
  X(fd_advise, u32, u64, u64, u32)                              \
  X(fd_allocate, u32, u64, u64)                                 \
  X(fd_close, u32)                                              \
  X(fd_datasync, u32)                                           \
  X(fd_fdstat_get, u32, u32)                                    \
  X(fd_fdstat_set_flags, u32, u32)                              \
  X(fd_fdstat_set_rights, u32, u64, u64)                        \
  X(fd_filestat_get, u32, u32)                                  \
  X(fd_filestat_set_size, u32, u64)                             \
  X(fd_filestat_set_times, u32, u64, u64, u32)                  \
  X(fd_pread, u32, u32, u32, u64, u32)                          \
  X(fd_prestat_get, u32, u32)                                   \
  X(fd_prestat_dir_name, u32, u32, u32)                         \
  X(fd_pwrite, u32, u32, u32, u64, u32)                         \
  X(fd_read, u32, u32, u32, u32)                                \
  X(fd_readdir, u32, u32, u32, u64, u32)                        \
  X(fd_renumber, u32, u32)                                      \
  X(fd_seek, u32, i64, u32, u32)                                \
  X(fd_sync, u32)                                               \
  X(fd_tell, u32, u32)                                          \
  X(fd_write, u32, u32, u32, u32)                               \
  X(path_create_directory, u32, u32, u32)                       \
  X(path_filestat_get, u32, u32, u32, u32, u32)                 \
  X(path_filestat_set_times, u32, u32, u32, u32, u64, u64, u32) \
  X(path_link, u32, u32, u32, u32, u32, u32, u32)               \
  X(path_open, u32, u32, u32, u32, u32, u64, u64, u32, u32)     \
  X(path_readlink, u32, u32, u32, u32, u32, u32)                \
  X(path_remove_directory, u32, u32, u32)                       \
  X(path_rename, u32, u32, u32, u32, u32, u32)                  \
  X(path_symlink, u32, u32, u32, u32, u32)                      \
  X(path_unlink_file, u32, u32, u32)                            \
  X(poll_oneoff, u32, u32, u32, u32)                            \
  X(proc_raise, u32)                                            \
  X(sched_yield)                                                \
  X(random_get, u32, u32)                                       \
  X(sock_accept, u32, u32, u32)                                 \
  X(sock_recv, u32, u32, u32, u32, u32, u32)                    \
  X(sock_send, u32, u32, u32, u32, u32)                         \
  X(sock_shutdown, u32, u32)

#define WASI_DECLARE(name, ...) Errno name(Env& env __VA_OPT__(, ) __VA_ARGS__);
WASI_FUNCTIONS(WASI_DECLARE)
#undef WASI_DECLARE

// Shared by the fd_* and path_* functions: the descriptor `fd` if it is open and has every
// right in `needed` (Errno::BadF if it is not open, NotCapable if it lacks a right).
Errno lookup(Env& env, uint32_t fd, uint64_t needed, Descriptor*& out);

FileType file_type(mode_t mode);
// A WASI timestamp and its fstflags bits `set` / `now` as a utimensat() time; false if both
// bits are set.
bool to_timespec(uint64_t ns, uint32_t flags, uint16_t set, uint16_t now, struct timespec& out);
// Writes a filestat structure; false if `ptr` is out of bounds.
bool store_filestat(const GuestMemory& memory, uint32_t ptr, const struct stat& st);

}  // namespace wasm_sandbox::wasi
