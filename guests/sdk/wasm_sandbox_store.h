/* The guest side of the store capability (docs/store.md, "Guests"; the host side is
 * include/wasm_sandbox/store_capability.h): a key -> JSON document store that the host grants a
 * sandbox, private to it (its own namespace) and bounded by quotas on bytes and keys.
 *
 *   #include "wasm_sandbox_store.h"
 *   ws_store_put_str("best", "{\"score\":42}");          // 0, or a negative WS_STORE_* code
 *   char buf[64];
 *   int32_t n = ws_store_get_str("best", buf, sizeof buf); // length; buf NUL-terminated if
 *                                                          // n < sizeof buf
 *
 * Keys are 1 to WS_STORE_MAX_KEY bytes, any bytes (NULs included), and are the guest's own:
 * no key can name another sandbox's data. Documents go in and come out as JSON text; `get`
 * returns the compact form (no spaces), which is also what a document costs against the byte
 * quota, plus its key's length.
 *
 * Every function returns a negative WS_STORE_* code on failure, and ws_store_last_error()
 * gives its one-line message. A buffer outside the module's memory is WS_STORE_FAULT, not a
 * trap. Buffers may overlap: inputs are read before outputs are written.
 *
 * Freestanding: only clang's <stdint.h>. Outside wasm (a host compiler) only the constants and
 * types are declared, so a host can check them against its own. */
#ifndef WASM_SANDBOX_STORE_H
#define WASM_SANDBOX_STORE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes (the host's GuestCode, WASM_SANDBOX_GUEST_STORE_CODES). */
#define WS_STORE_OK 0
#define WS_STORE_NOT_FOUND (-1)   /* no such key */
#define WS_STORE_BAD_KEY (-2)     /* empty, or longer than WS_STORE_MAX_KEY */
#define WS_STORE_BAD_JSON (-3)    /* malformed, a NUL byte, or nested past WS_STORE_MAX_DEPTH */
#define WS_STORE_TOO_LARGE (-4)   /* JSON text longer than the host's per-document limit */
#define WS_STORE_QUOTA_BYTES (-5) /* the write would take the namespace over its byte quota */
#define WS_STORE_QUOTA_KEYS (-6)  /* a new key would take it over its key quota */
#define WS_STORE_FAULT (-7)       /* a buffer outside the module's memory */
#define WS_STORE_TOO_SMALL (-8)   /* list: not even the next key fits the buffer */
#define WS_STORE_FAILED (-9)      /* the host's store failed (see ws_store_last_error) */

#define WS_STORE_MAX_KEY 256
#define WS_STORE_MAX_DEPTH 64

/* What ws_store_usage() fills in. */
typedef struct {
  uint64_t bytes; /* keys + compact JSON text of every document */
  uint64_t keys;
  uint64_t max_bytes; /* the quotas */
  uint64_t max_keys;
} ws_store_usage_t;

#ifdef __wasm__
#define WS_STORE_IMPORT(name) \
  __attribute__((import_module("wasm_sandbox_store"), import_name(#name)))

/* Stores `json` (JSON text) under `key`, replacing what was there. 0 or a code; on any failure
 * nothing is changed. */
WS_STORE_IMPORT(put)
int32_t ws_store_put(const void* key, uint32_t key_len, const char* json, uint32_t json_len);

/* The length of the document's compact JSON text, which is written to `out` only if it fits in
 * `out_cap` bytes (call again with a larger buffer if the result is > out_cap); or a code. */
WS_STORE_IMPORT(get)
int32_t ws_store_get(const void* key, uint32_t key_len, char* out, uint32_t out_cap);

/* 0, or a code (WS_STORE_NOT_FOUND if there was no such key). */
WS_STORE_IMPORT(delete) int32_t ws_store_delete(const void* key, uint32_t key_len);

/* 1 if the key is there, 0 if not, or a code. */
WS_STORE_IMPORT(exists) int32_t ws_store_exists(const void* key, uint32_t key_len);

/* How many keys the namespace holds, or a code. */
WS_STORE_IMPORT(count) int64_t ws_store_count(void);

/* The namespace's usage and quotas. 0 or a code. */
WS_STORE_IMPORT(usage) int32_t ws_store_usage(ws_store_usage_t* out);

/* Keys starting with `prefix` and greater than `after` (from the first if after_len is 0), in
 * order, as many whole entries as fit in `out`: each a uint32 little-endian length, then the
 * key's bytes. Returns the bytes written, 0 when there are no more keys, or a code
 * (WS_STORE_TOO_SMALL if the next key does not fit: WS_STORE_MAX_KEY + 4 bytes always do).
 * Walk the entries with ws_store_list_next; pass the last key as `after` for the next page. */
WS_STORE_IMPORT(list)
int32_t ws_store_list(const void* prefix, uint32_t prefix_len, const void* after,
                      uint32_t after_len, void* out, uint32_t out_cap);

/* The length of the message of the last call that failed ("" before any); its first out_cap
 * bytes are written to out (not NUL-terminated). */
WS_STORE_IMPORT(last_error) int32_t ws_store_last_error(char* out, uint32_t out_cap);

#undef WS_STORE_IMPORT

/* --- Helpers for NUL-terminated keys and text. */

static inline uint32_t ws_store_strlen_(const char* s) {
  uint32_t n = 0;
  while (s[n]) ++n;
  return n;
}

static inline int32_t ws_store_put_str(const char* key, const char* json) {
  return ws_store_put(key, ws_store_strlen_(key), json, ws_store_strlen_(json));
}

/* Like ws_store_get, and NUL-terminates `out` when the text fits with its NUL (result <
 * out_cap). */
static inline int32_t ws_store_get_str(const char* key, char* out, uint32_t out_cap) {
  int32_t n = ws_store_get(key, ws_store_strlen_(key), out, out_cap);
  if (n >= 0 && (uint32_t)n < out_cap) out[n] = 0;
  return n;
}

static inline int32_t ws_store_delete_str(const char* key) {
  return ws_store_delete(key, ws_store_strlen_(key));
}

static inline int32_t ws_store_exists_str(const char* key) {
  return ws_store_exists(key, ws_store_strlen_(key));
}
#endif /* __wasm__ */

/* The next entry of a buffer ws_store_list filled with `used` bytes: sets *key and *key_len
 * and advances *offset; 0 when there are no more. */
static inline int ws_store_list_next(const void* buffer, uint32_t used, uint32_t* offset,
                                     const char** key, uint32_t* key_len) {
  const unsigned char* p = (const unsigned char*)buffer;
  if (*offset > used || used - *offset < 4) return 0;
  const uint32_t len = (uint32_t)p[*offset] | (uint32_t)p[*offset + 1] << 8 |
                       (uint32_t)p[*offset + 2] << 16 | (uint32_t)p[*offset + 3] << 24;
  if (len > used - *offset - 4) return 0;
  *key = (const char*)(p + *offset + 4);
  *key_len = len;
  *offset += 4 + len;
  return 1;
}

/* A short name for a code: "no such key". */
static inline const char* ws_store_error_name(int64_t code) {
  switch (code) {
    case WS_STORE_OK:
      return "ok";
    case WS_STORE_NOT_FOUND:
      return "no such key";
    case WS_STORE_BAD_KEY:
      return "bad key";
    case WS_STORE_BAD_JSON:
      return "malformed JSON";
    case WS_STORE_TOO_LARGE:
      return "document too large";
    case WS_STORE_QUOTA_BYTES:
      return "byte quota exceeded";
    case WS_STORE_QUOTA_KEYS:
      return "key quota exceeded";
    case WS_STORE_FAULT:
      return "buffer outside the guest's memory";
    case WS_STORE_TOO_SMALL:
      return "buffer too small";
    case WS_STORE_FAILED:
      return "the host's store failed";
    default:
      return "unknown code";
  }
}

#ifdef __cplusplus
}
#endif

#endif /* WASM_SANDBOX_STORE_H */
