// The artifact file (".wsa"): one compiled module, everything needed to run it without the wasm
// bytes and without a compiler — the optimized tier's shared object plus the module's interface
// and what the code was built by and for. The disk cache (engine/disk_cache.h) stores these, and
// `wasm-sandbox compile` writes them for machines that do not run a compiler.
//
// Loading an artifact is on the cold-start path (target: well under 1 ms in all), so reading is
// one pass of a bounds-checked cursor over the bytes plus one BLAKE2b over the file.
//
// Layout (all integers little-endian):
//   0   "\0wsa"                   magic
//   4   u32 format version        kArtifactFormatVersion
//   8   u64 file size             the whole file, header included
//   16  32 bytes BLAKE2b-256      of bytes [0, 16) and [48, end): everything but itself
//   48  body: strings and byte arrays as a u32 or u64 length then the bytes, in the order of
//       the fields of Artifact (see artifact.cc), the code last.
// A file whose size or hash does not match is corrupt whatever else it holds, so any flipped bit
// and any truncation is detected before a field is parsed.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/build_id.h"
#include "engine/hash.h"
#include "engine/module_info.h"
#include "wasm_sandbox/result.h"

namespace wasm_sandbox::engine {

// Changes whenever the layout does; older or newer files are refused (ErrorKind::Unsupported).
inline constexpr uint32_t kArtifactFormatVersion = 2;  // 2: ModuleInfo::memory_image

// Bits of Artifact::instrumentation.
inline constexpr uint32_t kInstrumentFuel = 1u << 0;
inline constexpr uint32_t kInstrumentInterrupts = 1u << 1;
inline constexpr uint32_t kInstrumentBoundsChecks = 1u << 2;  // generate_c.h, BoundsChecks

struct Artifact {
  std::string engine_version;    // engine_version() at compile time
  CpuIdentity cpu;               // current_cpu() at compile time
  std::string compiler;          // "gcc 12.2.0 -O2": the compiler's identity and flags
  uint32_t instrumentation = 0;  // kInstrument* bits the code was generated with
  Digest module_hash{};          // BLAKE2b-256 of the wasm bytes
  // The module's interface. Of each ExternType only the member its kind selects is stored; the
  // others come back default-constructed (as decode() leaves them).
  ModuleInfo info;
  std::vector<uint8_t> code;  // the shared object's bytes (compile_shared_object())
};

// The file's bytes. Never fails. Thread-safe.
std::vector<uint8_t> serialize(const Artifact& artifact);

// Parses and verifies a file from serialize(). Errors name the input (`name`, e.g. a path) and
// what is wrong, in one line:
//   ErrorKind::InvalidModule: not an artifact ("plugin.wsa: not a wasm-sandbox artifact (bad
//     magic)"), truncated or with trailing bytes, contents not matching the recorded hash, or a
//     field out of range (an enum value, a length past the end).
//   ErrorKind::Unsupported: another format version.
// Never reads outside `bytes`; every count is bounded by the bytes left, so memory use stays
// within a small multiple of bytes.size() (an import or export takes at least 7 bytes in the
// file and about 150 in memory: at most ~20x). The result
// owns copies of everything; `bytes` may be freed afterwards. Thread-safe.
// Does not check that this process can run the code: see check_compatible().
Result<Artifact> deserialize(std::span<const uint8_t> bytes, std::string_view name);

// Whether this process can run the artifact's code: built by this very engine build
// (engine_version()), for this architecture, on a CPU whose features this one has
// (current_cpu()). ErrorKind::Unsupported otherwise — the file is sound, but this process
// cannot run it, and recompiling (rather than reporting corruption) is the cure — with a
// message naming both sides, e.g. "plugin.wsa: compiled by wasm-sandbox 0.1.0 abi 2 build ...;
// this is wasm-sandbox 0.1.0 abi 3 build ...: recompile it with `wasm-sandbox compile`".
// Does not check the compiler or instrumentation: callers compare those with their config.
Status check_compatible(const Artifact& artifact, std::string_view name);

}  // namespace wasm_sandbox::engine
