// Stage 2: instrumentation of the validated IR, before it becomes C. Being done on the IR,
// it behaves identically whichever compiler builds the code, which is what makes fuel
// deterministic across tiers.
//
// What it adds (all names are internal: user imports and exports are renamed before WriteC,
// see generate_c.h, so they cannot collide):
// - fuel: a mutable i64 global "wsfuel" (exported as "wsfuel"), charged in advance for the
//   code up to the next loop: at a function's entry, at each loop's header (once per
//   iteration) and right after each block, if or try that has a loop inside. A charge counts
//   one unit per instruction, and for a block, if or try without a loop inside one unit plus
//   the instructions of its longest path (an if's longer arm). A branch that leaves early
//   does not get the rest back, so the charge depends only on the path taken: deterministic,
//   and at most the instructions executed plus those skipped.
// - interrupts: a mutable i32 global "wsflag" (exported as "wsflag"), the instance's stop flag,
//   which the host sets from any thread to stop the guest. Guest code does not poll it: the
//   host signals the thread instead (runtime.h, interrupt_thread()), so interruption costs
//   generated code nothing.
// - with fuel only, checks at every loop header and at the entry (after the first charge) of
//   every function that calls (only those can recurse; elsewhere any unbounded run passes a
//   loop header): if fuel is negative or, with interrupts too, the flag is set (a load that
//   costs little next to the charge), call the import ws.trap, a () -> () function the glue
//   implements (glue_abi.h, ws_guard_trap), which decides what trap to raise.
// - the start function, if any, becomes the export "wsstart" and is no longer run by
//   wasm2c's instantiate, so that the host can set fuel and flags first.
//
// Adding the import shifts the index of every defined function by one; every reference
// (calls, ref.func, element segments, exports, start) is renumbered.
#pragma once

namespace wabt {
struct Module;
}

namespace wasm_sandbox::engine {

struct Instrumentation {
  bool fuel = false;
  bool interrupts = false;
  bool any() const { return fuel || interrupts; }
};

// What the instrumented module exports for the glue, beyond the user's exports.
struct InstrumentedExports {
  bool start = false;        // "wsstart"
  bool fuel = false;         // "wsfuel"
  bool flag = false;         // "wsflag"
  bool trap_import = false;  // the last function import is ws.trap (with fuel only)
};

// REQUIRES: ir validated and within the module limits (shape.h).
InstrumentedExports instrument(wabt::Module& ir, const Instrumentation& what);

}  // namespace wasm_sandbox::engine
