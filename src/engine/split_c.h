// Stage 4 helper, optimized tier: the one C translation unit generate_c() writes, split into
// several that an external compiler builds in parallel (compile_shared_object() compiles each
// with -c and links them). Splitting pays off for large modules only: every unit repeats the
// declarations, and calls between units cannot be inlined.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace wasm_sandbox::engine {

// How many units translation_units_for() chooses: at least this much C per unit, and at most
// this many units. Splitting costs gcc little extra CPU time (within 10%: the declarations every
// unit repeats parse in milliseconds), so the floor is where the wall time saved stops being worth
// the calls between units that can no longer be inlined. Measured with gcc 12 -O2 (CPU seconds per
// unit): 142 KB of C 0.48 s whole, 0.27 + 0.24 s in two; 335 KB 1.36 s, 0.49 + 0.65 s; 942 KB 4.15
// s, 1.83 + 2.38 s; 15 MB (large.wasm) 61 s, 29 + 32 s, 14 + 15 + 15 + 15 s.
inline constexpr size_t kMinCBytesPerUnit = 256u << 10;
inline constexpr size_t kMaxTranslationUnits = 64;

// The number of units to split `c_bytes` of generated C into for a compiler that may run on
// `cores` cores at once (the `jobs` of compile_shared_object()): min(cores, c_bytes /
// kMinCBytesPerUnit, kMaxTranslationUnits), or 1 where that is less than 2: under twice
// kMinCBytesPerUnit, or one core. Never 0.
size_t translation_units_for(size_t c_bytes, unsigned cores);

// Splits `source`, the output of generate_c(), into at most `parts` translation units whose
// compiled objects, linked together, behave exactly as `source` compiled alone:
// - unit 0 is `source` without the function definitions other units hold: the data segments,
//   initialization, export wrappers and glue stay in it alone;
// - units 1..n-1 hold the declarations every function needs (prelude, wasm2c's header, its
//   helper macros and static inline functions, the functions' forward declarations), `extern`
//   declarations of the module's static data, and a contiguous run of the definitions of the
//   module's functions.
// The units are balanced by an estimate of what each costs the compiler (bytes of code, the
// number of functions; unit 0's glue counts too), not by their sizes.
// The module's functions (w2c_wsfI) and static data (func_types, s_module_initialized, the
// data and element segments) lose `static` to link across units; compile_shared_object()
// compiles with -fvisibility=hidden, so none of them is exported from the shared object.
//
// Returns {source} unchanged when parts <= 1, when the module defines fewer than 2 functions,
// or when the text does not have the shape of WABT 1.0.32's output as generate_c() assembles
// it (a marker missing, a top-level construct it does not know; split_c.cc lists what it
// expects): it never guesses. May return fewer than `parts` units (never an empty one). Linear in
// source.size(). Thread-safe.
std::vector<std::string> split_translation_units(const std::string& source, size_t parts);

}  // namespace wasm_sandbox::engine
