// A game mod that keeps state in the store the host grants it (sdk/wasm_sandbox_store.h): a
// visit counter and each player's best score, kept across runs and instances. The example of
// the store capability (examples/store_plugin.cc) and the guest its tests call.
#include "wasm_sandbox_guest.h"
#include "wasm_sandbox_store.h"

// Without a libc (-nostdlib), clang still turns copy loops into calls of these two.
void* memcpy(void* dest, const void* src, size_t n) {
  unsigned char* d = dest;
  const unsigned char* s = src;
  while (n--) *d++ = *s++;
  return dest;
}
void* memset(void* dest, int c, size_t n) {
  unsigned char* d = dest;
  while (n--) *d++ = (unsigned char)c;
  return dest;
}

// Decimal text of `value` into `out` (at least 21 bytes); returns its length.
static uint32_t format_i64(int64_t value, char* out) {
  char digits[20];
  uint32_t n = 0, len = 0;
  uint64_t v = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  if (value < 0) out[len++] = '-';
  while (n) out[len++] = digits[--n];
  return len;
}

// The integer after the first ':' of compact JSON text such as {"n":42}; 0 if there is none.
static int64_t number_after_colon(const char* text, uint32_t len) {
  uint32_t i = 0;
  while (i < len && text[i] != ':') ++i;
  ++i;
  int negative = i < len && text[i] == '-';
  if (negative) ++i;
  int64_t value = 0;
  for (; i < len && text[i] >= '0' && text[i] <= '9'; ++i) value = value * 10 + (text[i] - '0');
  return negative ? -value : value;
}

// Stores {"<field>":value} under `key`.
static int32_t put_number(const char* key, uint32_t key_len, const char* field, int64_t value) {
  char json[64];
  uint32_t len = 0;
  json[len++] = '{';
  json[len++] = '"';
  while (*field) json[len++] = *field++;
  json[len++] = '"';
  json[len++] = ':';
  len += format_i64(value, json + len);
  json[len++] = '}';
  return ws_store_put(key, key_len, json, len);
}

// The number in the document under `key`: 0 and *found = 0 if there is none, or a code.
static int64_t get_number(const char* key, uint32_t key_len, int* found) {
  char json[64];
  int32_t n = ws_store_get(key, key_len, json, sizeof json);
  *found = n >= 0;
  if (n == WS_STORE_NOT_FOUND) return 0;
  if (n < 0) return n;
  if ((uint32_t)n > sizeof json) {  // not a document this mod wrote
    *found = 0;
    return WS_STORE_TOO_LARGE;
  }
  return number_after_colon(json, (uint32_t)n);
}

// Counts one more visit: the visits so far, this one included, or a negative code.
WS_EXPORT(visit) int64_t visit(void) {
  int found;
  int64_t visits = get_number("visits", 6, &found);
  if (visits < 0) return visits;
  int32_t status = put_number("visits", 6, "n", visits + 1);
  return status < 0 ? status : visits + 1;
}

// Records `score` for `player` if it beats the player's best: 1 if it did, 0 if not, or a
// negative code.
WS_EXPORT(submit) int32_t submit(const char* player, uint32_t len, int32_t score) {
  char key[WS_STORE_MAX_KEY];
  const char prefix[] = "score:";
  uint32_t key_len = sizeof prefix - 1;
  if (len > sizeof key - key_len) return WS_STORE_BAD_KEY;
  for (uint32_t i = 0; i < key_len; ++i) key[i] = prefix[i];
  for (uint32_t i = 0; i < len; ++i) key[key_len++] = player[i];
  int found;
  int64_t best = get_number(key, key_len, &found);
  if (best < 0 && !found) return (int32_t)best;
  if (found && best >= score) return 0;
  int32_t status = put_number(key, key_len, "score", score);
  return status < 0 ? status : 1;
}

// "player score" of the best score so far (the first player in key order on a tie), or an
// empty result if there is none. Walks every "score:" key a page at a time.
WS_EXPORT(best) uint64_t best(void) {
  static unsigned char page[WS_STORE_MAX_KEY + 4];  // the smallest page that always works
  static char best_key[WS_STORE_MAX_KEY], after[WS_STORE_MAX_KEY];
  uint32_t best_len = 0, after_len = 0;
  int64_t best_score = 0;
  for (;;) {
    int32_t used = ws_store_list("score:", 6, after, after_len, page, sizeof page);
    if (used <= 0) break;
    uint32_t offset = 0, key_len;
    const char* key;
    while (ws_store_list_next(page, (uint32_t)used, &offset, &key, &key_len)) {
      int found;
      int64_t score = get_number(key, key_len, &found);
      if (found && (best_len == 0 || score > best_score)) {
        best_score = score;
        best_len = key_len;
        for (uint32_t i = 0; i < key_len; ++i) best_key[i] = key[i];
      }
      after_len = key_len;
      for (uint32_t i = 0; i < key_len; ++i) after[i] = key[i];
    }
  }
  if (best_len == 0) return 0;
  char text[WS_STORE_MAX_KEY + 24];
  uint32_t len = 0;
  for (uint32_t i = 6; i < best_len; ++i) text[len++] = best_key[i];
  text[len++] = ' ';
  len += format_i64(best_score, text + len);
  return ws_return_bytes(text, len);
}

// Stores `count` keys "junk:<i>", each a document of about `size` bytes: `count`, or the code
// of the first put that failed (the quota, in the example).
WS_EXPORT(fill) int32_t fill(int32_t count, int32_t size) {
  static char json[4096];
  if (size < 10 || size > (int32_t)sizeof json) return WS_STORE_TOO_LARGE;
  const char head[] = "{\"pad\":\"";
  uint32_t len = 0;
  for (uint32_t i = 0; i < sizeof head - 1; ++i) json[len++] = head[i];
  while (len < (uint32_t)size - 2) json[len++] = 'x';
  json[len++] = '"';
  json[len++] = '}';
  for (int32_t i = 0; i < count; ++i) {
    char key[32] = "junk:";
    uint32_t key_len = 5 + format_i64(i, key + 5);
    int32_t status = ws_store_put(key, key_len, json, len);
    if (status < 0) return status;
  }
  return count;
}

// The message of the last store call that failed.
WS_EXPORT(last_error) uint64_t last_error(void) {
  static char message[512];
  int32_t n = ws_store_last_error(message, sizeof message);
  if (n < 0) return 0;
  return ws_return_bytes(message, (uint32_t)n < sizeof message ? (uint32_t)n : sizeof message);
}

// How many keys this sandbox holds (ws_store_count), or a code.
WS_EXPORT(keys) int64_t keys(void) { return ws_store_count(); }
