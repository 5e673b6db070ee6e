// Limits: every bound the sandbox enforces, in one struct, with defaults that are safe for
// untrusted code on a shared host.
//
//   wasm_sandbox::EngineConfig config;
//   config.limits.memory_bytes = 64 << 20;                       // per instance
//   config.limits.call_timeout = std::chrono::milliseconds(50);  // per call
//   wasm_sandbox::Engine engine(config);
//
// Three groups, by when they are checked:
// - module limits, by Engine::load while it streams through the binary, before it builds
//   anything: a module over one is refused with ErrorKind::LimitExceeded and a message
//   naming the limit;
// - instance limits, per instance: an instance that needs more at instantiation is refused
//   the same way; while running, memory.grow and table.grow past them return -1 (what the
//   spec says a failed grow returns), the stack ends in TrapKind::StackExhausted, the timeout
//   in TrapKind::Timeout and fuel in TrapKind::OutOfFuel. Module::instantiate can take its
//   own Limits, of which only these fields are read;
// - engine limits, on everything alive in one Engine at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace wasm_sandbox {

struct Limits {
  // ---- Module limits (Engine::load). The structural ones are the limits browsers apply
  // (V8's), except where our compile pipeline needs tighter ones.
  size_t module_bytes = 16u << 20;  // the binary (or the text, for .wat); see docs/limits.md
  uint32_t functions = 20'000;      // imported + defined; wasm -> C time grows as n^2 beyond
  uint32_t function_instructions = 2'000'000;  // per function
  uint32_t locals = 50'000;                    // per function, parameters included
  uint32_t nesting_depth = 1'000;              // blocks, loops, ifs and trys inside one another
  uint32_t br_table_targets = 65'520;
  size_t generated_c_bytes = 512u << 20;  // C the module becomes
  // Wall-clock time for wasm -> C -> machine code. The in-process stages cannot be stopped
  // midway, so it is checked between them; the size limits above bound each stage.
  std::chrono::milliseconds compile_time{60'000};

  // ---- Instance limits (Module::instantiate, and while running).
  uint64_t memory_bytes = 256u << 20;   // each linear memory, rounded down to 64 KiB pages
  uint32_t table_elements = 1'000'000;  // each table
  size_t stack_bytes = 8u << 20;        // guest stack of one call from the host; max 64 MiB
  // Wall-clock time of one call from the host, guest -> host -> guest calls included.
  // Zero: no timeout. Needs EngineConfig::interruptible.
  std::chrono::milliseconds call_timeout{0};
  // Fuel a new instance starts with, when EngineConfig::fuel is on: about one unit per
  // WebAssembly instruction executed (see docs/limits.md).
  uint64_t fuel = 1'000'000'000;

  // ---- Engine limits: everything alive in one Engine at once.
  uint32_t instances = 10'000;
  uint64_t total_memory_bytes = 4ull << 30;  // all linear memories of its instances
};

}  // namespace wasm_sandbox
