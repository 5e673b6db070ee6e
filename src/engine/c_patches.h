// Textual fixes to the C that wasm2c (WABT 1.0.32) writes, applied before our glue is added.
// Each matches only code of a shape it knows and leaves everything else as it is.
#pragma once

#include <string>
#include <vector>

namespace wasm_sandbox::engine {

// f32.neg / f64.neg: wasm2c writes `x = -(x);`, which tcc computes as 0 - x (wrong for NaN
// and zero signs); this routes them through the bit flips of the prelude (ws_fneg32/64).
void patch_float_negation(std::string& body);

// The instrumentation (instrument.h) as wasm2c writes it goes through a temporary per operand;
// this rewrites each charge and check into one statement that a simple compiler like tcc
// turns into a few instructions:
//   instance->w2c_wsfuel -= 16ull;
//   if (WS_UNLIKELY(((s64)instance->w2c_wsfuel < 0) | *(volatile u32*)&instance->w2c_wsflag)) {
// (the flag only when interrupts are on too: without fuel there are no checks at all). The
// flag is read through a volatile lvalue so that no compiler can hoist it out of a loop.
void tighten_instrumentation(std::string& body);

// Loads and stores as wasm2c writes them read the memory's base address from the instance on
// every access (`i32_load(&instance->w2c_wsm0, addr)`), and since a store through a byte
// pointer may change anything, a compiler must reload it after every store. This keeps the
// base of memory I in a local, `u8* ws_mI`, per function that accesses it: read at entry and
// again after every statement that calls (a call or memory.grow may move it), and rewrites
// the accesses to the prelude's ws_* variants, which take the base. `imported[I]` says whether
// memory I is imported (the instance then holds a pointer to it). A function whose text has
// an unexpected shape is left as it was. With `explicit_bounds` (generate_c.h,
// BoundsChecks::Explicit) the memory's size is kept in a local `u64 ws_nI` beside its base,
// and the ws_* variants check against it.
void cache_memory_bases(std::string& body, const std::vector<bool>& imported, bool explicit_bounds);

// A defined memory that the runtime mapped from its module's image (runtime/memory.h,
// MemoryImage) already holds what the active data segments would write. In init_memories,
// each `LOAD_DATA(instance->w2c_wsmI, ...)` becomes
//   if (!WS_MEMORY_IMAGED(instance->w2c_wsmI)) LOAD_DATA(instance->w2c_wsmI, ...);
// (imported memories are written `(*instance->...)` and stay as they are).
void skip_imaged_data(std::string& body);

}  // namespace wasm_sandbox::engine
