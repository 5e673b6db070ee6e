/* The ABI between the C we generate for a module and the host that loads it.
 *
 * This header is compiled twice: into the host (C++) and, as text, into every generated
 * translation unit (C, after wasm-rt.h). Keep it plain C99 and change WS_GLUE_ABI_VERSION
 * whenever a layout changes: the loader refuses code built for another version.
 *
 * Per instance, the host allocates `instance_size` bytes: wasm2c's instance struct, then at
 * `slots_offset` one ws_slot per import, in import order. */
#ifndef WASM_SANDBOX_GLUE_ABI_H_
#define WASM_SANDBOX_GLUE_ABI_H_

#define WS_GLUE_ABI_VERSION 2u

/* One argument or result of a generic call. */
typedef union ws_val {
  uint32_t i32;
  uint64_t i64;
  float f32;
  double f64;
  wasm_rt_externref_t externref;
  wasm_rt_funcref_t funcref;
} ws_val;

/* One import. A function: `fn` has the exact C signature RET(void* ctx, PARAMS...) and is
 * called with `ctx`. A global, memory or table: `ctx` points to its storage (a value, a
 * wasm_rt_memory_t, a wasm_rt_*_table_t) and `fn` is unused. */
typedef struct ws_slot {
  void* fn;
  void* ctx;
} ws_slot;

/* A host function bound to one import of one instance: generated adapters pack the
 * arguments into io[0..params), call `call`, and read the results from io[0..results). */
typedef struct ws_host_binding {
  void (*call)(struct ws_host_binding* self, ws_val* io);
} ws_host_binding;

/* Calls an exported function with arguments io[0..params), leaving results in io. */
typedef void (*ws_entry_fn)(void* instance, ws_val* io);

typedef struct ws_export {
  ws_entry_fn entry; /* functions only */
  void* direct;      /* function: RET(void* instance, PARAMS...); else: T*(void* instance) */
} ws_export;

/* Everything the loader needs, in one symbol: `ws_module_glue`. */
typedef struct ws_glue {
  uint32_t abi_version;
  uint32_t import_count;
  uint32_t export_count;
  uint32_t slots_offset;
  uint32_t instance_size;
  const ws_export* exports;            /* export_count entries, in export order */
  void* const* host_adapters;          /* import_count entries; null for non-function imports */
  void (*init_module)(void);           /* once, before the first instantiate */
  void (*instantiate)(void* instance); /* slots filled, rest zeroed; may trap */
  void (*start)(void* instance);       /* the start function, after instantiate; or null */
  void (*free_instance)(void* instance);
  /* Instrumentation (engine/instrument.h), or null where the module has none: */
  void* (*fuel)(void* instance); /* the int64_t fuel counter */
  void* (*flag)(void* instance); /* the uint32_t interrupt flag (runtime.h, kFlag*) */
} ws_glue;

/* Called by instrumented code when a check fails: fuel is negative or the flag is set.
 * `fuel` and `flag` point into the instance, or are null. Implemented by the host; never
 * returns. */
void ws_guard_trap(void* fuel, void* flag);

#endif /* WASM_SANDBOX_GLUE_ABI_H_ */
