// The engine's build identity and the CPU's, as artifacts record them.
#include "engine/build_id.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <cstring>

namespace wasm_sandbox::engine {

// Defined in the file CMake generates from cmake/build_id.cc.in.
extern const char kEngineVersion[];

namespace {

constexpr const char* kArch =
#if defined(__x86_64__)
    "x86_64";
#elif defined(__i386__)
    "i386";
#elif defined(__aarch64__)
    "aarch64";
#elif defined(__arm__)
    "arm";
#elif defined(__riscv) && __riscv_xlen == 64
    "riscv64";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
    "ppc64le";
#elif defined(__s390x__)
    "s390x";
#else
    "unknown";
#endif

// CpuIdentity::features words, and the bits of each that name an instruction-set feature (for
// messages; unnamed bits still count in can_run).
enum Word : uint8_t { kLeaf1Ecx, kLeaf1Edx, kLeaf7Ebx, kLeaf7Ecx };
const char* const kWordNames[] = {"cpuid.1.ecx", "cpuid.1.edx", "cpuid.7.ebx", "cpuid.7.ecx"};

struct Feature {
  Word word;
  uint8_t bit;
  const char* name;
};

const Feature kFeatures[] = {
    {kLeaf1Ecx, 0, "sse3"},
    {kLeaf1Ecx, 1, "pclmulqdq"},
    {kLeaf1Ecx, 9, "ssse3"},
    {kLeaf1Ecx, 12, "fma"},
    {kLeaf1Ecx, 13, "cx16"},
    {kLeaf1Ecx, 19, "sse4.1"},
    {kLeaf1Ecx, 20, "sse4.2"},
    {kLeaf1Ecx, 22, "movbe"},
    {kLeaf1Ecx, 23, "popcnt"},
    {kLeaf1Ecx, 25, "aes"},
    {kLeaf1Ecx, 26, "xsave"},
    {kLeaf1Ecx, 27, "osxsave"},
    {kLeaf1Ecx, 28, "avx"},
    {kLeaf1Ecx, 29, "f16c"},
    {kLeaf1Ecx, 30, "rdrand"},
    {kLeaf1Edx, 0, "fpu"},
    {kLeaf1Edx, 4, "tsc"},
    {kLeaf1Edx, 8, "cx8"},
    {kLeaf1Edx, 15, "cmov"},
    {kLeaf1Edx, 23, "mmx"},
    {kLeaf1Edx, 24, "fxsr"},
    {kLeaf1Edx, 25, "sse"},
    {kLeaf1Edx, 26, "sse2"},
    {kLeaf7Ebx, 0, "fsgsbase"},
    {kLeaf7Ebx, 3, "bmi1"},
    {kLeaf7Ebx, 4, "hle"},
    {kLeaf7Ebx, 5, "avx2"},
    {kLeaf7Ebx, 8, "bmi2"},
    {kLeaf7Ebx, 9, "erms"},
    {kLeaf7Ebx, 11, "rtm"},
    {kLeaf7Ebx, 16, "avx512f"},
    {kLeaf7Ebx, 17, "avx512dq"},
    {kLeaf7Ebx, 18, "rdseed"},
    {kLeaf7Ebx, 19, "adx"},
    {kLeaf7Ebx, 21, "avx512ifma"},
    {kLeaf7Ebx, 23, "clflushopt"},
    {kLeaf7Ebx, 24, "clwb"},
    {kLeaf7Ebx, 28, "avx512cd"},
    {kLeaf7Ebx, 29, "sha"},
    {kLeaf7Ebx, 30, "avx512bw"},
    {kLeaf7Ebx, 31, "avx512vl"},
    {kLeaf7Ecx, 1, "avx512vbmi"},
    {kLeaf7Ecx, 3, "pku"},
    {kLeaf7Ecx, 4, "ospke"},
    {kLeaf7Ecx, 6, "avx512vbmi2"},
    {kLeaf7Ecx, 8, "gfni"},
    {kLeaf7Ecx, 9, "vaes"},
    {kLeaf7Ecx, 10, "vpclmulqdq"},
    {kLeaf7Ecx, 11, "avx512vnni"},
    {kLeaf7Ecx, 12, "avx512bitalg"},
    {kLeaf7Ecx, 14, "avx512vpopcntdq"},
    {kLeaf7Ecx, 22, "rdpid"},
};

// Leaf 1 ecx bit 31 says "a hypervisor is present": the same code runs either way, and an
// artifact compiled in a VM must not be refused on the bare-metal host.
constexpr uint32_t kLeaf1EcxMask = ~(1u << 31);

CpuIdentity detect_cpu() {
  CpuIdentity cpu;
  cpu.arch = kArch;
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax, ebx, ecx, edx;
  unsigned max_leaf = unsigned(__get_cpuid_max(0, nullptr));
  if (max_leaf >= 1 && __get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
    cpu.features[kLeaf1Ecx] = ecx & kLeaf1EcxMask;
    cpu.features[kLeaf1Edx] = edx;
  }
  if (max_leaf >= 7) {
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    cpu.features[kLeaf7Ebx] = ebx;
    cpu.features[kLeaf7Ecx] = ecx;
  }
  if (unsigned(__get_cpuid_max(0x80000000u, nullptr)) >= 0x80000004u) {
    char brand[49] = {};
    for (unsigned i = 0; i < 3; ++i) {
      unsigned regs[4];
      __get_cpuid(0x80000002u + i, &regs[0], &regs[1], &regs[2], &regs[3]);
      std::memcpy(brand + 16 * i, regs, 16);
    }
    std::string_view text(brand);
    size_t first = text.find_first_not_of(' ');
    size_t last = text.find_last_not_of(' ');
    if (first != std::string_view::npos) cpu.model = text.substr(first, last - first + 1);
  }
#endif
  if (cpu.model.empty()) cpu.model = std::string("unknown ") + kArch + " CPU";
  return cpu;
}

}  // namespace

std::string_view engine_version() { return kEngineVersion; }

const CpuIdentity& current_cpu() {
  static const CpuIdentity cpu = detect_cpu();
  return cpu;
}

bool can_run(const CpuIdentity& artifact_cpu, const CpuIdentity& here) {
  if (artifact_cpu.arch != here.arch) return false;
  for (size_t i = 0; i < here.features.size(); ++i) {
    if ((artifact_cpu.features[i] & ~here.features[i]) != 0) return false;
  }
  return true;
}

std::vector<std::string> missing_cpu_features(const CpuIdentity& artifact_cpu,
                                              const CpuIdentity& here) {
  std::vector<std::string> missing;
  if (artifact_cpu.arch != here.arch) return missing;
  for (size_t word = 0; word < here.features.size(); ++word) {
    uint32_t lacking = artifact_cpu.features[word] & ~here.features[word];
    for (unsigned bit = 0; bit < 32; ++bit) {
      if (!(lacking & (1u << bit))) continue;
      const char* name = nullptr;
      for (const Feature& feature : kFeatures) {
        if (feature.word == word && feature.bit == bit) name = feature.name;
      }
      missing.push_back(name ? name
                             : std::string(kWordNames[word]) + "[" + std::to_string(bit) + "]");
    }
  }
  return missing;
}

}  // namespace wasm_sandbox::engine
