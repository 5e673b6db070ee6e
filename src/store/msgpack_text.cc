// MessagePack to JSON text, or only its size, and validity, without a DOM (msgpack_text.h).
//
// The walker mirrors msgpack_reader.cc's Reader rule for rule (same bounds checks, in the same
// order, same depth limit), so that the two agree on what is corrupt; tests/store/
// msgpack_text_test.cc holds them to that on random and mutated input.
#include "store/msgpack_text.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>

#include "store/msgpack_input.h"
#include "store/msgpack_reader.h"

namespace wasm_sandbox::store::msgpack {
namespace {

// Fallback: valid so far, but the one-pass text would differ from nlohmann's (keys out of
// order, invalid UTF-8) or the nesting is deeper than the reader's limit.
enum class Outcome { Ok, Bad, Fallback };

// Bytes copied into JSON text as they are: printable ASCII but for the quote and the backslash.
constexpr auto kPlain = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();

// The length of the well-formed UTF-8 sequence starting at p[0] >= 0x80 (Unicode table 3-7,
// what nlohmann's decoder accepts), or 0.
size_t utf8_length(const uint8_t* p, const uint8_t* end) {
  auto cont = [&](size_t i, uint8_t lo, uint8_t hi) {
    return p + i < end && p[i] >= lo && p[i] <= hi;
  };
  const uint8_t b = p[0];
  if (b >= 0xc2 && b <= 0xdf) return cont(1, 0x80, 0xbf) ? 2 : 0;
  if (b >= 0xe0 && b <= 0xef) {
    const uint8_t lo = b == 0xe0 ? 0xa0 : 0x80, hi = b == 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2, 0x80, 0xbf) ? 3 : 0;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    const uint8_t lo = b == 0xf0 ? 0x90 : 0x80, hi = b == 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2, 0x80, 0xbf) && cont(3, 0x80, 0xbf) ? 4 : 0;
  }
  return 0;
}

// Appends to a std::string through plain stores: the string is grown (doubling) only when a
// write would not fit its current size, and cut to what was written by finish(). Cheaper than
// std::string::append/push_back per piece, which is most of the rendering otherwise.
class TextBuffer {
 public:
  // Appends after `text`'s current contents; room for about `expected` more bytes up front.
  TextBuffer(std::string* text, size_t expected) : text_(text) {
    const size_t length = text_->size();
    text_->resize(length + expected);
    point(length);
  }
  void put(char c) {
    if (next_ == end_) grow(1);
    *next_++ = c;
  }
  void put(const void* bytes, size_t size) {
    if (static_cast<size_t>(end_ - next_) < size) grow(size);
    std::memcpy(next_, bytes, size);
    next_ += size;
  }
  void finish() { text_->resize(static_cast<size_t>(next_ - text_->data())); }

 private:
  [[gnu::noinline]] void grow(size_t size) {
    const size_t length = static_cast<size_t>(next_ - text_->data());
    text_->resize(std::max(text_->size() * 2, length + size));
    point(length);
  }
  void point(size_t length) {
    next_ = text_->data() + length;
    end_ = text_->data() + text_->size();
  }
  std::string* text_;
  char* next_;  // where the next byte goes
  char* end_;   // the end of the room: text_'s current size
};

// Counts what a TextBuffer would be given, storing nothing: the size of the text without the
// text (json_text_size).
class SizeCounter {
 public:
  void put(char) { ++size_; }
  void put(const void*, size_t size) { size_ += size; }
  size_t size() const { return size_; }

 private:
  size_t size_ = 0;
};

// One walk for both: Sink is a TextBuffer (the text) or a SizeCounter (its size), so the size
// is the text's by construction.
template <class Sink>
class Walker : private Input {
 public:
  Walker(std::string_view bytes, Sink* out) : Input(bytes), out_(out) {}

  using Input::at_end;

  Outcome value(int depth) {
    if (depth > kMaxDepth) return Outcome::Fallback;
    if (p_ == end_) return Outcome::Bad;
    const uint8_t tag = *p_++;
    if (tag <= 0x7f) return unsigned_number(tag);
    if (tag >= 0xe0) return signed_number(static_cast<int8_t>(tag));
    if (tag >= 0xa0 && tag <= 0xbf) return string(tag & 0x1f);
    if (tag >= 0x90 && tag <= 0x9f) return array(tag & 0x0f, depth);
    if (tag >= 0x80 && tag <= 0x8f) return map(tag & 0x0f, depth);
    uint64_t n;
    switch (tag) {
      case 0xc0:
        return literal("null", 4);
      case 0xc2:
        return literal("false", 5);
      case 0xc3:
        return literal("true", 4);
      case 0xca: {
        if (!uint(4, &n)) return Outcome::Bad;
        const uint32_t bits = static_cast<uint32_t>(n);
        float f;
        std::memcpy(&f, &bits, 4);
        return floating(static_cast<double>(f));
      }
      case 0xcb: {
        if (!uint(8, &n)) return Outcome::Bad;
        double d;
        std::memcpy(&d, &n, 8);
        return floating(d);
      }
      case 0xcc:
      case 0xcd:
      case 0xce:
      case 0xcf:
        if (!uint(size_t{1} << (tag - 0xcc), &n)) return Outcome::Bad;
        return unsigned_number(n);
      case 0xd0:
        if (!uint(1, &n)) return Outcome::Bad;
        return signed_number(static_cast<int8_t>(n));
      case 0xd1:
        if (!uint(2, &n)) return Outcome::Bad;
        return signed_number(static_cast<int16_t>(n));
      case 0xd2:
        if (!uint(4, &n)) return Outcome::Bad;
        return signed_number(static_cast<int32_t>(n));
      case 0xd3:
        if (!uint(8, &n)) return Outcome::Bad;
        return signed_number(static_cast<int64_t>(n));
      case 0xd9:
      case 0xda:
      case 0xdb:
        if (!uint(size_t{1} << (tag - 0xd9), &n)) return Outcome::Bad;
        return string(n);
      case 0xdc:
      case 0xdd:
        if (!uint(tag == 0xdc ? 2 : 4, &n)) return Outcome::Bad;
        return array(n, depth);
      case 0xde:
      case 0xdf:
        if (!uint(tag == 0xde ? 2 : 4, &n)) return Outcome::Bad;
        return map(n, depth);
      case 0xc4:
      case 0xc5:
      case 0xc6:
        if (!uint(size_t{1} << (tag - 0xc4), &n)) return Outcome::Bad;
        return binary(n, -1);
      default:
        return extension(tag);
    }
  }

 private:
  Outcome literal(const char* text, size_t size) {
    out_->put(text, size);
    return Outcome::Ok;
  }
  template <class Int>
  Outcome integer(Int n) {
    char buffer[24];
    auto end = std::to_chars(buffer, buffer + sizeof buffer, n).ptr;
    out_->put(buffer, static_cast<size_t>(end - buffer));
    return Outcome::Ok;
  }
  Outcome unsigned_number(uint64_t n) { return integer(n); }
  Outcome signed_number(int64_t n) { return integer(n); }
  Outcome floating(double d) {
    if (!std::isfinite(d)) return literal("null", 4);
    char buffer[64];  // nlohmann's own serializer's size for this call
    char* end = nlohmann::detail::to_chars(buffer, buffer + sizeof buffer, d);
    out_->put(buffer, static_cast<size_t>(end - buffer));
    return Outcome::Ok;
  }

  Outcome string(uint64_t size) {
    const uint8_t* data;
    if (!take(size, &data)) return Outcome::Bad;
    return quoted(data, data + size);
  }
  // `"text"` with JSON escapes; Fallback for invalid UTF-8 (nlohmann's replacement rules are
  // its own).
  Outcome quoted(const uint8_t* p, const uint8_t* end) {
    out_->put('"');
    const uint8_t* run = p;  // start of bytes not yet copied
    while (p < end) {
      const uint8_t c = *p;
      if (kPlain[c]) {
        ++p;
        continue;
      }
      if (c >= 0x80) {
        size_t length = utf8_length(p, end);
        if (length == 0) return Outcome::Fallback;
        p += length;
        continue;
      }
      out_->put(run, static_cast<size_t>(p - run));
      escape(c);
      run = ++p;
    }
    out_->put(run, static_cast<size_t>(p - run));
    out_->put('"');
    return Outcome::Ok;
  }
  void escape(uint8_t c) {
    char short_form = 0;
    switch (c) {
      case '"':
        short_form = '"';
        break;
      case '\\':
        short_form = '\\';
        break;
      case '\b':
        short_form = 'b';
        break;
      case '\f':
        short_form = 'f';
        break;
      case '\n':
        short_form = 'n';
        break;
      case '\r':
        short_form = 'r';
        break;
      case '\t':
        short_form = 't';
        break;
      default:
        break;
    }
    if (short_form) {
      const char pair[2] = {'\\', short_form};
      out_->put(pair, 2);
      return;
    }
    static constexpr char kHex[] = "0123456789abcdef";  // nlohmann writes \u00XX in lower case
    const char code[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
    out_->put(code, 6);
  }

  Outcome binary(uint64_t size, int subtype) {
    const uint8_t* data;
    if (!take(size, &data)) return Outcome::Bad;
    out_->put("{\"bytes\":[", 10);
    for (uint64_t i = 0; i < size; ++i) {
      if (i != 0) out_->put(',');
      integer(unsigned{data[i]});
    }
    out_->put("],\"subtype\":", 12);
    if (subtype < 0) {
      out_->put("null", 4);
    } else {
      integer(subtype);
    }
    out_->put('}');
    return Outcome::Ok;
  }
  Outcome extension(uint8_t tag) {
    uint64_t size;
    uint8_t subtype;
    if (!Input::extension(tag, &size, &subtype)) return Outcome::Bad;
    return binary(size, subtype);
  }

  Outcome array(uint64_t count, int depth) {
    if (count > static_cast<uint64_t>(end_ - p_)) return Outcome::Bad;
    out_->put('[');
    for (uint64_t i = 0; i < count; ++i) {
      if (i != 0) out_->put(',');
      Outcome outcome = value(depth + 1);
      if (outcome != Outcome::Ok) return outcome;
    }
    out_->put(']');
    return Outcome::Ok;
  }
  Outcome map(uint64_t count, int depth) {
    if (count > static_cast<uint64_t>(end_ - p_) / 2) return Outcome::Bad;
    out_->put('{');
    std::string_view previous;
    for (uint64_t i = 0; i < count; ++i) {
      // The reader decodes a key as a value one level down, then requires a string.
      if (depth + 1 > kMaxDepth) return Outcome::Fallback;
      if (p_ == end_) return Outcome::Bad;
      const uint8_t tag = *p_++;
      uint64_t size;
      if (tag >= 0xa0 && tag <= 0xbf) {
        size = tag & 0x1f;
      } else if (tag >= 0xd9 && tag <= 0xdb) {
        if (!uint(size_t{1} << (tag - 0xd9), &size)) return Outcome::Bad;
      } else {
        return Outcome::Bad;
      }
      const uint8_t* key;
      if (!take(size, &key)) return Outcome::Bad;
      // nlohmann's map is sorted and keeps the last of equal keys: only a strictly increasing
      // key sequence renders in stored order.
      std::string_view name(reinterpret_cast<const char*>(key), size);
      if (i != 0 && !(previous < name)) return Outcome::Fallback;
      previous = name;
      if (i != 0) out_->put(',');
      Outcome quoted_key = quoted(key, key + size);
      if (quoted_key != Outcome::Ok) return quoted_key;
      out_->put(':');
      Outcome outcome = value(depth + 1);
      if (outcome != Outcome::Ok) return outcome;
    }
    out_->put('}');
    return Outcome::Ok;
  }

  Sink* out_;
};

// The DOM path, for what the one pass hands back (Outcome::Fallback): decode() and dump().
bool fallback_text(std::string_view bytes, std::string* text) {
  nlohmann::json value;
  if (!decode(bytes, &value)) return false;
  *text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return true;
}

}  // namespace

bool append_json_text(std::string_view bytes, std::string* out) {
  const size_t start = out->size();
  TextBuffer text(out, 2 * bytes.size() + 16);  // JSON text is rarely twice the MessagePack
  Walker walker(bytes, &text);
  Outcome outcome = walker.value(0);
  text.finish();
  if (outcome == Outcome::Ok && walker.at_end()) return true;
  out->resize(start);
  if (outcome == Outcome::Ok || outcome == Outcome::Bad) return false;
  std::string fallback;
  if (!fallback_text(bytes, &fallback)) return false;
  out->append(fallback);
  return true;
}

bool json_text_size(std::string_view bytes, size_t* size) {
  SizeCounter counter;
  Walker walker(bytes, &counter);
  Outcome outcome = walker.value(0);
  if (outcome == Outcome::Ok && walker.at_end()) {
    *size = counter.size();
    return true;
  }
  if (outcome == Outcome::Ok || outcome == Outcome::Bad) return false;
  std::string text;
  if (!fallback_text(bytes, &text)) return false;
  *size = text.size();
  return true;
}

}  // namespace wasm_sandbox::store::msgpack
