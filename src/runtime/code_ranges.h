// Where generated code lives, process-wide: the address ranges of every loaded module's
// machine code (libtcc's relocated block, a shared object's executable segments). The
// interrupt signal handler (trap.cc) asks it whether the interrupted instruction is generated
// code, the only place from which a call may be unwound at any instruction: generated code
// holds no locks and keeps no state that a trap cannot leave midway, while the runtime,
// libc and host functions may.
//
// Workload: a registration per loaded code object (rare: under a mutex, copies the table);
// a lookup per interrupt signal, from a signal handler, so lookups take no lock and allocate
// nothing. A replaced table is freed only once no lookup can still be reading it.
#pragma once

#include <cstdint>
#include <vector>

namespace wasm_sandbox::runtime {

struct CodeRange {
  uintptr_t begin;
  uintptr_t end;  // one past the last byte
};

// RAII: the ranges count as generated code while this is alive. Drop it before the code is
// unmapped. Thread-safe; movable.
class CodeRegistration {
 public:
  CodeRegistration() = default;
  explicit CodeRegistration(std::vector<CodeRange> ranges);
  ~CodeRegistration() { reset(); }
  CodeRegistration(CodeRegistration&& other) noexcept : ranges_(std::move(other.ranges_)) {
    other.ranges_.clear();
  }
  CodeRegistration& operator=(CodeRegistration&& other) noexcept;
  CodeRegistration(const CodeRegistration&) = delete;
  CodeRegistration& operator=(const CodeRegistration&) = delete;

  // Unregisters now.
  void reset();

 private:
  std::vector<CodeRange> ranges_;
};

// Whether `pc` lies in a registered range. Async-signal-safe and lock-free.
bool is_generated_code(uintptr_t pc);

}  // namespace wasm_sandbox::runtime
