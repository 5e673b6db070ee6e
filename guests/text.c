// Text in, text out, through the data convention of sdk/wasm_sandbox_guest.h: the example of
// GuestData (examples/strings.cc) and the guest its tests and benchmark call.
#include "wasm_sandbox_guest.h"

// ASCII letters upper-cased; every other byte, zeros and UTF-8 included, as it was.
WS_EXPORT(upper) uint64_t upper(const char* text, uint32_t len) {
  char* out = ws_result_buffer(len);
  for (uint32_t i = 0; i < len; ++i) {
    const char c = text[i];
    out[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
  }
  return ws_pack(out, len);
}

// The bytes in reverse order (UTF-8 sequences are reversed too: this is about bytes).
WS_EXPORT(reverse) uint64_t reverse(const unsigned char* data, uint32_t len) {
  unsigned char* out = ws_result_buffer(len);
  for (uint32_t i = 0; i < len; ++i) out[i] = data[len - 1 - i];
  return ws_pack(out, len);
}

// Words: runs of bytes other than space, tab, CR and LF.
WS_EXPORT(count_words) int32_t count_words(const char* text, uint32_t len) {
  int32_t words = 0;
  int in_word = 0;
  for (uint32_t i = 0; i < len; ++i) {
    const char c = text[i];
    const int space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

// A constant result that is not a copy of the input.
WS_EXPORT(greeting) uint64_t greeting(void) { return ws_return_string("hello from text.wasm"); }
