// dlopen of a shared object held in memory, through memfd_create and /proc/self/fd.
#include "engine/load_shared.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/code_ranges.h"
#include "runtime/runtime.h"

namespace wasm_sandbox::engine {
namespace {

const ws_runtime_api kRuntimeApi = {
    wasm_rt_trap,
    ws_guard_trap,
    runtime::register_func_type,
    wasm_rt_is_initialized,
    wasm_rt_allocate_memory,
    wasm_rt_grow_memory,
    wasm_rt_free_memory,
    wasm_rt_allocate_funcref_table,
    wasm_rt_allocate_externref_table,
    wasm_rt_free_funcref_table,
    wasm_rt_free_externref_table,
    wasm_rt_grow_funcref_table,
    wasm_rt_grow_externref_table,
};

class SharedObjectCode final : public NativeCode {
 public:
  SharedObjectCode(void* handle, int fd, const ws_glue* glue, size_t size,
                   std::vector<runtime::CodeRange> code)
      : NativeCode(glue), handle_(handle), fd_(fd), size_(size), registration_(std::move(code)) {}
  // The memfd stays open while the object is loaded: glibc recognizes loaded objects by
  // path, and /proc/self/fd/N must not name a different object while this one is.
  ~SharedObjectCode() override {
    registration_.reset();
    dlclose(handle_);
    close(fd_);
  }
  size_t code_size() const override { return size_; }

 private:
  void* handle_;
  int fd_;
  size_t size_;
  runtime::CodeRegistration registration_;  // its executable segments, while loaded
};

struct SegmentSearch {
  ElfW(Addr) base;  // the object's load address (link_map::l_addr)
  const char* name;
  std::vector<runtime::CodeRange> ranges;
  bool found = false;
};

int collect_executable_segments(struct dl_phdr_info* info, size_t, void* data) {
  auto* search = static_cast<SegmentSearch*>(data);
  if (info->dlpi_addr != search->base || !info->dlpi_name ||
      std::strcmp(info->dlpi_name, search->name) != 0) {
    return 0;
  }
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type != PT_LOAD || !(segment.p_flags & PF_X)) continue;
    const uintptr_t begin = info->dlpi_addr + segment.p_vaddr;
    search->ranges.push_back({begin, begin + segment.p_memsz});
  }
  search->found = true;
  return 1;
}

// The address ranges of the loaded object's executable segments: every instruction of the
// generated code, and only the object's own (its PLT and startup stubs included).
bool executable_segments(void* handle, std::vector<runtime::CodeRange>* out) {
  struct link_map* map = nullptr;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || !map) return false;
  SegmentSearch search{map->l_addr, map->l_name, {}};
  dl_iterate_phdr(collect_executable_segments, &search);
  if (!search.found || search.ranges.empty()) return false;
  *out = std::move(search.ranges);
  return true;
}

}  // namespace

Result<std::unique_ptr<NativeCode>> load_shared_object(std::span<const uint8_t> bytes,
                                                       std::string_view name) {
  const std::string module(name);
  const int fd = memfd_create("wasm-sandbox-code", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    return Error(ErrorKind::Internal, module + ": memfd_create: " + std::strerror(errno));
  }
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + written, bytes.size() - written);
    if (n <= 0) {
      close(fd);
      return Error(ErrorKind::Io, module + ": cannot stage the code: " + std::strerror(errno));
    }
    written += static_cast<size_t>(n);
  }
  fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    close(fd);
    return Error(ErrorKind::InvalidModule,
                 module + ": cannot load the compiled code: " + (why ? why : "dlopen failed"));
  }
  auto* glue = static_cast<const ws_glue*>(dlsym(handle, "ws_module_glue"));
  if (!glue || glue->abi_version != WS_GLUE_ABI_VERSION || !glue->bind_runtime) {
    dlclose(handle);
    close(fd);
    return Error(ErrorKind::InvalidModule, module +
                                               ": the compiled code has no glue of ABI version " +
                                               std::to_string(WS_GLUE_ABI_VERSION));
  }
  std::vector<runtime::CodeRange> code;
  if (!executable_segments(handle, &code)) {
    dlclose(handle);
    close(fd);
    return Error(ErrorKind::Internal, module + ": cannot find the loaded code's segments");
  }
  glue->bind_runtime(&kRuntimeApi);
  return std::unique_ptr<NativeCode>(
      new SharedObjectCode(handle, fd, glue, bytes.size(), std::move(code)));
}

}  // namespace wasm_sandbox::engine
