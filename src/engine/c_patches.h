// Textual fixes to the C that wasm2c (WABT 1.0.32) writes, applied before our glue is added.
// Each matches only code of a shape it knows and leaves everything else as it is.
#pragma once

#include <string>

namespace wasm_sandbox::engine {

// f32.neg / f64.neg: wasm2c writes `x = -(x);`, which tcc computes as 0 - x (wrong for NaN
// and zero signs); this routes them through the bit flips of the prelude (ws_fneg32/64).
void patch_float_negation(std::string& body);

// The instrumentation (instrument.h) as wasm2c writes it goes through a temporary per operand;
// this rewrites each charge and check into one statement that a simple compiler like tcc
// turns into a few instructions:
//   instance->w2c_wsfuel -= 16ull;
//   if (((s64)instance->w2c_wsfuel < 0) | *(volatile u32*)&instance->w2c_wsflag) {
// The flag is read through a volatile lvalue so that no compiler can hoist it out of a loop.
void tighten_instrumentation(std::string& body);

}  // namespace wasm_sandbox::engine
