// The artifact file format: a little-endian writer, and a reader that checks the size and hash
// of the whole file first and then bounds every read by the bytes that remain.
#include "engine/artifact.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace wasm_sandbox::engine {
namespace {

constexpr uint8_t kMagic[4] = {0, 'w', 's', 'a'};
constexpr size_t kSizeOffset = 8;
constexpr size_t kHashOffset = 16;
constexpr size_t kHeaderSize = kHashOffset + sizeof(Digest);  // the body starts here

// A tripwire for whoever adds a field to the interface types: serialize it below, bump
// kArtifactFormatVersion, then update these sizes (libstdc++ on x86_64 only).
#if defined(__x86_64__) && defined(__GLIBCXX__)
static_assert(sizeof(ModuleInfo) == 152, "a ModuleInfo field is missing from the artifact");
static_assert(sizeof(ImportDesc) == 152 && sizeof(ExportDesc) == 120 && sizeof(ExternType) == 88 &&
                  sizeof(FuncType) == 48 && sizeof(MemoryType) == 12 && sizeof(TableType) == 16 &&
                  sizeof(GlobalType) == 2,
              "an interface type's field is missing from the artifact");
#endif

// --- writing -------------------------------------------------------------------------------

class Writer {
 public:
  explicit Writer(size_t capacity) { out_.reserve(capacity); }

  void u8(uint8_t v) { out_.push_back(v); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(uint8_t(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(uint8_t(v >> (8 * i)));
  }
  void raw(const void* data, size_t size) {
    auto* p = static_cast<const uint8_t*>(data);
    out_.insert(out_.end(), p, p + size);
  }
  void str(std::string_view s) {
    u32(uint32_t(s.size()));
    raw(s.data(), s.size());
  }
  void optional_u32(const std::optional<uint32_t>& v) {
    u8(v.has_value());
    if (v) u32(*v);
  }
  void val_type(ValType t) { u8(uint8_t(t)); }
  void val_types(const std::vector<ValType>& types) {
    u32(uint32_t(types.size()));
    for (ValType t : types) val_type(t);
  }
  void memory(const MemoryType& m) {
    u32(m.min_pages);
    optional_u32(m.max_pages);
  }
  void table(const TableType& t) {
    val_type(t.element);
    u32(t.min);
    optional_u32(t.max);
  }
  void extern_type(const ExternType& type) {
    u8(uint8_t(type.kind));
    switch (type.kind) {
      case ExternKind::Func:
        val_types(type.func.params);
        val_types(type.func.results);
        break;
      case ExternKind::Table:
        table(type.table);
        break;
      case ExternKind::Memory:
        memory(type.memory);
        break;
      case ExternKind::Global:
        val_type(type.global.type);
        u8(type.global.is_mutable);
        break;
    }
  }

  std::vector<uint8_t>& bytes() { return out_; }

 private:
  std::vector<uint8_t> out_;
};

// --- reading -------------------------------------------------------------------------------

uint32_t read_le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

uint64_t read_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

// A cursor over the body. The first failure sticks: later reads return zeros, so a parse runs
// to its end without checks at every step and the caller looks at failed() once.
class Reader {
 public:
  Reader(std::span<const uint8_t> bytes, size_t pos) : bytes_(bytes), pos_(pos) {}

  bool failed() const { return what_ != nullptr; }
  size_t failed_at() const { return failed_at_; }
  const char* what() const { return what_; }
  size_t remaining() const { return bytes_.size() - pos_; }

  void fail(const char* what) {
    if (failed()) return;
    what_ = what;
    failed_at_ = pos_;
    pos_ = bytes_.size();  // every later read fails without moving
  }

  const uint8_t* take(size_t n, const char* what) {
    if (n > remaining()) {
      fail(what);
      return nullptr;
    }
    const uint8_t* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint8_t u8(const char* what) {
    const uint8_t* p = take(1, what);
    return p ? *p : 0;
  }
  uint32_t u32(const char* what) {
    const uint8_t* p = take(4, what);
    return p ? read_le32(p) : 0;
  }
  uint64_t u64(const char* what) {
    const uint8_t* p = take(8, what);
    return p ? read_le64(p) : 0;
  }
  size_t size(const char* what) {
    uint64_t v = u64(what);
    if (v > std::numeric_limits<size_t>::max()) fail(what);
    return size_t(v);
  }
  bool flag(const char* what) {
    uint8_t v = u8(what);
    if (v > 1) fail(what);
    return v == 1;
  }
  std::string str(const char* what) {
    uint32_t n = u32(what);
    const uint8_t* p = take(n, what);
    return p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
  }
  // An element count, each element at least `min_size` bytes: more than could fit is a
  // failure, so a corrupt count never drives a large allocation or a long loop.
  uint32_t count(size_t min_size, const char* what) {
    uint32_t n = u32(what);
    if (n > remaining() / min_size) {
      fail(what);
      return 0;
    }
    return n;
  }
  std::optional<uint32_t> optional_u32(const char* what) {
    if (!flag(what)) return std::nullopt;
    return u32(what);
  }
  ValType val_type(const char* what) {
    uint8_t v = u8(what);
    if (v > uint8_t(ValType::ExternRef)) fail(what);
    return failed() ? ValType::I32 : ValType(v);
  }
  std::vector<ValType> val_types(const char* what) {
    std::vector<ValType> types(count(1, what));
    for (ValType& t : types) t = val_type(what);
    return types;
  }
  MemoryType memory() {
    MemoryType m;
    m.min_pages = u32("memory type");
    m.max_pages = optional_u32("memory type");
    return m;
  }
  TableType table() {
    TableType t;
    t.element = val_type("table type");
    if (t.element != ValType::FuncRef && t.element != ValType::ExternRef) fail("table type");
    t.min = u32("table type");
    t.max = optional_u32("table type");
    return t;
  }
  ExternType extern_type() {
    ExternType type;
    uint8_t kind = u8("extern kind");
    if (kind > uint8_t(ExternKind::Global)) {
      fail("extern kind");
      return type;
    }
    type.kind = ExternKind(kind);
    switch (type.kind) {
      case ExternKind::Func:
        type.func.params = val_types("function type");
        type.func.results = val_types("function type");
        break;
      case ExternKind::Table:
        type.table = table();
        break;
      case ExternKind::Memory:
        type.memory = memory();
        break;
      case ExternKind::Global:
        type.global.type = val_type("global type");
        type.global.is_mutable = flag("global type");
        break;
    }
    return type;
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_;
  size_t failed_at_ = 0;
  const char* what_ = nullptr;
};

// Smallest encodings, for Reader::count: two empty strings and a global's kind and type.
constexpr size_t kMinImport = 4 + 4 + 1 + 2;
constexpr size_t kMinExport = 4 + 1 + 2;
constexpr size_t kMinMemory = 4 + 1;
constexpr size_t kMinTable = 1 + 4 + 1;

// Everything but the hash field itself.
Digest hash_of(std::span<const uint8_t> file) {
  return Hasher().update(file.first(kHashOffset)).update(file.subspan(kHeaderSize)).finish();
}

Error invalid(std::string_view name, const std::string& message) {
  return Error(ErrorKind::InvalidModule, std::string(name) + ": " + message);
}

std::string recompile_hint() { return "recompile it with `wasm-sandbox compile`"; }

}  // namespace

std::vector<uint8_t> serialize(const Artifact& a) {
  Writer w(kHeaderSize + 1024 + a.code.size());
  w.raw(kMagic, sizeof kMagic);
  w.u32(kArtifactFormatVersion);
  w.u64(0);  // the file size, known at the end
  w.raw(Digest{}.data(), sizeof(Digest));

  w.str(a.engine_version);
  w.str(a.cpu.arch);
  for (uint32_t word : a.cpu.features) w.u32(word);
  w.str(a.cpu.model);
  w.str(a.compiler);
  w.u32(a.instrumentation);
  w.raw(a.module_hash.data(), a.module_hash.size());

  const ModuleInfo& info = a.info;
  w.str(info.name);
  w.u64(info.function_count);
  w.u64(info.wasm_size);
  w.u32(uint32_t(info.imports.size()));
  for (const ImportDesc& import : info.imports) {
    w.str(import.module);
    w.str(import.name);
    w.extern_type(import.type);
  }
  w.u32(uint32_t(info.exports.size()));
  for (const ExportDesc& exp : info.exports) {
    w.str(exp.name);
    w.extern_type(exp.type);
  }
  w.u32(uint32_t(info.memories.size()));
  for (const MemoryType& memory : info.memories) w.memory(memory);
  w.u32(uint32_t(info.tables.size()));
  for (const TableType& table : info.tables) w.table(table);
  w.u32(info.memory_image ? 1 : 0);

  w.u64(a.code.size());
  w.raw(a.code.data(), a.code.size());

  std::vector<uint8_t>& out = w.bytes();
  uint64_t size = out.size();
  for (size_t i = 0; i < 8; ++i) out[kSizeOffset + i] = uint8_t(size >> (8 * i));
  Digest digest = hash_of(out);
  std::memcpy(out.data() + kHashOffset, digest.data(), digest.size());
  return std::move(out);
}

Result<Artifact> deserialize(std::span<const uint8_t> bytes, std::string_view name) {
  // The header, each check as soon as there are bytes for it, so that a truncated file is
  // reported as truncated and anything else as what it is.
  size_t size = bytes.size();
  auto truncated = [&] { return "artifact is truncated at byte " + std::to_string(size); };
  if (size == 0) return invalid(name, truncated());
  if (std::memcmp(bytes.data(), kMagic, std::min(size, sizeof kMagic)) != 0) {
    return invalid(name, "not a wasm-sandbox artifact (bad magic)");
  }
  if (size < kSizeOffset) return invalid(name, truncated());
  uint32_t version = read_le32(bytes.data() + 4);
  if (version != kArtifactFormatVersion) {
    return Error(ErrorKind::Unsupported,
                 std::string(name) + ": artifact format version " + std::to_string(version) +
                     "; this build reads version " + std::to_string(kArtifactFormatVersion) + ": " +
                     recompile_hint());
  }
  if (size < kHeaderSize) return invalid(name, truncated());
  uint64_t recorded = read_le64(bytes.data() + kSizeOffset);
  if (size < recorded) {
    return invalid(name, truncated() + " (its header says " + std::to_string(recorded) + ")");
  }
  if (size > recorded) {
    return invalid(name, "artifact has " + std::to_string(size - recorded) +
                             " bytes past its end (its header says " + std::to_string(recorded) +
                             ")");
  }
  Digest digest = hash_of(bytes);
  if (std::memcmp(digest.data(), bytes.data() + kHashOffset, sizeof(Digest)) != 0) {
    return invalid(name, "artifact is corrupt: its contents do not match its recorded hash");
  }

  // The body. The hash matched, so a failure here is a file written by something else.
  Reader r(bytes, kHeaderSize);
  Artifact a;
  a.engine_version = r.str("engine version");
  a.cpu.arch = r.str("CPU architecture");
  for (uint32_t& word : a.cpu.features) word = r.u32("CPU features");
  a.cpu.model = r.str("CPU model");
  a.compiler = r.str("compiler");
  a.instrumentation = r.u32("instrumentation");
  if (const uint8_t* p = r.take(sizeof(Digest), "module hash")) {
    std::memcpy(a.module_hash.data(), p, sizeof(Digest));
  }

  ModuleInfo& info = a.info;
  info.name = r.str("module name");
  info.function_count = r.size("function count");
  info.wasm_size = r.size("wasm size");
  info.imports.resize(r.count(kMinImport, "import count"));
  for (ImportDesc& import : info.imports) {
    import.module = r.str("import module");
    import.name = r.str("import name");
    import.type = r.extern_type();
  }
  info.exports.resize(r.count(kMinExport, "export count"));
  for (ExportDesc& exp : info.exports) {
    exp.name = r.str("export name");
    exp.type = r.extern_type();
  }
  info.memories.resize(r.count(kMinMemory, "memory count"));
  for (MemoryType& memory : info.memories) memory = r.memory();
  info.tables.resize(r.count(kMinTable, "table count"));
  for (TableType& table : info.tables) table = r.table();
  info.memory_image = r.u32("memory image") != 0;

  size_t code_size = r.size("code size");
  if (const uint8_t* p = r.take(code_size, "code")) a.code.assign(p, p + code_size);
  if (!r.failed() && r.remaining() != 0) r.fail("bytes after the code");
  if (r.failed()) {
    return invalid(name, "artifact is malformed at byte " + std::to_string(r.failed_at()) + " (" +
                             r.what() + ")");
  }
  return a;
}

Status check_compatible(const Artifact& artifact, std::string_view name) {
  // ErrorKind::Unsupported ("valid wasm we cannot run"): the file is sound, this process just
  // cannot run its code. Not InvalidModule, which would read as corruption, and not Link, which
  // is about imports: the caller's cure is to recompile from the wasm bytes.
  auto unsupported = [&](const std::string& message) {
    return Error(ErrorKind::Unsupported, std::string(name) + ": " + message);
  };
  if (artifact.engine_version != engine_version()) {
    return unsupported("compiled by " + artifact.engine_version + "; this is " +
                       std::string(engine_version()) + ": " + recompile_hint());
  }
  const CpuIdentity& here = current_cpu();
  if (artifact.cpu.arch != here.arch) {
    return unsupported("compiled for " + artifact.cpu.arch + "; this machine is " + here.arch +
                       ": " + recompile_hint() + " on this machine");
  }
  if (!can_run(artifact.cpu, here)) {
    std::string missing;
    for (const std::string& feature : missing_cpu_features(artifact.cpu, here)) {
      missing += (missing.empty() ? "" : ", ") + feature;
    }
    return unsupported("compiled for a CPU (" + artifact.cpu.model + ") with features this one (" +
                       here.model + ") lacks: " + missing + ": " + recompile_hint() +
                       " on this machine");
  }
  return {};
}

}  // namespace wasm_sandbox::engine
