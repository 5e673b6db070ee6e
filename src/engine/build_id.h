// What compiled code depends on besides the module: the build of the engine that generated it
// and the CPU it was compiled for. Artifacts (engine/artifact.h) record both, so that code from
// another build, or for features this CPU lacks, is refused instead of loaded.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wasm_sandbox::engine {

// "wasm-sandbox 0.1.0 abi 2 build 0123456789abcdef": the project version, the glue ABI version
// (glue_abi.h) and a hash, computed at configure time, of every source in src/engine/ and
// src/runtime/ and of the libwabt version. Any edit to the code generator or the runtime gives
// another string. Static storage; thread-safe.
std::string_view engine_version();

// The processor compiled code was built for, or runs on.
struct CpuIdentity {
  std::string arch;  // "x86_64", "aarch64", ...
  // x86: cpuid leaf 1 ecx, edx; leaf 7 subleaf 0 ebx, ecx; with bits that do not describe the
  // instruction set masked out (leaf 1 ecx bit 31, "running under a hypervisor"). Zero on
  // other architectures. Leaf 1 ebx is left out: it holds the APIC id, which differs per core.
  std::array<uint32_t, 4> features{};
  std::string model;  // the brand string ("Intel(R) Xeon(R) ..."), for messages only

  bool operator==(const CpuIdentity&) const = default;
};

// The CPU this process runs on. Computed once; thread-safe.
const CpuIdentity& current_cpu();

// True if code built for `artifact_cpu` can run `here`: same architecture, and every feature
// bit of the artifact's CPU is set in here's.
bool can_run(const CpuIdentity& artifact_cpu, const CpuIdentity& here);

// The features `artifact_cpu` has and `here` lacks, by name ("avx2", "avx512f"; an unnamed bit
// as "cpuid.7.ebx[22]"), in a fixed order, for messages. Empty if the architectures differ.
std::vector<std::string> missing_cpu_features(const CpuIdentity& artifact_cpu,
                                              const CpuIdentity& here);

}  // namespace wasm_sandbox::engine
