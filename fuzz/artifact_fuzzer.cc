// libFuzzer entry point for the artifact reader: bytes -> engine::deserialize ->
// engine::check_compatible. The code an artifact carries is never loaded: loading it would run
// it, and an artifact file is trusted to hold code only once its hash, version and CPU match.
//
// Contract under test (engine/artifact.h): whatever the bytes, deserialize() returns an
// Artifact or an InvalidModule / Unsupported error, reading nothing outside the input; and the
// format has exactly one encoding per Artifact, so an input that parses serializes back to the
// same bytes. A crash, a sanitizer report, a leak, another error kind or a failed round trip
// is a finding.
//
// The file's size and BLAKE2b fields cover everything else, so nearly every mutation would stop
// at the hash check. Each input therefore runs twice: as it is (the header checks), and sealed,
// with its size and hash fields rewritten to match its bytes (the body parser).
//
// Built two ways (fuzz/CMakeLists.txt): linked with libFuzzer as artifact_fuzzer, and linked
// with run_corpus.cc as the fuzz_artifact_corpus regression test.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "engine/artifact.h"
#include "engine/build_id.h"
#include "engine/hash.h"

namespace wasm_sandbox::fuzz {
namespace {

// The header of artifact.h's layout: magic, version, u64 file size, BLAKE2b-256 of the rest.
constexpr size_t kSizeOffset = 8;
constexpr size_t kHashOffset = 16;
constexpr size_t kHeaderSize = kHashOffset + sizeof(engine::Digest);

[[noreturn]] void finding(const char* what, const std::string& detail) {
  std::fprintf(stderr, "artifact_fuzzer: %s: %s\n", what, detail.c_str());
  std::abort();
}

// `bytes` with the size and hash fields made to match its contents.
std::vector<uint8_t> sealed(std::span<const uint8_t> bytes) {
  std::vector<uint8_t> out(bytes.begin(), bytes.end());
  const uint64_t size = out.size();
  for (size_t i = 0; i < 8; ++i) out[kSizeOffset + i] = uint8_t(size >> (8 * i));
  const std::span<const uint8_t> all(out);
  const engine::Digest digest =
      engine::Hasher().update(all.first(kHashOffset)).update(all.subspan(kHeaderSize)).finish();
  std::memcpy(out.data() + kHashOffset, digest.data(), digest.size());
  return out;
}

void check(std::span<const uint8_t> bytes) {
  Result<engine::Artifact> artifact = engine::deserialize(bytes, "fuzz.wsa");
  if (!artifact) {
    const ErrorKind kind = artifact.error().kind();
    if (kind != ErrorKind::InvalidModule && kind != ErrorKind::Unsupported) {
      finding("unexpected error kind", artifact.error().message());
    }
    return;
  }
  const std::vector<uint8_t> again = engine::serialize(*artifact);
  if (again.size() != bytes.size() || std::memcmp(again.data(), bytes.data(), bytes.size()) != 0) {
    finding("round trip changed the bytes",
            std::to_string(bytes.size()) + " bytes in, " + std::to_string(again.size()) + " out");
  }
  (void)engine::check_compatible(*artifact, "fuzz.wsa");
  // Every committed seed names the engine build that wrote it, which no later build matches;
  // as this build's, the same artifact reaches the architecture and CPU feature checks.
  artifact->engine_version = std::string(engine::engine_version());
  (void)engine::check_compatible(*artifact, "fuzz.wsa");
}

}  // namespace
}  // namespace wasm_sandbox::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wasm_sandbox::fuzz;
  const std::span<const uint8_t> bytes(data, size);
  check(bytes);
  if (size >= kHeaderSize) check(sealed(bytes));
  return 0;
}
