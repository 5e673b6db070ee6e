// Field paths (field_path.h); the MessagePack walk follows github.com/msgpack/msgpack spec.md.
#include "store/field_path.h"

#include <cstdint>

#include "store/msgpack_reader.h"

namespace wasm_sandbox::store::field_path {
namespace {

Error bad_field(std::string_view field, const std::string& why) {
  return Error(ErrorKind::InvalidArgument, "field `" + std::string(field) + "`: " + why);
}

// One MessagePack item's head: what it is and how far its own bytes reach (not its children).
struct Head {
  enum Kind { Scalar, String, Array, Map } kind = Scalar;
  uint64_t count = 0;          // Array: elements; Map: pairs
  std::string_view text = {};  // String: the bytes
};

class Walker {
 public:
  Walker(const uint8_t* p, const uint8_t* end) : p_(p), end_(end) {}
  const uint8_t* position() const { return p_; }

  // Reads one head and steps over its own bytes (a string's too); false when corrupt.
  bool head(Head* h) {
    if (p_ == end_) return false;
    const uint8_t tag = *p_++;
    h->kind = Head::Scalar;
    if (tag <= 0x7f || tag >= 0xe0 || tag == 0xc0 || tag == 0xc2 || tag == 0xc3) return true;
    if (tag >= 0xa0 && tag <= 0xbf) return string(tag & 0x1f, h);
    if (tag >= 0x90 && tag <= 0x9f) return container(Head::Array, tag & 0x0f, h);
    if (tag >= 0x80 && tag <= 0x8f) return container(Head::Map, tag & 0x0f, h);
    uint64_t n;
    switch (tag) {
      case 0xca:
        return skip(4);
      case 0xcb:
        return skip(8);
      case 0xcc:
      case 0xcd:
      case 0xce:
      case 0xcf:
        return skip(size_t{1} << (tag - 0xcc));
      case 0xd0:
      case 0xd1:
      case 0xd2:
      case 0xd3:
        return skip(size_t{1} << (tag - 0xd0));
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        return skip(1 + (size_t{1} << (tag - 0xd4)));
      case 0xd9:
      case 0xda:
      case 0xdb:
        return uint(size_t{1} << (tag - 0xd9), &n) && string(n, h);
      case 0xc4:
      case 0xc5:
      case 0xc6:
        return uint(size_t{1} << (tag - 0xc4), &n) && skip(n);
      case 0xc7:
      case 0xc8:
      case 0xc9:
        return uint(size_t{1} << (tag - 0xc7), &n) && skip(n + 1);
      case 0xdc:
      case 0xdd:
        return uint(tag == 0xdc ? 2 : 4, &n) && container(Head::Array, n, h);
      case 0xde:
      case 0xdf:
        return uint(tag == 0xde ? 2 : 4, &n) && container(Head::Map, n, h);
      default:
        return false;  // 0xc1: never used
    }
  }

  // Steps over one whole value, children included (no recursion: a count of items left).
  bool skip_value() {
    uint64_t pending = 1;
    Head h;
    while (pending > 0) {
      if (!head(&h)) return false;
      --pending;
      // Every item takes at least one byte, so counts are bounded by the bytes left.
      if (h.kind == Head::Array) pending += h.count;
      if (h.kind == Head::Map) pending += 2 * h.count;
      if (pending > static_cast<uint64_t>(end_ - p_)) return false;
    }
    return true;
  }

 private:
  bool skip(uint64_t n) {
    if (static_cast<uint64_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }
  bool uint(size_t size, uint64_t* n) {
    if (static_cast<size_t>(end_ - p_) < size) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < size; ++i) v = (v << 8) | p_[i];
    p_ += size;
    *n = v;
    return true;
  }
  bool string(uint64_t n, Head* h) {
    const uint8_t* start = p_;
    if (!skip(n)) return false;
    h->kind = Head::String;
    h->text = std::string_view(reinterpret_cast<const char*>(start), n);
    return true;
  }
  bool container(Head::Kind kind, uint64_t n, Head* h) {
    if (n > static_cast<uint64_t>(end_ - p_)) return false;
    h->kind = kind;
    h->count = n;
    return true;
  }

  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace

long long array_index(std::string_view segment) {
  if (segment.empty() || segment.size() > 18 || (segment.size() > 1 && segment[0] == '0')) {
    return -1;
  }
  long long n = 0;
  for (char c : segment) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

Result<Path> parse(std::string_view field) {
  if (field.empty()) return bad_field(field, "empty field path");
  Path path;
  if (field[0] == '/') {
    // RFC 6901: "/a/b", "~0" is '~' and "~1" is '/'.
    std::string segment;
    for (size_t i = 1; i <= field.size(); ++i) {
      if (i == field.size() || field[i] == '/') {
        path.segments.push_back(std::move(segment));
        segment.clear();
      } else if (field[i] == '~') {
        if (i + 1 < field.size() && (field[i + 1] == '0' || field[i + 1] == '1')) {
          segment += field[++i] == '0' ? '~' : '/';
        } else {
          return bad_field(field, "`~` not followed by 0 or 1 at byte " + std::to_string(i));
        }
      } else {
        segment += field[i];
      }
    }
    return path;
  }
  size_t start = 0;
  for (size_t i = 0; i <= field.size(); ++i) {
    if (i < field.size() && field[i] != '.') continue;
    if (i == start) return bad_field(field, "empty segment at byte " + std::to_string(i));
    path.segments.emplace_back(field.substr(start, i - start));
    start = i + 1;
  }
  return path;
}

std::string canonical(const Path& path) {
  bool dotted = !path.segments.front().starts_with('/');
  for (const std::string& s : path.segments) {
    dotted = dotted && !s.empty() && s.find('.') == std::string::npos;
  }
  std::string out;
  for (const std::string& s : path.segments) {
    if (dotted) {
      if (!out.empty()) out += '.';
      out += s;
      continue;
    }
    out += '/';
    for (char c : s) {
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else {
        out += c;
      }
    }
  }
  return out;
}

const nlohmann::json* find(const nlohmann::json& document, const Path& path) {
  const nlohmann::json* at = &document;
  for (const std::string& segment : path.segments) {
    if (at->is_object()) {
      auto found = at->find(segment);
      if (found == at->end()) return nullptr;
      at = &*found;
    } else if (at->is_array()) {
      long long index = array_index(segment);
      if (index < 0 || static_cast<size_t>(index) >= at->size()) return nullptr;
      at = &(*at)[static_cast<size_t>(index)];
    } else {
      return nullptr;
    }
  }
  return at;
}

Lookup find_msgpack(std::string_view body, const Path& path, std::string_view* value) {
  const auto* begin = reinterpret_cast<const uint8_t*>(body.data());
  const uint8_t* end = begin + body.size();
  const uint8_t* at = begin;  // the start of the current value
  for (const std::string& segment : path.segments) {
    Walker walker(at, end);
    Head head;
    if (!walker.head(&head)) return Lookup::Corrupt;
    if (head.kind == Head::Map) {
      const uint8_t* found = nullptr;
      for (uint64_t i = 0; i < head.count; ++i) {
        Head key;
        if (!walker.head(&key) || key.kind != Head::String) return Lookup::Corrupt;
        const uint8_t* start = walker.position();
        if (!walker.skip_value()) return Lookup::Corrupt;
        if (key.text == segment) found = start;
      }
      if (!found) return Lookup::Absent;
      at = found;
    } else if (head.kind == Head::Array) {
      long long index = array_index(segment);
      if (index < 0 || static_cast<uint64_t>(index) >= head.count) return Lookup::Absent;
      for (long long i = 0; i < index; ++i) {
        if (!walker.skip_value()) return Lookup::Corrupt;
      }
      at = walker.position();
    } else {
      return Lookup::Absent;
    }
  }
  Walker walker(at, end);
  if (!walker.skip_value()) return Lookup::Corrupt;
  *value = std::string_view(reinterpret_cast<const char*>(at),
                            static_cast<size_t>(walker.position() - at));
  return Lookup::Found;
}

bool decode_field(std::string_view body, const Path& path, std::optional<nlohmann::json>* value) {
  value->reset();
  std::string_view bytes;
  switch (find_msgpack(body, path, &bytes)) {
    case Lookup::Absent:
      return true;
    case Lookup::Corrupt:
      return false;
    case Lookup::Found:
      break;
  }
  return msgpack::decode(bytes, &value->emplace());
}

}  // namespace wasm_sandbox::store::field_path
