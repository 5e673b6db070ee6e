// Splitting generated C into translation units: see split_c.h.
//
// What it relies on, checked on every input (anything else gives up, returning one unit):
// the source is generate_c()'s prelude, wasm2c's header and fixed helper code (macros, typedefs,
// static and static inline functions, no data), then the module part, which starts at
// `static bool s_module_initialized` and ends at our glue marker, then the glue. The module part
// is a sequence of top-level items, each starting at column 0:
//   static data:          `static T name...;` or `static T name[] = {` ... `};`
//   function definitions: `... name(...) {` ... `}` (every line of the body is indented; a
//                         long signature continues on indented lines up to the one ending `{`)
//   prototypes:           `... name(...);`
//   one-line comments and blank lines.
// The module's functions are the static definitions of `w2c_wsfI` (generate_c() names them
// so). All of them can move to another unit: their addresses are taken anyway (the glue's
// function table), so external linkage costs no optimization, and whatever they use is
// declared before the first of them, in the prefix or as an item of the module part.
//
// The input is the largest string the engine handles (16 MB of C for a 1 MB module), so every
// step is a single pass over it with memchr-speed searches; no regular expressions.
#include "engine/split_c.h"

#include <algorithm>
#include <string_view>

namespace wasm_sandbox::engine {
namespace {

constexpr std::string_view kModuleStart = "\nstatic bool s_module_initialized";
constexpr std::string_view kGlueMarker = "\n/* ---- wasm-sandbox glue ---- */\n";
constexpr std::string_view kStatic = "static ";
constexpr std::string_view kModuleFunction = "w2c_wsf";

// The compile-cost model the units are balanced by, fitted to gcc 12 -O2 on large.wasm's C
// (split_c.h): about 3 s per MB of function code, plus about 1.2 ms per function however
// small (its 10,000 export wrappers and glue entries alone take 18 s), while a data
// initializer parses about 16 times faster than code. Costs are in bytes of function code.
constexpr size_t kCostPerFunction = 400;
constexpr size_t kDataCostDivisor = 16;

enum class Kind {
  kUnit0,       // unit 0 only, as it is: init code, export wrappers, comments, blank lines
  kShared,      // every unit, as it is: other prototypes, static inline functions
  kPrototype,   // a module function's prototype: every unit, without `static`
  kFunction,    // a module function's definition: one unit, without `static`
  kStaticData,  // defined in unit 0 without `static`, declared `extern` in the others
};

struct Item {
  Kind kind;
  std::string_view text;        // whole lines, the last newline included
  std::string_view declarator;  // kStaticData: `static T name[N]`, without any initializer
  bool definition = false;      // of a function
};

struct ModulePart {
  std::vector<Item> items;
  // The static functions that stay in unit 0 (the init code): no module function may use one.
  std::vector<std::string_view> unit0_statics;
};

// The line starting at `pos` in `text`, without its newline.
std::string_view line_at(std::string_view text, size_t pos) {
  const size_t end = text.find('\n', pos);
  return text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
}

// The offset just past the first line equal to `closer` that starts at or after `pos` (which
// starts a line), or npos.
size_t past_closing_line(std::string_view text, size_t pos, std::string_view closer) {
  const std::string needle = "\n" + std::string(closer) + "\n";
  const size_t at = text.find(needle, pos - 1);
  return at == std::string_view::npos ? std::string_view::npos : at + needle.size();
}

bool is_identifier_char(char c) {
  return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// True if `declarator` declares a function: an identifier right before its first '(' (a
// pointer to a function, `T (*name)(...)`, is data).
bool declares_function(std::string_view declarator) {
  const size_t paren = declarator.find('(');
  return paren != std::string_view::npos && paren > 0 && is_identifier_char(declarator[paren - 1]);
}

// The identifier a function declarator declares. REQUIRES: declares_function(declarator).
std::string_view function_name(std::string_view declarator) {
  const size_t paren = declarator.find('(');
  size_t start = paren;
  while (start > 0 && is_identifier_char(declarator[start - 1])) --start;
  return declarator.substr(start, paren - start);
}

bool is_module_function(std::string_view name) {
  if (!name.starts_with(kModuleFunction) || name.size() == kModuleFunction.size()) return false;
  name.remove_prefix(kModuleFunction.size());
  return name.find_first_not_of("0123456789") == std::string_view::npos;
}

// Splits the module part into items; false if a line has a shape the header comment does not
// list.
bool parse_module_part(std::string_view part, ModulePart& out) {
  size_t pos = 0;
  while (pos < part.size()) {
    const std::string_view line = line_at(part, pos);
    const size_t line_end = std::min(part.size(), pos + line.size() + 1);
    if (line.empty() || (line.starts_with("/*") && line.ends_with("*/"))) {
      out.items.push_back({Kind::kUnit0, part.substr(pos, line_end - pos), {}});
      pos = line_end;
      continue;
    }
    if (!is_identifier_char(line[0])) return false;  // indented, a directive, a stray brace
    // wasm2c wraps a long parameter list of a definition: the first line names the function,
    // the indented continuation lines end with the one that ends the signature.
    std::string_view last = line;
    size_t header_end = line_end;
    if (line.find_first_of("=;{") == std::string_view::npos) {
      if (!declares_function(line)) return false;
      do {
        if (header_end >= part.size()) return false;
        last = line_at(part, header_end);
        if (!last.starts_with(' ')) return false;
        header_end = std::min(part.size(), header_end + last.size() + 1);
      } while (!last.ends_with("{") && !last.ends_with(";"));
    }
    const size_t declarator_end = std::min(line.size(), line.find_first_of("=;{"));
    const std::string_view declarator = line.substr(0, declarator_end);
    const bool is_static = line.starts_with(kStatic);
    Item item{Kind::kUnit0, {}, {}};
    size_t end;
    if (declares_function(declarator)) {
      const bool module_function = is_static && is_module_function(function_name(declarator));
      if (last.ends_with(");")) {
        end = header_end;
        item.kind = module_function ? Kind::kPrototype : Kind::kShared;
      } else if (last.ends_with("{")) {
        end = past_closing_line(part, header_end, "}");
        item.definition = true;
        if (module_function) {
          item.kind = Kind::kFunction;
        } else if (line.starts_with("static inline ")) {
          item.kind = Kind::kShared;
        } else if (is_static) {
          out.unit0_statics.push_back(function_name(declarator));
        }
      } else {
        return false;
      }
    } else {
      // Static data; its initializer, if any, after `=` (a `{` first would be a struct type).
      if (!is_static || line[declarator_end] == '{') return false;
      if (line.ends_with(";")) {
        end = line_end;
      } else if (line.ends_with("{")) {
        end = past_closing_line(part, line_end, "};");
      } else {
        return false;
      }
      item.kind = Kind::kStaticData;
      item.declarator = declarator.substr(0, declarator.find_last_not_of(' ') + 1);
    }
    if (end == std::string_view::npos) return false;
    item.text = part.substr(pos, end - pos);
    out.items.push_back(item);
    pos = end;
  }
  return true;
}

// True if the text before the module part defines no static data: every unit repeats it, so
// it must hold declarations and functions only.
bool prefix_has_no_static_data(std::string_view prefix) {
  size_t pos = 0;
  bool continued = false;  // the previous line ended with a backslash: a macro's body
  while (pos < prefix.size()) {
    const std::string_view line = line_at(prefix, pos);
    if (!continued && line.starts_with(kStatic) &&
        !declares_function(line.substr(0, line.find_first_of("=;{")))) {
      return false;
    }
    continued = line.ends_with('\\');
    pos += line.size() + 1;
  }
  return true;
}

// True if no module function mentions a static function that stays in unit 0. The functions
// are contiguous in practice, so this searches the run from the first to the last of them.
bool functions_avoid(const std::vector<const Item*>& functions,
                     const std::vector<std::string_view>& names) {
  const char* begin = functions.front()->text.data();
  const char* end = functions.back()->text.data() + functions.back()->text.size();
  const std::string_view run(begin, static_cast<size_t>(end - begin));
  for (std::string_view name : names) {
    if (run.find(name) != std::string_view::npos) return false;
  }
  return true;
}

void append_without_static(std::string& out, std::string_view text) {
  out.append(text.substr(kStatic.size()));
}

// What compiling an item costs gcc -O2 in unit 0 or another unit, in bytes of function code
// (kCostPerFunction).
size_t cost(const Item& item) {
  switch (item.kind) {
    case Kind::kFunction:
      return item.text.size() + kCostPerFunction;
    case Kind::kStaticData:
      return item.text.size() / kDataCostDivisor;
    case Kind::kUnit0:
      return item.text.size() + (item.definition ? kCostPerFunction : 0);
    case Kind::kShared:
    case Kind::kPrototype:
      break;  // the same in every unit
  }
  return 0;
}

// The glue: mostly small functions (an entry per export, an adapter per import), each ending
// with a `}` line.
size_t glue_cost(std::string_view glue) {
  size_t functions = 0;
  for (size_t at = glue.find("\n}\n"); at != std::string_view::npos;
       at = glue.find("\n}\n", at + 2)) {
    ++functions;
  }
  return glue.size() + functions * kCostPerFunction;
}

// Assigns each module function, in order, to one of `parts` units so that the cost of each
// unit is as even as contiguous runs allow (neighbours tend to call each other, and only
// calls within a unit can be inlined). Unit 0 starts with `fixed`, the cost of everything
// else it holds, and takes the first functions; a function goes to the unit in whose share of
// the total its midpoint falls. When `fixed` alone exceeds a share, unit 0 takes no function
// and the others share them.
std::vector<size_t> assign_units(const std::vector<const Item*>& functions, size_t parts,
                                 size_t fixed) {
  size_t total = 0;
  for (const Item* f : functions) total += cost(*f);
  size_t first = 0;  // the first unit that takes functions
  if (fixed * parts >= fixed + total) {
    first = 1;
    fixed = 0;
  }
  const size_t shares = parts - first;
  std::vector<size_t> unit(functions.size());
  size_t before = fixed;
  for (size_t i = 0; i < functions.size(); ++i) {
    const size_t size = cost(*functions[i]);
    const double midpoint =
        static_cast<double>(before + size / 2) / static_cast<double>(fixed + total);
    unit[i] =
        first + std::min(shares - 1, static_cast<size_t>(midpoint * static_cast<double>(shares)));
    before += size;
  }
  return unit;
}

}  // namespace

size_t translation_units_for(size_t c_bytes, unsigned cores) {
  if (c_bytes < 2 * kMinCBytesPerUnit || cores < 2) return 1;
  return std::min({size_t{cores}, c_bytes / kMinCBytesPerUnit, kMaxTranslationUnits});
}

std::vector<std::string> split_translation_units(const std::string& source, size_t parts) {
  if (parts <= 1) return {source};
  const std::string_view text = source;
  const size_t module_at = text.find(kModuleStart);
  if (module_at == std::string_view::npos) return {source};
  const size_t glue_at = text.find(kGlueMarker, module_at);
  if (glue_at == std::string_view::npos) return {source};
  // prefix + part + glue == source; each starts at the beginning of a line.
  const std::string_view prefix = text.substr(0, module_at + 1);
  const std::string_view part = text.substr(module_at + 1, glue_at - module_at);
  const std::string_view glue = text.substr(glue_at + 1);
  if (!prefix_has_no_static_data(prefix)) return {source};
  ModulePart module;
  if (!parse_module_part(part, module)) return {source};
  std::vector<const Item*> functions;
  for (const Item& item : module.items) {
    if (item.kind == Kind::kFunction) functions.push_back(&item);
  }
  parts = std::min(parts, functions.size());
  if (parts <= 1 || !functions_avoid(functions, module.unit0_statics)) return {source};

  // A unit that got no function (a neighbour's function was larger than a share, or unit 0's
  // other content was) is dropped, but for unit 0.
  size_t fixed = glue_cost(glue);
  for (const Item& item : module.items) {
    if (item.kind != Kind::kFunction) fixed += cost(item);
  }
  const std::vector<size_t> unit_of = assign_units(functions, parts, fixed);
  std::vector<bool> used(parts, false);
  used[0] = true;
  for (size_t u : unit_of) used[u] = true;
  std::vector<size_t> renumber(parts, 0);
  size_t units = 0;
  for (size_t u = 0; u < parts; ++u) {
    if (used[u]) renumber[u] = units++;
  }
  if (units <= 1) return {source};

  // What units 1..n-1 need of the module part, in its order: declarations only.
  std::string declarations = "\n/* ---- the module's declarations (split_c) ---- */\n";
  for (const Item& item : module.items) {
    switch (item.kind) {
      case Kind::kShared:
        declarations.append(item.text);
        break;
      case Kind::kPrototype:
        append_without_static(declarations, item.text);
        break;
      case Kind::kStaticData:
        declarations.append("extern ").append(item.declarator.substr(kStatic.size()));
        declarations.append(";\n");
        break;
      case Kind::kUnit0:
      case Kind::kFunction:
        break;
    }
  }
  std::vector<std::string> out(units);
  const size_t share = part.size() / units;
  for (size_t u = 1; u < units; ++u) {
    out[u].reserve(prefix.size() + declarations.size() + share + share / 4);
    out[u].append(prefix).append(declarations);
    out[u].append("\n/* ---- the module's functions, unit " + std::to_string(u) + " of " +
                  std::to_string(units) + " ---- */\n");
  }
  out[0].reserve(prefix.size() + share + share / 4 + glue.size());
  out[0].append(prefix);
  size_t next_function = 0;
  for (const Item& item : module.items) {
    switch (item.kind) {
      case Kind::kUnit0:
      case Kind::kShared:
        out[0].append(item.text);
        break;
      case Kind::kPrototype:
      case Kind::kStaticData:
        append_without_static(out[0], item.text);
        break;
      case Kind::kFunction:
        append_without_static(out[renumber[unit_of[next_function++]]], item.text);
        break;
    }
  }
  out[0].append(glue);
  return out;
}

}  // namespace wasm_sandbox::engine
