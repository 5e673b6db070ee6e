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

#define WS_GLUE_ABI_VERSION 3u

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

/* The runtime (wasm-rt.h and ws_guard_trap) as a table of pointers, for code that is loaded
 * as a shared object: it defines the runtime's functions itself, as forwarders through this
 * table, so that it has no undefined symbols besides libc and libm, and the host needs no
 * exported symbols. wasm_rt_register_func_type is variadic in wasm-rt.h; here it takes the
 * params + results types as an array. */
typedef struct ws_runtime_api {
  void (*trap)(wasm_rt_trap_t);
  void (*guard_trap)(void* fuel, void* flag);
  uint32_t (*register_func_type)(uint32_t params, uint32_t results, const int* types);
  bool (*is_initialized)(void);
  void (*allocate_memory)(wasm_rt_memory_t*, uint32_t initial_pages, uint32_t max_pages);
  uint32_t (*grow_memory)(wasm_rt_memory_t*, uint32_t pages);
  void (*free_memory)(wasm_rt_memory_t*);
  void (*allocate_funcref_table)(wasm_rt_funcref_table_t*, uint32_t elements, uint32_t max);
  void (*allocate_externref_table)(wasm_rt_externref_table_t*, uint32_t elements, uint32_t max);
  void (*free_funcref_table)(wasm_rt_funcref_table_t*);
  void (*free_externref_table)(wasm_rt_externref_table_t*);
  uint32_t (*grow_funcref_table)(wasm_rt_funcref_table_t*, uint32_t delta, wasm_rt_funcref_t);
  uint32_t (*grow_externref_table)(wasm_rt_externref_table_t*, uint32_t delta, wasm_rt_externref_t);
} ws_runtime_api;

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
  /* Code loaded as a shared object: the loader calls this once, before init_module. Null
   * for code whose runtime symbols the compiler resolved (libtcc). */
  void (*bind_runtime)(const ws_runtime_api* api);
  /* Every function of the module by index, imports first (their trampolines), as the
   * addresses funcref values hold: how live tier-up finds, for a funcref into one tier's
   * code, the same function in another's. */
  uint32_t function_count;
  void* const* functions;
  /* Calls visit(refs, count, context) on the funcrefs the instance stores itself: the entries
   * of each funcref table it defines, and each funcref global it defines. */
  void (*visit_funcrefs)(void* instance, void (*visit)(wasm_rt_funcref_t*, uint32_t, void*),
                         void* context);
} ws_glue;

/* Called by instrumented code when a check fails: fuel is negative or the flag is set.
 * `fuel` and `flag` point into the instance, or are null. Implemented by the host; never
 * returns. */
void ws_guard_trap(void* fuel, void* flag);

#endif /* WASM_SANDBOX_GLUE_ABI_H_ */
