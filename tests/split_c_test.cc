// Splitting generated C into translation units (engine/split_c.h): split into 2 or 3 units,
// compiled apart by gcc/clang and linked, a module computes what the one unit computes; the
// split keeps every definition exactly once; text of a shape the splitter does not know stays
// one unit.
#include "engine/split_c.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/compile_cc.h"
#include "engine/decode.h"
#include "engine/generate_c.h"
#include "engine/instrument.h"
#include "engine/load_shared.h"
#include "guests/kernels.h"
#include "runtime/runtime.h"
#include "test_util.h"

namespace wasm_sandbox::engine {
namespace {

namespace fs = std::filesystem;

struct Generated {
  std::string c;
  ModuleInfo info;
};

std::optional<Generated> generate(std::span<const uint8_t> wasm, const std::string& name,
                                  Instrumentation what) {
  auto decoded = decode(wasm, name, Limits{});
  if (!decoded) return std::nullopt;
  const InstrumentedExports extra = instrument(*decoded->ir, what);
  auto c = generate_c(*decoded->ir, decoded->info, extra, BoundsChecks::GuardPages,
                      Limits{}.generated_c_bytes);
  if (!c) return std::nullopt;
  return Generated{std::move(*c), std::move(decoded->info)};
}

Generated generate_file(const std::string& path, Instrumentation what) {
  const std::string bytes = wasm_sandbox::testing::read_file(path);
  auto generated = generate({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
                            fs::path(path).filename().string(), what);
  EXPECT_TRUE(generated.has_value()) << path;
  return generated ? std::move(*generated) : Generated{};
}

std::unique_ptr<NativeCode> compile(const std::vector<std::string>& units,
                                    const std::string& name) {
  auto compiler = find_c_compiler("", {"-O1"});
  if (!compiler) {
    ADD_FAILURE() << compiler.error().message();
    return nullptr;
  }
  auto bytes = compile_shared_object(*compiler, units, name, 2,
                                     std::chrono::steady_clock::now() + std::chrono::minutes(5));
  if (!bytes) {
    ADD_FAILURE() << bytes.error().message();
    return nullptr;
  }
  auto code = load_shared_object(*bytes, name);
  if (!code) {
    ADD_FAILURE() << code.error().message();
    return nullptr;
  }
  code->get()->glue().init_module();
  return std::move(*code);
}

// One instance driven through the glue, as sandbox/module.cc and call.cc do.
class GlueInstance {
 public:
  // `fuel` before each call, if the code is metered: an endless loop ends as OutOfFuel.
  GlueInstance(const NativeCode& code, int64_t fuel) : glue_(code.glue()), fuel_(fuel) {
    runtime::ensure_initialized();
    const size_t size = (glue_.instance_size + 63) & ~size_t{63};
    raw_ = std::aligned_alloc(64, size);
    std::memset(raw_, 0, size);
    instantiated_ = runtime::run_guarded(run_instantiate, this);
    if (instantiated_ == TrapKind::None && glue_.start) {
      refuel();
      instantiated_ = runtime::run_guarded(run_start, this);
    }
    (void)runtime::take_trap_message();
  }
  ~GlueInstance() {
    glue_.free_instance(raw_);
    std::free(raw_);
  }
  GlueInstance(const GlueInstance&) = delete;
  GlueInstance& operator=(const GlueInstance&) = delete;

  TrapKind instantiated() const { return instantiated_; }

  // Calls export `k` with io[0..params), leaving the results in io.
  TrapKind call(size_t k, ws_val* io) {
    refuel();
    call_ = {k, io};
    const TrapKind trap = runtime::run_guarded(run_call, this);
    (void)runtime::take_trap_message();
    return trap;
  }

  // Export `k`'s memory, if it is one.
  const wasm_rt_memory_t* memory(size_t k) const {
    return static_cast<const wasm_rt_memory_t*>(
        reinterpret_cast<void* (*)(void*)>(glue_.exports[k].direct)(raw_));
  }

 private:
  void refuel() {
    if (glue_.fuel) *static_cast<int64_t*>(glue_.fuel(raw_)) = fuel_;
  }
  static void run_instantiate(void* self) {
    auto* me = static_cast<GlueInstance*>(self);
    me->glue_.instantiate(me->raw_);
  }
  static void run_start(void* self) {
    auto* me = static_cast<GlueInstance*>(self);
    me->glue_.start(me->raw_);
  }
  static void run_call(void* self) {
    auto* me = static_cast<GlueInstance*>(self);
    me->glue_.exports[me->call_.k].entry(me->raw_, me->call_.io);
  }

  const ws_glue& glue_;
  const int64_t fuel_;
  void* raw_ = nullptr;
  TrapKind instantiated_ = TrapKind::None;
  struct {
    size_t k;
    ws_val* io;
  } call_{};
};

// ---- the split itself -----------------------------------------------------------------------

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

// The identifier a top-level line declares or defines: a function's before its '(', a datum's
// before its `[`, ` =` or `;`. Empty for other lines.
std::string_view declared_name(std::string_view line) {
  size_t end = line.find('(');
  if (end == std::string_view::npos) {
    end = line.find_first_of("[=;");
    if (end == std::string_view::npos) return {};
    while (end > 0 && line[end - 1] == ' ') --end;
  }
  size_t start = end;
  while (start > 0 &&
         (std::isalnum(static_cast<unsigned char>(line[start - 1])) || line[start - 1] == '_')) {
    --start;
  }
  return line.substr(start, end - start);
}

// What one unit, or the source, says at top level about each name.
struct Census {
  std::map<std::string_view, size_t> function_definitions;  // `... name(...) {`
  std::map<std::string_view, size_t> prototypes;            // `... name(...);`
  std::map<std::string_view, size_t> data_definitions;      // `T name... = ...` or `T name...;`
  std::map<std::string_view, size_t> extern_data;           // `extern T name...;`
  std::map<std::string_view, size_t> static_lines;          // any of the above with `static`
};

// Lines before the module part (prelude, header, helpers) are skipped: they are not split.
Census census(std::string_view text) {
  Census out;
  bool module_part = false;
  const std::vector<std::string_view> lines = lines_of(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (line.starts_with("static bool s_module_initialized") ||
        line.starts_with("bool s_module_initialized") ||
        line.starts_with("/* ---- the module's declarations")) {
      module_part = true;
    }
    if (line.starts_with("/* ---- wasm-sandbox glue")) break;
    if (!module_part || line.empty() || !(std::isalpha(static_cast<unsigned char>(line[0])))) {
      continue;
    }
    const std::string_view name = declared_name(line);
    if (name.empty()) continue;
    if (line.starts_with("static ")) ++out.static_lines[name];
    if (line.find('(') != std::string_view::npos && line.find('(') < line.find('=')) {
      // A long signature continues on indented lines.
      std::string_view last = line;
      while (!last.ends_with("{") && !last.ends_with(";") && i + 1 < lines.size() &&
             lines[i + 1].starts_with(" ")) {
        last = lines[++i];
      }
      if (last.ends_with("{")) ++out.function_definitions[name];
      if (last.ends_with(");")) ++out.prototypes[name];
    } else if (line.starts_with("extern ")) {
      ++out.extern_data[name];
    } else {
      ++out.data_definitions[name];
    }
  }
  return out;
}

// Every module function defined in exactly one unit and declared in every unit; every static
// datum of the module part defined once, in unit 0, and `extern` in the others; none of them
// static any more.
void expect_definitions_once(const std::string& source, const std::vector<std::string>& units) {
  const Census whole = census(source);
  std::vector<Census> parts;
  for (const std::string& unit : units) parts.push_back(census(unit));
  size_t functions = 0;
  for (const auto& [name, count] : whole.function_definitions) {
    if (!name.starts_with("w2c_wsf")) continue;
    ++functions;
    size_t defined = 0;
    for (size_t u = 0; u < units.size(); ++u) {
      defined += parts[u].function_definitions[name];
      EXPECT_EQ(parts[u].prototypes[name], 1u) << name << " in unit " << u;
      EXPECT_EQ(parts[u].static_lines[name], 0u) << name << " in unit " << u;
    }
    EXPECT_EQ(defined, 1u) << name;
  }
  EXPECT_GT(functions, 0u);
  EXPECT_GT(whole.data_definitions.count("s_module_initialized"), 0u);
  for (const auto& [name, count] : whole.data_definitions) {
    for (size_t u = 0; u < units.size(); ++u) {
      EXPECT_EQ(parts[u].data_definitions[name], u == 0 ? 1u : 0u) << name << " in unit " << u;
      EXPECT_EQ(parts[u].extern_data[name], u == 0 ? 0u : 1u) << name << " in unit " << u;
      EXPECT_EQ(parts[u].static_lines[name], 0u) << name << " in unit " << u;
    }
  }
}

TEST(SplitC, KernelsKeepEveryDefinitionOnce) {
  const Generated kernels =
      generate_file(testing::guest("kernels.wasm"), {.fuel = true, .interrupts = true});
  for (size_t parts : {2, 3, 5, 100}) {
    SCOPED_TRACE(parts);
    const auto units = split_translation_units(kernels.c, parts);
    // Fewer units than asked for only when a function is larger than a share.
    if (parts <= 3) {
      EXPECT_EQ(units.size(), parts);
    }
    EXPECT_GT(units.size(), 1u);
    EXPECT_LE(units.size(), std::min<size_t>(parts, kernels.info.function_count));
    for (const std::string& unit : units) EXPECT_FALSE(unit.empty());
    expect_definitions_once(kernels.c, units);
    EXPECT_NE(units[0].find("/* ---- wasm-sandbox glue ---- */"), std::string::npos);
    for (size_t u = 1; u < units.size(); ++u) {
      EXPECT_EQ(units[u].find("/* ---- wasm-sandbox glue ---- */"), std::string::npos);
      EXPECT_EQ(units[u].find("data_segment_data_w2c_d0[] = {"), std::string::npos);
    }
  }
}

size_t module_functions_defined(std::string_view unit) {
  size_t n = 0;
  for (const auto& [name, count] : census(unit).function_definitions) {
    if (name.starts_with("w2c_wsf")) n += count;
  }
  return n;
}

TEST(SplitC, BalancesUnitsByCompileCost) {
  const Generated kernels = generate_file(testing::guest("kernels.wasm"), {});
  const auto units = split_translation_units(kernels.c, 2);
  ASSERT_EQ(units.size(), 2u);
  // Few exports, so little glue: unit 1 holds about half of the functions' bytes.
  const size_t prefix = kernels.c.find("\nstatic bool s_module_initialized");
  const size_t glue = kernels.c.find("\n/* ---- wasm-sandbox glue ---- */");
  const size_t functions = glue - prefix;
  EXPECT_GT(units[1].size(), prefix + functions / 4);
  EXPECT_LT(units[1].size(), prefix + functions * 3 / 4);
}

// Every export costs unit 0 a wrapper and a glue entry, small functions that cost the compiler
// more than their bytes suggest: unit 0 takes fewer of the module's functions.
TEST(SplitC, GlueCountsInUnitZerosShare) {
  std::string wat = "(module";
  for (int i = 0; i < 200; ++i) {
    wat += " (func (export \"f" + std::to_string(i) +
           "\") (param i32) (result i32) (i32.add (local.get 0) (i32.const " + std::to_string(i) +
           ")))";
  }
  wat += ")";
  auto wasm = assemble_wat(wat, "exports.wat");
  ASSERT_TRUE(wasm.ok()) << wasm.error().message();
  const auto exports = generate(*wasm, "exports.wasm", {});
  ASSERT_TRUE(exports.has_value());
  const auto units = split_translation_units(exports->c, 2);
  ASSERT_EQ(units.size(), 2u);
  expect_definitions_once(exports->c, units);
  EXPECT_LT(module_functions_defined(units[0]), module_functions_defined(units[1]) / 2);
  EXPECT_EQ(module_functions_defined(units[0]) + module_functions_defined(units[1]), 200u);
}

TEST(SplitC, OneUnitWhenAskedForOneOrTooFewFunctions) {
  const Generated kernels = generate_file(testing::guest("kernels.wasm"), {});
  for (size_t parts : {0, 1}) {
    const auto units = split_translation_units(kernels.c, parts);
    ASSERT_EQ(units.size(), 1u);
    EXPECT_EQ(units[0], kernels.c);
  }
  auto wasm = assemble_wat("(module (func (export \"f\") (result i32) (i32.const 1)))", "one");
  ASSERT_TRUE(wasm.ok());
  const auto one = generate(*wasm, "one.wasm", {});
  ASSERT_TRUE(one.has_value());
  const auto units = split_translation_units(one->c, 4);
  ASSERT_EQ(units.size(), 1u);
  EXPECT_EQ(units[0], one->c);
}

// A source of a shape the splitter does not know is returned whole, not split wrongly.
TEST(SplitC, UnknownShapeStaysOneUnit) {
  const Generated kernels = generate_file(testing::guest("kernels.wasm"), {});
  ASSERT_GT(split_translation_units(kernels.c, 2).size(), 1u);
  auto replaced = [&](std::string_view from, std::string_view to) {
    std::string c = kernels.c;
    const size_t at = c.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) c.replace(at, from.size(), to);
    return c;
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      // The markers the split is anchored on.
      {"no glue marker", replaced("/* ---- wasm-sandbox glue ---- */", "/* glue */")},
      {"no module start", replaced("static bool s_module_initialized", "static _Bool s_init")},
      // Constructs the module part is not known to hold.
      {"a directive", replaced("static u32 func_types[", "#define X 1\nstatic u32 func_types[")},
      {"an indented line", replaced("static u32 func_types[", "  int x;\nstatic u32 func_types[")},
      {"non-static data", replaced("static u32 func_types[", "u32 func_types[")},
      {"a struct",
       replaced("static u32 func_types[", "static struct { int a; } s;\nstatic u32 func_types[")},
      {"an unterminated function",
       replaced("}\n\n/* ---- wasm-sandbox glue", "\n/* ---- wasm-sandbox glue")},
      // Static data the prefix, which every unit repeats, would duplicate.
      {"static data in the prefix",
       replaced("#define UNREACHABLE", "static int counter;\n#define UNREACHABLE")},
      // A module function using init code that stays in unit 0.
      {"a call of init code",
       replaced("  FUNC_PROLOGUE;\n", "  FUNC_PROLOGUE;\n  init_globals(instance);\n")},
  };
  for (const auto& [what, source] : cases) {
    const auto units = split_translation_units(source, 3);
    ASSERT_EQ(units.size(), 1u) << what;
    EXPECT_EQ(units[0], source) << what;
  }
}

TEST(SplitC, UnitsForSizeAndCores) {
  EXPECT_EQ(translation_units_for(0, 8), 1u);
  EXPECT_EQ(translation_units_for(2 * kMinCBytesPerUnit - 1, 8), 1u);
  EXPECT_EQ(translation_units_for(100 * kMinCBytesPerUnit, 1), 1u);
  EXPECT_EQ(translation_units_for(100 * kMinCBytesPerUnit, 0), 1u);
  EXPECT_EQ(translation_units_for(2 * kMinCBytesPerUnit, 8), 2u);
  EXPECT_EQ(translation_units_for(5 * kMinCBytesPerUnit, 4), 4u);
  EXPECT_EQ(translation_units_for(5 * kMinCBytesPerUnit + 1, 8), 5u);
  EXPECT_EQ(translation_units_for(size_t{1} << 40, 1000), kMaxTranslationUnits);
}

// ---- the split code runs --------------------------------------------------------------------

class SplitKernels : public ::testing::TestWithParam<size_t> {};

TEST_P(SplitKernels, ComputeWhatNativeCodeDoes) {
  const Generated kernels =
      generate_file(testing::guest("kernels.wasm"), {.fuel = true, .interrupts = true});
  const auto units = split_translation_units(kernels.c, GetParam());
  ASSERT_EQ(units.size(), GetParam());
  const auto code = compile(units, "kernels.wasm");
  ASSERT_NE(code, nullptr);
  GlueInstance instance(*code, int64_t{1} << 50);
  ASSERT_EQ(instance.instantiated(), TrapKind::None);
  auto call = [&](const char* name, int32_t n) {
    for (size_t k = 0; k < kernels.info.exports.size(); ++k) {
      if (kernels.info.exports[k].name != name) continue;
      ws_val io[1];
      io[0].i32 = static_cast<uint32_t>(n);
      EXPECT_EQ(instance.call(k, io), TrapKind::None) << name;
      return io[0];
    }
    ADD_FAILURE() << "no export " << name;
    return ws_val{};
  };
  EXPECT_EQ(static_cast<int32_t>(call("run_fib", 20).i32), run_fib(20));
  EXPECT_EQ(call("run_lcg", 100'000).i64, run_lcg(100'000));
  EXPECT_EQ(static_cast<int32_t>(call("run_sieve", 100'000).i32), run_sieve(100'000));
  EXPECT_EQ(call("run_matmul", 24).f64, run_matmul(24));
  EXPECT_EQ(call("run_crc32", 100'000).i32, run_crc32(100'000));
  EXPECT_EQ(static_cast<int32_t>(call("run_sort", 10'000).i32), run_sort(10'000));
  EXPECT_EQ(call("run_compress", 20'000).i32, run_compress(20'000));
  EXPECT_EQ(call("run_parse", 2'000).i32, run_parse(2'000));
  EXPECT_EQ(static_cast<int32_t>(call("run_interp", 10'000).i32), run_interp(10'000));
  EXPECT_EQ(static_cast<int32_t>(call("run_edit_distance", 300).i32), run_edit_distance(300));
  EXPECT_EQ(call("run_bfs", 100).i32, run_bfs(100));
  EXPECT_EQ(call("run_nbody", 1'000).f64, run_nbody(1'000));
}

INSTANTIATE_TEST_SUITE_P(Units, SplitKernels, ::testing::Values(1, 2, 3),
                         [](const auto& info) { return std::to_string(info.param) + "Units"; });

// Regression: wasm2c wraps the signature of a definition with many parameters over several
// lines, which the splitter once took for an unknown shape (spec call.wast, func.wast).
TEST(SplitC, WrappedSignatureMoves) {
  std::string params, args;
  for (int i = 0; i < 30; ++i) {
    params += "(param i64) ";
    args += "(i64.add (local.get 0) (i64.const " + std::to_string(i) + ")) ";
  }
  const std::string wat = "(module (func $wide " + params +
                          "(result i64) (i64.add (local.get 0) (i64.mul (local.get 29) "
                          "(local.get 15))))\n"
                          "(func (export \"call_wide\") (param i64) (result i64) (call $wide " +
                          args +
                          "))\n"
                          "(func (export \"twice\") (param i64) (result i64) "
                          "(i64.mul (local.get 0) (i64.const 2))))";
  auto wasm = assemble_wat(wat, "wide.wat");
  ASSERT_TRUE(wasm.ok()) << wasm.error().message();
  const auto wide = generate(*wasm, "wide.wasm", {});
  ASSERT_TRUE(wide.has_value());
  ASSERT_NE(wide->c.find("w2c_wsf0(Z_m_instance_t* instance, u64 w2c_p0, u64 w2c_p1"),
            std::string::npos);
  // The wide function's definition is the largest: alone in unit 0 or 1.
  const auto units = split_translation_units(wide->c, 2);
  ASSERT_EQ(units.size(), 2u);
  expect_definitions_once(wide->c, units);
  const auto code = compile(units, "wide.wasm");
  ASSERT_NE(code, nullptr);
  GlueInstance instance(*code, 0);
  ASSERT_EQ(instance.instantiated(), TrapKind::None);
  ws_val io[1];
  io[0].i64 = 5;
  ASSERT_EQ(instance.call(0, io), TrapKind::None);
  EXPECT_EQ(io[0].i64, 5u + 34u * 20u);
  io[0].i64 = 21;
  ASSERT_EQ(instance.call(1, io), TrapKind::None);
  EXPECT_EQ(io[0].i64, 42u);
}

bool numeric(ValType t) { return t != ValType::FuncRef && t != ValType::ExternRef; }

// What calling every numeric export with a few argument sets gives, in order: trap kinds,
// results (NaNs as one value: the split need not keep NaN payloads gcc folds), and the bytes
// of every exported memory at the end.
std::vector<std::string> observe(const Generated& module, const NativeCode& code) {
  std::vector<std::string> seen;
  GlueInstance instance(code, 20'000'000);
  seen.push_back(std::string("instantiate: ") + to_string(instance.instantiated()));
  if (instance.instantiated() != TrapKind::None) return seen;
  const uint64_t patterns[] = {0, 1, 2, 3, 7, 0xffffffffffffffffull, 0x80000000ull, 1000};
  for (size_t k = 0; k < module.info.exports.size(); ++k) {
    const ExportDesc& exp = module.info.exports[k];
    if (exp.type.kind != ExternKind::Func) continue;
    const FuncType& f = exp.type.func;
    bool all_numeric = true;
    for (ValType t : f.params) all_numeric &= numeric(t);
    for (ValType t : f.results) all_numeric &= numeric(t);
    if (!all_numeric) continue;
    for (size_t p = 0; p < std::size(patterns); ++p) {
      std::vector<ws_val> io(std::max<size_t>(1, std::max(f.params.size(), f.results.size())));
      for (size_t i = 0; i < f.params.size(); ++i) {
        const uint64_t bits = patterns[(p + i) % std::size(patterns)];
        switch (f.params[i]) {
          case ValType::I32:
            io[i].i32 = static_cast<uint32_t>(bits);
            break;
          case ValType::I64:
            io[i].i64 = bits;
            break;
          case ValType::F32:
            io[i].f32 = static_cast<float>(static_cast<int64_t>(bits)) * 0.5f;
            break;
          default:
            io[i].f64 = static_cast<double>(static_cast<int64_t>(bits)) * 0.25;
            break;
        }
      }
      const TrapKind trap = instance.call(k, io.data());
      std::string line = exp.name + "#" + std::to_string(p) + ": " + to_string(trap);
      for (size_t i = 0; trap == TrapKind::None && i < f.results.size(); ++i) {
        switch (f.results[i]) {
          case ValType::I32:
            line += " " + std::to_string(io[i].i32);
            break;
          case ValType::I64:
            line += " " + std::to_string(io[i].i64);
            break;
          case ValType::F32:
            line += std::isnan(io[i].f32) ? " nan" : " " + std::to_string(io[i].f32);
            break;
          default:
            line += std::isnan(io[i].f64) ? " nan" : " " + std::to_string(io[i].f64);
            break;
        }
      }
      seen.push_back(std::move(line));
      if (f.params.empty()) break;
    }
  }
  for (size_t k = 0; k < module.info.exports.size(); ++k) {
    if (module.info.exports[k].type.kind != ExternKind::Memory) continue;
    const wasm_rt_memory_t* memory = instance.memory(k);
    seen.push_back("memory " + module.info.exports[k].name + ": " + std::to_string(memory->size) +
                   " bytes, hash " +
                   std::to_string(std::hash<std::string_view>()(std::string_view(
                       reinterpret_cast<const char*>(memory->data), memory->size))));
  }
  return seen;
}

// The modules of a spec script that define at least two functions and import nothing (the
// glue alone drives them), at most `limit` of them, as C metered with fuel.
std::vector<Generated> spec_modules(const std::string& script, size_t limit) {
  std::vector<Generated> out;
  const fs::path wast = fs::path(SPEC_DIR) / (script + ".wast");
  if (!fs::exists(wast)) return out;
  const fs::path dir =
      fs::path(::testing::TempDir()) / ("split_c_" + script + "_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string command = "wast2json '" + wast.string() + "' -o '" +
                              (dir / (script + ".json")).string() + "' > /dev/null 2>&1";
  if (std::system(command.c_str()) != 0) {
    ADD_FAILURE() << "wast2json failed on " << wast;
    return out;
  }
  // wast2json names the modules <script>.<index>.wasm.
  std::vector<std::pair<size_t, fs::path>> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string file = entry.path().filename().string();
    if (entry.path().extension() != ".wasm" || !file.starts_with(script + ".")) continue;
    files.emplace_back(std::strtoul(file.c_str() + script.size() + 1, nullptr, 10), entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& [index, wasm] : files) {
    if (out.size() == limit) break;
    const std::string bytes = wasm_sandbox::testing::read_file(wasm);
    auto generated = generate({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
                              wasm.filename().string(), {.fuel = true, .interrupts = true});
    if (!generated || !generated->info.imports.empty() || generated->info.function_count < 2) {
      continue;
    }
    out.push_back(std::move(*generated));
  }
  fs::remove_all(dir);
  return out;
}

// Spec modules with call_indirect, tables and element segments (active, passive, table.init,
// elem.drop), memories and data segments (memory.init, data.drop), globals, start functions
// and multiple results: the split code observes the same as the one unit.
class SplitSpec : public ::testing::TestWithParam<const char*> {};

TEST_P(SplitSpec, BehavesAsOneUnit) {
  const std::vector<Generated> modules = spec_modules(GetParam(), 3);
  if (modules.empty()) GTEST_SKIP() << "no usable module in " << GetParam() << ".wast";
  size_t observations = 0;
  for (const Generated& module : modules) {
    SCOPED_TRACE(module.info.name);
    const auto whole = compile({module.c}, module.info.name);
    ASSERT_NE(whole, nullptr);
    const std::vector<std::string> expected = observe(module, *whole);
    observations += expected.size();
    for (size_t parts : {2, 3}) {
      SCOPED_TRACE(parts);
      const auto units = split_translation_units(module.c, parts);
      ASSERT_EQ(units.size(), std::min(parts, module.info.function_count));
      expect_definitions_once(module.c, units);
      const auto split = compile(units, module.info.name);
      ASSERT_NE(split, nullptr);
      EXPECT_EQ(observe(module, *split), expected);
    }
  }
  EXPECT_GT(observations, modules.size()) << "no module had a call to observe";
}

INSTANTIATE_TEST_SUITE_P(Scripts, SplitSpec,
                         ::testing::Values("call_indirect", "bulk", "memory_init", "table_init",
                                           "elem", "func_ptrs", "left-to-right", "start"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) c = std::isalnum(c) ? c : '_';
                           return name;
                         });

// The 1 MB guest (built by `make bench`, target large_guest): the split is linear and fast.
TEST(SplitC, LargeModuleSplitsQuickly) {
  const std::string path = testing::guest("large.wasm");
  if (!fs::exists(path)) GTEST_SKIP() << path << " is built by the large_guest target";
  const Generated large = generate_file(path, {.fuel = true, .interrupts = true});
  const auto began = std::chrono::steady_clock::now();
  const auto units = split_translation_units(large.c, 4);
  const auto spent = std::chrono::steady_clock::now() - began;
  ASSERT_EQ(units.size(), 4u);
  EXPECT_LT(spent, std::chrono::seconds(1));
  size_t total = 0;
  for (const std::string& unit : units) total += unit.size();
  EXPECT_LT(total, large.c.size() * 5 / 4);  // the declarations repeated are a small part
  expect_definitions_once(large.c, units);
}

}  // namespace
}  // namespace wasm_sandbox::engine
