// Textual fixes to wasm2c's output: see c_patches.h.
#include "engine/c_patches.h"

#include <cctype>
#include <string_view>
#include <vector>

namespace wasm_sandbox::engine {
namespace {

// If `line` is `<indent><var> = <rhs>;` returns <var>, else an empty view.
std::string_view assigned(std::string_view line, std::string_view rhs) {
  const size_t start = line.find_first_not_of(' ');
  if (start == std::string_view::npos) return {};
  line.remove_prefix(start);
  const size_t eq = line.find(" = ");
  if (eq == std::string_view::npos || line.size() != eq + 3 + rhs.size() + 1 ||
      line.back() != ';' || line.compare(eq + 3, rhs.size(), rhs) != 0) {
    return {};
  }
  return line.substr(0, eq);
}

// If `line` is `<indent><var> = <digits>ull;` returns the digits.
std::string_view u64_constant(std::string_view line, std::string_view* var) {
  const size_t start = line.find_first_not_of(' ');
  if (start == std::string_view::npos) return {};
  line.remove_prefix(start);
  const size_t eq = line.find(" = ");
  if (eq == std::string_view::npos || !line.ends_with("ull;")) return {};
  std::string_view digits = line.substr(eq + 3, line.size() - eq - 3 - 4);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) return {};
  *var = line.substr(0, eq);
  return digits;
}

bool is(std::string_view line, const std::string& statement) {
  const size_t start = line.find_first_not_of(' ');
  return start != std::string_view::npos && line.substr(start) == statement;
}

std::string_view indent_of(std::string_view line) {
  return line.substr(0, line.find_first_not_of(' '));
}

constexpr std::string_view kFuel = "instance->w2c_wsfuel";
constexpr std::string_view kFlag = "instance->w2c_wsflag";
constexpr std::string_view kFlagVolatile = "*(volatile u32*)&instance->w2c_wsflag";

// Tries the patterns at lines[i]; on a match appends the replacement to `out` and returns the
// number of lines consumed, else 0.
size_t tighten_at(const std::vector<std::string_view>& lines, size_t i, std::string& out) {
  // Every pattern starts with a read of one of the two globals; most lines are not that.
  if (lines[i].find("instance->w2c_ws") == std::string_view::npos) return 0;
  auto line = [&](size_t k) { return i + k < lines.size() ? lines[i + k] : std::string_view(); };
  const std::string_view indent = indent_of(line(0));
  std::string_view a = assigned(line(0), kFuel);
  if (a.empty()) return 0;
  std::string_view b;
  const std::string_view n = u64_constant(line(1), &b);
  if (n.empty()) return 0;
  // fuel -= n
  if (is(line(2), std::string(a) + " -= " + std::string(b) + ";") &&
      is(line(3), std::string(kFuel) + " = " + std::string(a) + ";")) {
    out.append(indent).append(kFuel).append(" -= ").append(n).append("ull;\n");
    return 4;
  }
  // if (fuel < 0 [| flag]) {
  if (n != "0") return 0;
  std::string_view c =
      assigned(line(2), "(u64)((s64)" + std::string(a) + " < (s64)" + std::string(b) + ")");
  if (c.empty()) return 0;
  const std::string test = "((s64)" + std::string(kFuel) + " < 0)";
  if (is(line(3), "if (" + std::string(c) + ") {")) {
    out.append(indent).append("if (WS_UNLIKELY(").append(test).append(")) {\n");
    return 4;
  }
  std::string_view d = assigned(line(3), kFlag);
  if (!d.empty() && is(line(4), std::string(c) + " |= " + std::string(d) + ";") &&
      is(line(5), "if (" + std::string(c) + ") {")) {
    out.append(indent).append("if (WS_UNLIKELY(").append(test).append(" | ");
    out.append(kFlagVolatile).append(")) {\n");
    return 6;
  }
  return 0;
}

}  // namespace

// wasm2c writes f32.neg as `w2c_fN = -(w2c_fN);` and f64.neg with w2c_dN; we route both
// through the bit flip in the prelude.
void patch_float_negation(std::string& body) {
  size_t at = 0;
  while ((at = body.find(" = -(w2c_", at)) != std::string::npos) {
    const size_t var_start = body.rfind(' ', at - 1) + 1;
    const std::string var = body.substr(var_start, at - var_start);
    const std::string tail = " = -(" + var + ");";
    if ((var.rfind("w2c_f", 0) == 0 || var.rfind("w2c_d", 0) == 0) &&
        body.compare(at, tail.size(), tail) == 0) {
      const std::string repl =
          " = " + std::string(var[4] == 'f' ? "ws_fneg32(" : "ws_fneg64(") + var + ");";
      body.replace(at, tail.size(), repl);
      at += repl.size();
    } else {
      at += 4;
    }
  }
}

void tighten_instrumentation(std::string& body) {
  if (body.find("w2c_wsfuel") == std::string::npos &&
      body.find("w2c_wsflag") == std::string::npos) {
    return;
  }
  std::vector<std::string_view> lines;
  for (size_t start = 0; start < body.size();) {
    size_t end = body.find('\n', start);
    if (end == std::string::npos) end = body.size();
    lines.emplace_back(body.data() + start, end - start);
    start = end + 1;
  }
  std::string out;
  out.reserve(body.size());
  for (size_t i = 0; i < lines.size();) {
    if (size_t used = tighten_at(lines, i, out)) {
      i += used;
      continue;
    }
    out.append(lines[i]).push_back('\n');
    ++i;
  }
  body = std::move(out);
}

namespace {

bool starts_with_digit_at(std::string_view line, size_t at) {
  return at < line.size() && line[at] >= '0' && line[at] <= '9';
}

// Whether the text contains `prefix` followed by a digit.
bool has_numbered(std::string_view line, std::string_view prefix) {
  for (size_t at = line.find(prefix); at != std::string_view::npos;
       at = line.find(prefix, at + 1)) {
    if (starts_with_digit_at(line, at + prefix.size())) return true;
  }
  return false;
}

// Whether a statement may call out of the function (and so move a memory).
bool calls(std::string_view line) {
  return has_numbered(line, "w2c_wsf") || has_numbered(line, "Z_iZ_f") ||
         line.find("CALL_INDIRECT(") != std::string_view::npos ||
         line.find("wasm_rt_grow_memory(") != std::string_view::npos;
}

// Whether `name` (the identifier before an argument list) is one of wasm2c's loads or stores:
// [if](32|64)_(load|store)...
bool is_access(std::string_view name) {
  return name.size() >= 8 && (name[0] == 'i' || name[0] == 'f') &&
         (name.substr(1, 3) == "32_" || name.substr(1, 3) == "64_") &&
         (name.substr(4, 4) == "load" || name.substr(4, 5) == "store");
}

struct CachedMemory {
  std::string argument;     // "(&instance->w2c_wsm0, "
  std::string replacement;  // "(ws_m0, ", or "(ws_m0, ws_n0, " with explicit bounds checks
  std::string declaration;  // "  u8* ws_m0 = instance->w2c_wsm0.data;" (+ " u64 ws_n0 = ...")
  std::string reload;       // "ws_m0 = instance->w2c_wsm0.data;" (+ " ws_n0 = ...")
};

// Rewrites the accesses to `memory` in `line`; returns whether there were any.
bool rewrite_accesses(std::string& line, const CachedMemory& memory) {
  bool any = false;
  for (size_t at = line.find(memory.argument); at != std::string::npos;
       at = line.find(memory.argument, at + 1)) {
    size_t name_start = at;
    while (name_start > 0 && (std::isalnum(static_cast<unsigned char>(line[name_start - 1])) ||
                              line[name_start - 1] == '_')) {
      --name_start;
    }
    if (!is_access(std::string_view(line).substr(name_start, at - name_start))) continue;
    line.replace(at, memory.argument.size(), memory.replacement);
    line.insert(name_start, "ws_");
    any = true;
  }
  return any;
}

// One function's lines, from its opening line to its closing brace. Returns false, leaving
// them as they were, when a calling statement does not end its line.
bool cache_in_function(std::vector<std::string>& lines, const std::vector<CachedMemory>& all) {
  std::vector<std::string> out;
  std::vector<const CachedMemory*> used;
  for (const CachedMemory& memory : all) {
    bool any = false;
    for (size_t i = 1; i < lines.size(); ++i) any |= rewrite_accesses(lines[i], memory);
    if (any) used.push_back(&memory);
  }
  if (used.empty()) return true;
  out.reserve(lines.size() + used.size());
  out.push_back(lines[0]);
  for (const CachedMemory* memory : used) out.push_back(memory->declaration);
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string& line = lines[i];
    if (calls(line)) {
      const size_t end = line.find_last_not_of(' ');
      if (end == std::string::npos || line[end] != ';') return false;
      for (const CachedMemory* memory : used) line += " " + memory->reload;
    }
    out.push_back(std::move(line));
  }
  lines = std::move(out);
  return true;
}

bool opens_function(std::string_view line) {
  return line.starts_with("static ") && has_numbered(line, " w2c_wsf") && line.ends_with(") {");
}

}  // namespace

void cache_memory_bases(std::string& body, const std::vector<bool>& imported,
                        bool explicit_bounds) {
  if (imported.empty()) return;
  std::vector<CachedMemory> memories;
  for (size_t i = 0; i < imported.size(); ++i) {
    const std::string field = "instance->w2c_wsm" + std::to_string(i);
    const std::string member = imported[i] ? "->" : ".";
    const std::string base = "ws_m" + std::to_string(i);
    const std::string size = "ws_n" + std::to_string(i);
    CachedMemory memory;
    memory.argument = imported[i] ? "(" + field + ", " : "(&" + field + ", ";
    memory.replacement = "(" + base + ", ";
    memory.declaration = "  u8* " + base + " = " + field + member + "data;";
    memory.reload = base + " = " + field + member + "data;";
    if (explicit_bounds) {
      memory.replacement += size + ", ";
      memory.declaration += " u64 " + size + " = " + field + member + "size;";
      memory.reload += " " + size + " = " + field + member + "size;";
    }
    memories.push_back(std::move(memory));
  }
  std::string out;
  out.reserve(body.size() + body.size() / 8);
  std::vector<std::string> function;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string::npos) end = body.size();
    std::string_view line(body.data() + start, end - start);
    start = end + 1;
    if (function.empty() && !opens_function(line)) {
      out.append(line).push_back('\n');
      continue;
    }
    function.emplace_back(line);
    if (line != "}") continue;
    std::vector<std::string> original = function;
    if (!cache_in_function(function, memories)) function = std::move(original);
    for (const std::string& l : function) out.append(l).push_back('\n');
    function.clear();
  }
  for (const std::string& l : function) out.append(l).push_back('\n');
  if (!body.ends_with('\n') && !out.empty()) out.pop_back();
  body = std::move(out);
}

void skip_imaged_data(std::string& body) {
  constexpr std::string_view kFunction = "static void init_memories(";
  constexpr std::string_view kLoad = "\n  LOAD_DATA(instance->w2c_wsm";
  const size_t begin = body.find(kFunction);
  if (begin == std::string::npos) return;
  size_t end = body.find("\n}\n", begin);
  if (end == std::string::npos) return;
  for (size_t at = body.find(kLoad, begin); at != std::string::npos && at < end;
       at = body.find(kLoad, at + 1)) {
    const size_t name = at + std::string_view("\n  LOAD_DATA(").size();
    const size_t comma = body.find(',', name);
    if (comma == std::string::npos || comma > end) return;
    const std::string guard = "if (!WS_MEMORY_IMAGED(" + body.substr(name, comma - name) + ")) ";
    body.insert(at + 3, guard);
    end += guard.size();
  }
}

}  // namespace wasm_sandbox::engine
