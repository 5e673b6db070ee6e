// The artifact file format (engine/artifact.h), its hash (engine/hash.h) and the build and CPU
// identity it records (engine/build_id.h). Corruption tests: every truncation and a spread of
// flipped bits must give a clean error, and crafted lengths must not drive allocations.
#include "engine/artifact.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/native_code.h"  // WS_GLUE_ABI_VERSION

namespace wasm_sandbox::engine {
namespace {

ExternType func_type(std::vector<ValType> params, std::vector<ValType> results) {
  ExternType type;
  type.kind = ExternKind::Func;
  type.func = {std::move(params), std::move(results)};
  return type;
}

ExternType global_type(ValType value, bool is_mutable) {
  ExternType type;
  type.kind = ExternKind::Global;
  type.global = {value, is_mutable};
  return type;
}

ExternType memory_type(uint32_t min, std::optional<uint32_t> max) {
  ExternType type;
  type.kind = ExternKind::Memory;
  type.memory = {min, max};
  return type;
}

ExternType table_type(ValType element, uint32_t min, std::optional<uint32_t> max) {
  ExternType type;
  type.kind = ExternKind::Table;
  type.table = {element, min, max};
  return type;
}

// An artifact with every kind of import and export type, compiled "here".
Artifact make_artifact(size_t code_size = 5000) {
  using enum ValType;
  Artifact a;
  a.engine_version = std::string(engine_version());
  a.cpu = current_cpu();
  a.compiler = "gcc 12.2.0 -O2";
  a.instrumentation = kInstrumentFuel | kInstrumentInterrupts;
  a.module_hash = blake2b("the wasm bytes");
  a.info.name = "plugin.wasm";
  a.info.imports = {
      {"env", "multi", func_type({I32, I64, F32, F64}, {F64, I32, I64})},
      {"env", "nothing", func_type({}, {})},
      {"env", "refs", func_type({FuncRef, ExternRef}, {ExternRef})},
      {"env", "counter", global_type(I64, true)},
      {"env", "scale", global_type(F32, false)},
      {"env", "memory", memory_type(1, 2)},
      {"env", "big_memory", memory_type(3, std::nullopt)},
      {"env", "functions", table_type(FuncRef, 1, 10)},
      {"env", "objects", table_type(ExternRef, 0, std::nullopt)},
  };
  a.info.exports = {
      {"run", func_type({}, {I32, I32})},
      {"ratio", global_type(F64, true)},
      {"handler", global_type(FuncRef, false)},
      {"memory", memory_type(0, 65536)},
      {"table", table_type(FuncRef, 5, 5)},
      {"", func_type({I64}, {})},  // an empty name is valid wasm
  };
  a.info.memories = {{0, 65536}, {17, std::nullopt}};
  a.info.tables = {{FuncRef, 5, 5}, {ExternRef, 0, std::nullopt}};
  a.info.function_count = 42;
  a.info.wasm_size = 123456789;
  a.code.resize(code_size);
  uint32_t x = 12345;
  for (uint8_t& byte : a.code) byte = uint8_t((x = x * 1103515245 + 12345) >> 16);
  return a;
}

// Only the member the kind selects is stored (artifact.h).
void expect_same_type(const ExternType& a, const ExternType& b, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(a.kind, b.kind);
  switch (a.kind) {
    case ExternKind::Func:
      EXPECT_EQ(a.func, b.func);
      break;
    case ExternKind::Table:
      EXPECT_EQ(a.table, b.table);
      break;
    case ExternKind::Memory:
      EXPECT_EQ(a.memory, b.memory);
      break;
    case ExternKind::Global:
      EXPECT_EQ(a.global, b.global);
      break;
  }
}

void expect_same(const Artifact& a, const Artifact& b) {
  EXPECT_EQ(a.engine_version, b.engine_version);
  EXPECT_EQ(a.cpu, b.cpu);
  EXPECT_EQ(a.compiler, b.compiler);
  EXPECT_EQ(a.instrumentation, b.instrumentation);
  EXPECT_EQ(a.module_hash, b.module_hash);
  EXPECT_EQ(a.info.name, b.info.name);
  ASSERT_EQ(a.info.imports.size(), b.info.imports.size());
  for (size_t i = 0; i < a.info.imports.size(); ++i) {
    EXPECT_EQ(a.info.imports[i].module, b.info.imports[i].module);
    EXPECT_EQ(a.info.imports[i].name, b.info.imports[i].name);
    expect_same_type(a.info.imports[i].type, b.info.imports[i].type, a.info.imports[i].name);
  }
  ASSERT_EQ(a.info.exports.size(), b.info.exports.size());
  for (size_t i = 0; i < a.info.exports.size(); ++i) {
    EXPECT_EQ(a.info.exports[i].name, b.info.exports[i].name);
    expect_same_type(a.info.exports[i].type, b.info.exports[i].type, a.info.exports[i].name);
  }
  EXPECT_EQ(a.info.memories, b.info.memories);
  EXPECT_EQ(a.info.tables, b.info.tables);
  EXPECT_EQ(a.info.function_count, b.info.function_count);
  EXPECT_EQ(a.info.wasm_size, b.info.wasm_size);
  EXPECT_EQ(a.code, b.code);
}

// Rewrites the recorded hash after a test changed the body on purpose (artifact.h: the hash
// covers bytes [0, 16) and [48, end)).
void rehash(std::vector<uint8_t>& file) {
  Digest digest =
      Hasher().update(std::span(file).first(16)).update(std::span(file).subspan(48)).finish();
  std::copy(digest.begin(), digest.end(), file.begin() + 16);
}

void put_u32(std::vector<uint8_t>& file, size_t offset, uint32_t value) {
  for (int i = 0; i < 4; ++i) file[offset + i] = uint8_t(value >> (8 * i));
}

TEST(Hash, KnownAnswers) {
  // python3: hashlib.blake2b(b"abc", digest_size=32).hexdigest()
  EXPECT_EQ(to_hex(blake2b("abc")),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
  EXPECT_EQ(to_hex(blake2b("")),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  EXPECT_EQ(to_hex(blake2b("The quick brown fox jumps over the lazy dog")),
            "01718cec35cd3d796dd00020e0bfecb473ad23457d063b75eff29c0ffa2e58a9");
}

TEST(Hash, IncrementalEqualsOneShot) {
  std::string text = "The quick brown fox jumps over the lazy dog";
  Hasher hasher;
  hasher.update(std::string_view(text).substr(0, 4));
  hasher.update(std::span(reinterpret_cast<const uint8_t*>(text.data()) + 4, 10));
  hasher.update(std::string_view(text).substr(14));
  EXPECT_EQ(hasher.finish(), blake2b(text));
  EXPECT_NE(blake2b("abc"), blake2b("abd"));
}

TEST(ArtifactBuildId, EngineVersionNamesProjectAbiAndBuild) {
  // "wasm-sandbox <project version> abi <WS_GLUE_ABI_VERSION> build <16 hex digits>"
  std::string version(engine_version());
  std::string middle = " abi " + std::to_string(WS_GLUE_ABI_VERSION) + " build ";
  size_t at = version.find(middle);
  ASSERT_NE(at, std::string::npos) << version;
  EXPECT_EQ(version.rfind("wasm-sandbox ", 0), 0u) << version;
  EXPECT_GT(at, std::string("wasm-sandbox ").size()) << "a project version: " << version;
  std::string build = version.substr(at + middle.size());
  EXPECT_EQ(build.size(), 16u) << version;
  EXPECT_EQ(build.find_first_not_of("0123456789abcdef"), std::string::npos) << version;
}

TEST(ArtifactBuildId, CurrentCpu) {
  const CpuIdentity& cpu = current_cpu();
  EXPECT_FALSE(cpu.model.empty());
  EXPECT_TRUE(can_run(cpu, cpu));
#if defined(__x86_64__)
  EXPECT_EQ(cpu.arch, "x86_64");
  EXPECT_NE(cpu.features[1] & (1u << 26), 0u) << "every x86_64 CPU has SSE2";
  EXPECT_EQ(cpu.features[0] & (1u << 31), 0u) << "the hypervisor bit is masked out";
#endif
}

TEST(ArtifactBuildId, CanRunNeedsSameArchAndFeatureSubset) {
  CpuIdentity old_cpu{"x86_64", {0x1, 0x2, 0, 0}, "Old CPU"};
  CpuIdentity new_cpu{"x86_64", {0x3, 0x2, 1u << 5, 0}, "New CPU"};
  EXPECT_TRUE(can_run(old_cpu, new_cpu));
  EXPECT_FALSE(can_run(new_cpu, old_cpu));
  CpuIdentity arm{"aarch64", {}, "Arm CPU"};
  EXPECT_FALSE(can_run(arm, CpuIdentity{"x86_64", {}, "x"}));
  EXPECT_EQ(missing_cpu_features(new_cpu, old_cpu),
            (std::vector<std::string>{"pclmulqdq", "avx2"}));
  CpuIdentity unnamed{"x86_64", {0, 0, 1u << 22, 0}, "x"};
  EXPECT_EQ(missing_cpu_features(unnamed, old_cpu), (std::vector<std::string>{"cpuid.7.ebx[22]"}));
}

TEST(Artifact, RoundTripsEveryField) {
  Artifact original = make_artifact();
  std::vector<uint8_t> file = serialize(original);
  auto read = deserialize(file, "plugin.wsa");
  ASSERT_TRUE(read.ok()) << read.error().message();
  expect_same(original, *read);
  EXPECT_TRUE(check_compatible(*read, "plugin.wsa").ok());
  EXPECT_EQ(serialize(*read), file) << "serialization is deterministic";
}

TEST(Artifact, RoundTripsEmptyArtifact) {
  Artifact empty;
  auto read = deserialize(serialize(empty), "empty.wsa");
  ASSERT_TRUE(read.ok()) << read.error().message();
  expect_same(empty, *read);
}

TEST(Artifact, EveryTruncationIsAnError) {
  std::vector<uint8_t> file = serialize(make_artifact());
  for (size_t size = 0; size < file.size(); ++size) {
    auto read = deserialize(std::span(file).first(size), "cache/ab12.wsa");
    ASSERT_FALSE(read.ok()) << "truncated to " << size << " bytes";
    EXPECT_EQ(read.error().kind(), ErrorKind::InvalidModule);
    EXPECT_EQ(read.error().message().rfind(
                  "cache/ab12.wsa: artifact is truncated at byte " + std::to_string(size), 0),
              0u)
        << read.error().message();
  }
}

TEST(Artifact, TrailingBytesAreAnError) {
  std::vector<uint8_t> file = serialize(make_artifact());
  file.push_back(0);
  auto read = deserialize(file, "plugin.wsa");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().kind(), ErrorKind::InvalidModule);
  EXPECT_NE(read.error().message().find("1 bytes past its end"), std::string::npos)
      << read.error().message();
}

TEST(Artifact, EveryFlippedBitIsDetected) {
  const std::vector<uint8_t> file = serialize(make_artifact());
  const size_t bits = file.size() * 8;
  std::vector<size_t> positions;
  for (size_t bit = 0; bit < 48 * 8; ++bit) positions.push_back(bit);          // the whole header
  for (size_t i = 0; i < 200; ++i) positions.push_back(i * (bits - 1) / 199);  // all over
  for (size_t bit : positions) {
    std::vector<uint8_t> flipped = file;
    flipped[bit / 8] ^= uint8_t(1u << (bit % 8));
    auto read = deserialize(flipped, "plugin.wsa");
    ASSERT_FALSE(read.ok()) << "bit " << bit << " of " << bits;
    // The format version is the one field whose change reads as "unsupported", not corrupt.
    bool in_version = bit >= 32 && bit < 64;
    EXPECT_EQ(read.error().kind(), in_version ? ErrorKind::Unsupported : ErrorKind::InvalidModule)
        << "bit " << bit << ": " << read.error().message();
    EXPECT_EQ(read.error().message().rfind("plugin.wsa: ", 0), 0u);
  }
  // A flip in the code is reported as corruption, by hash.
  std::vector<uint8_t> flipped = file;
  flipped[file.size() - 100] ^= 0x10;
  auto read = deserialize(flipped, "plugin.wsa");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().message(),
            "plugin.wsa: artifact is corrupt: its contents do not match its recorded hash");
}

TEST(Artifact, WrongMagic) {
  std::vector<uint8_t> file = serialize(make_artifact());
  using namespace std::literals;
  for (std::string_view bytes : {"\0asm\1\0\0\0"sv, "ELF"sv, "x"sv, "\0ws!"sv}) {
    std::vector<uint8_t> other = file;
    std::copy(bytes.begin(), bytes.end(), other.begin());
    auto read = deserialize(other, "plugin.wsa");
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().kind(), ErrorKind::InvalidModule);
    EXPECT_EQ(read.error().message(), "plugin.wsa: not a wasm-sandbox artifact (bad magic)");
  }
}

TEST(Artifact, OtherFormatVersionIsUnsupported) {
  std::vector<uint8_t> file = serialize(make_artifact());
  put_u32(file, 4, kArtifactFormatVersion + 1);
  rehash(file);
  auto read = deserialize(file, "plugin.wsa");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().kind(), ErrorKind::Unsupported);
  EXPECT_NE(read.error().message().find("artifact format version " +
                                        std::to_string(kArtifactFormatVersion + 1)),
            std::string::npos)
      << read.error().message();
}

// A file with a valid hash but written by something else: lengths and counts are bounded by the
// bytes that remain, enums are checked.
TEST(Artifact, CraftedFieldsWithValidHashAreBounded) {
  Artifact empty;
  const std::vector<uint8_t> file = serialize(empty);
  // Body offsets for an artifact of empty strings: engine version 48, arch 52, features 56,
  // model 72, compiler 76, instrumentation 80, module hash 84, name 116, function count 120,
  // wasm size 128, import count 136, export count 140, memory count 144, table count 148,
  // memory image 152, code size 156.
  ASSERT_EQ(file.size(), 164u);
  struct Case {
    size_t offset;
    uint32_t value;
    const char* expected;
  };
  for (const Case& c :
       {Case{48, 0xffffffff, "at byte 52 (engine version)"},
        Case{136, 0xffffffff, "at byte 140 (import count)"},
        Case{140, 0x10000000, "at byte 144 (export count)"},
        Case{156, 0xffffffff, "at byte 164 (code)"}, Case{160, 0xffffffff, "at byte 164 (code)"}}) {
    std::vector<uint8_t> crafted = file;
    put_u32(crafted, c.offset, c.value);
    rehash(crafted);
    auto read = deserialize(crafted, "crafted.wsa");
    ASSERT_FALSE(read.ok()) << c.expected;
    EXPECT_EQ(read.error().kind(), ErrorKind::InvalidModule);
    EXPECT_EQ(read.error().message(),
              std::string("crafted.wsa: artifact is malformed ") + c.expected);
  }

  // One import whose extern kind, then value type, is out of range.
  Artifact one;
  one.info.imports = {{"", "", func_type({ValType::I32}, {})}};
  const std::vector<uint8_t> with_import = serialize(one);
  size_t kind_offset = 136 + 4 + 4 + 4;  // count, module "", name ""
  std::vector<uint8_t> crafted = with_import;
  crafted[kind_offset] = 7;
  rehash(crafted);
  auto read = deserialize(crafted, "crafted.wsa");
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.error().message().find("(extern kind)"), std::string::npos);
  crafted = with_import;
  crafted[kind_offset + 1 + 4] = 200;  // kind, param count, the param
  rehash(crafted);
  read = deserialize(crafted, "crafted.wsa");
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.error().message().find("(function type)"), std::string::npos);
}

TEST(Artifact, OtherEngineVersionIsRejected) {
  Artifact a = make_artifact();
  a.engine_version = "wasm-sandbox 0.0.1 abi 1 build 0123456789abcdef";
  Status status = check_compatible(a, "plugin.wsa");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::Unsupported);
  EXPECT_EQ(status.error().message(),
            "plugin.wsa: compiled by wasm-sandbox 0.0.1 abi 1 build 0123456789abcdef; this is " +
                std::string(engine_version()) + ": recompile it with `wasm-sandbox compile`");
}

TEST(Artifact, OtherArchitectureIsRejected) {
  Artifact a = make_artifact();
  a.cpu.arch = "riscv64";
  Status status = check_compatible(a, "plugin.wsa");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::Unsupported);
  const std::string& message = status.error().message();
  EXPECT_NE(message.find("compiled for riscv64; this machine is " + current_cpu().arch),
            std::string::npos)
      << message;
}

TEST(Artifact, MissingCpuFeatureIsRejected) {
  const CpuIdentity& here = current_cpu();
  Artifact a = make_artifact();
  a.cpu.model = "Imaginary CPU 9000";
  // The first feature bit this CPU lacks (leaf 7 first: it has the most unset bits).
  bool found = false;
  for (size_t word : {3, 2, 0, 1}) {
    for (unsigned bit = 0; bit < 32 && !found; ++bit) {
      if (word == 0 && bit == 31) continue;  // masked out
      if (!(here.features[word] & (1u << bit))) {
        a.cpu.features[word] |= 1u << bit;
        found = true;
      }
    }
    if (found) break;
  }
  if (!found) GTEST_SKIP() << "this CPU has every feature bit";
  std::vector<std::string> missing = missing_cpu_features(a.cpu, here);
  ASSERT_EQ(missing.size(), 1u);
  Status status = check_compatible(a, "plugin.wsa");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::Unsupported);
  const std::string& message = status.error().message();
  EXPECT_NE(message.find("Imaginary CPU 9000"), std::string::npos) << message;
  EXPECT_NE(message.find(here.model), std::string::npos) << message;
  EXPECT_NE(message.find(missing[0]), std::string::npos) << message;
  EXPECT_EQ(message.rfind("plugin.wsa: ", 0), 0u) << message;
}

}  // namespace
}  // namespace wasm_sandbox::engine
