// Confinement: resolving guest paths beneath a directory descriptor, in the kernel.
//
// Every lookup goes through openat2() with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS: the kernel
// walks the path and refuses any step that would leave the starting directory, whether by
// `..`, an absolute path or a symlink, and does so atomically with the open, so there is no
// window between a check and a use. Operations on a final component (unlink, mkdir, rename,
// ...) open its parent that way and then act on a single name with the *at() system calls.
#pragma once

#include <string>
#include <string_view>

#include "wasi/abi.h"
#include "wasi/state.h"

namespace wasm_sandbox::wasi {

// Opens `path` beneath `dir` with open(2) `flags` (O_CLOEXEC is added; O_NOFOLLOW applies to
// the final component). Escapes are Errno::NotCapable.
Errno open_beneath(int dir, std::string_view path, int flags, int mode, UniqueFd& out);

// A path split into an opened parent directory (O_PATH) and its final component, which is a
// single name, never "." or "..", without slashes.
struct ParentAndName {
  UniqueFd parent;
  std::string name;
  bool trailing_slash = false;  // the guest wrote "name/": it must be a directory
};
Errno open_parent(int dir, std::string_view path, ParentAndName& out);

// Checks a guest path for NUL bytes and length.
Errno check_path(std::string_view path);

// Whether a symlink the guest creates with contents `target` can only ever lead further down
// the tree: not absolute and no ".." component. A lexical check against the link's current
// depth would not do, since the guest can move or hard-link the link higher up afterwards (or
// climb through another link to "."); a link that only points down keeps pointing down
// wherever it is moved.
bool symlink_target_points_down(std::string_view target);

}  // namespace wasm_sandbox::wasi
