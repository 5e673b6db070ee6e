// The baseline tier: libtcc compiles the generated C straight into executable memory.
#include "engine/compile_tcc.h"

#include <libtcc.h>
#include <sys/mman.h>

#include <cmath>
#include <mutex>

#include "runtime/code_ranges.h"

namespace wasm_sandbox::engine {
namespace {

std::mutex g_tcc_mutex;  // libtcc 0.9.27 is not reentrant

// The code lives in a mapping of our own (tcc_relocate into it), so that we know its
// extent: it is registered as generated code (runtime/code_ranges.h) while loaded.
class TccCode final : public NativeCode {
 public:
  TccCode(TCCState* state, const ws_glue* glue, void* memory, size_t size)
      : NativeCode(glue),
        state_(state),
        memory_(memory),
        size_(size),
        registration_(
            {{reinterpret_cast<uintptr_t>(memory), reinterpret_cast<uintptr_t>(memory) + size}}) {}
  ~TccCode() override {
    registration_.reset();
    {
      std::lock_guard lock(g_tcc_mutex);
      tcc_delete(state_);
    }
    munmap(memory_, size_);
  }
  size_t code_size() const override { return size_; }

 private:
  TCCState* state_;
  void* memory_;
  size_t size_;
  runtime::CodeRegistration registration_;
};

struct Symbol {
  const char* name;
  const void* address;
};

// What generated code may call besides libc: our runtime, and libm (tcc does not link it).
// Casts pick the double or float overload.
const Symbol kSymbols[] = {
    {"wasm_rt_trap", reinterpret_cast<const void*>(&wasm_rt_trap)},
    {"ws_guard_trap", reinterpret_cast<const void*>(&ws_guard_trap)},
    {"wasm_rt_register_func_type", reinterpret_cast<const void*>(&wasm_rt_register_func_type)},
    {"wasm_rt_is_initialized", reinterpret_cast<const void*>(&wasm_rt_is_initialized)},
    {"wasm_rt_allocate_memory", reinterpret_cast<const void*>(&wasm_rt_allocate_memory)},
    {"wasm_rt_grow_memory", reinterpret_cast<const void*>(&wasm_rt_grow_memory)},
    {"wasm_rt_free_memory", reinterpret_cast<const void*>(&wasm_rt_free_memory)},
    {"wasm_rt_allocate_funcref_table",
     reinterpret_cast<const void*>(&wasm_rt_allocate_funcref_table)},
    {"wasm_rt_allocate_externref_table",
     reinterpret_cast<const void*>(&wasm_rt_allocate_externref_table)},
    {"wasm_rt_free_funcref_table", reinterpret_cast<const void*>(&wasm_rt_free_funcref_table)},
    {"wasm_rt_free_externref_table", reinterpret_cast<const void*>(&wasm_rt_free_externref_table)},
    {"wasm_rt_grow_funcref_table", reinterpret_cast<const void*>(&wasm_rt_grow_funcref_table)},
    {"wasm_rt_grow_externref_table", reinterpret_cast<const void*>(&wasm_rt_grow_externref_table)},
    {"floor", reinterpret_cast<const void*>(static_cast<double (*)(double)>(&std::floor))},
    {"floorf", reinterpret_cast<const void*>(static_cast<float (*)(float)>(&std::floor))},
    {"ceil", reinterpret_cast<const void*>(static_cast<double (*)(double)>(&std::ceil))},
    {"ceilf", reinterpret_cast<const void*>(static_cast<float (*)(float)>(&std::ceil))},
    {"trunc", reinterpret_cast<const void*>(static_cast<double (*)(double)>(&std::trunc))},
    {"truncf", reinterpret_cast<const void*>(static_cast<float (*)(float)>(&std::trunc))},
    {"nearbyint", reinterpret_cast<const void*>(static_cast<double (*)(double)>(&std::nearbyint))},
    {"nearbyintf", reinterpret_cast<const void*>(static_cast<float (*)(float)>(&std::nearbyint))},
    {"sqrt", reinterpret_cast<const void*>(static_cast<double (*)(double)>(&std::sqrt))},
    {"sqrtf", reinterpret_cast<const void*>(static_cast<float (*)(float)>(&std::sqrt))},
    {"fabs", reinterpret_cast<const void*>(static_cast<double (*)(double)>(&std::fabs))},
    {"fabsf", reinterpret_cast<const void*>(static_cast<float (*)(float)>(&std::fabs))},
};

void collect_error(void* opaque, const char* message) {
  auto* errors = static_cast<std::string*>(opaque);
  std::string_view text(message);
  if (text.find("warning:") != std::string_view::npos) return;
  if (errors->empty()) *errors = text;
}

}  // namespace

Result<std::unique_ptr<NativeCode>> compile_with_tcc(const std::string& source,
                                                     std::string_view name) {
  std::lock_guard lock(g_tcc_mutex);
  TCCState* state = tcc_new();
  if (!state) return Error(ErrorKind::Internal, std::string(name) + ": cannot start libtcc");
  std::string errors;
  tcc_set_error_func(state, &errors, collect_error);
  tcc_set_output_type(state, TCC_OUTPUT_MEMORY);
  auto fail = [&](const char* what) {
    tcc_delete(state);
    return Error(ErrorKind::Internal,
                 std::string(name) + ": " + what + (errors.empty() ? "" : ": " + errors));
  };
  if (tcc_compile_string(state, source.c_str()) != 0) {
    return fail("tcc rejected the generated C");
  }
  for (const Symbol& symbol : kSymbols) tcc_add_symbol(state, symbol.name, symbol.address);
  const int size = tcc_relocate(state, nullptr);
  if (size <= 0) return fail("tcc cannot link the generated code");
  // tcc makes the pages it puts code on executable itself.
  void* memory = mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return fail("out of memory for the generated code");
  if (tcc_relocate(state, memory) < 0) {
    munmap(memory, static_cast<size_t>(size));
    return fail("tcc cannot link the generated code");
  }
  auto* glue = static_cast<const ws_glue*>(tcc_get_symbol(state, "ws_module_glue"));
  if (!glue || glue->abi_version != WS_GLUE_ABI_VERSION) {
    munmap(memory, static_cast<size_t>(size));
    return fail("generated code has no matching glue");
  }
  return std::unique_ptr<NativeCode>(new TccCode(state, glue, memory, static_cast<size_t>(size)));
}

}  // namespace wasm_sandbox::engine
