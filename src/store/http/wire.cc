// The JSON wire format of a change (wire.h).
#include "store/http/wire.h"

#include <cmath>
#include <cstdio>

#include "store/names.h"

namespace wasm_sandbox::store::wire {
namespace {

using json = nlohmann::json;

// True if JSON text holds `value` exactly: every string and key UTF-8, every number finite,
// no binary.
bool plain(const json& value) {
  switch (value.type()) {
    case json::value_t::string:
      return valid_utf8(value.get_ref<const std::string&>());
    case json::value_t::number_float:
      return std::isfinite(value.get<double>());
    case json::value_t::binary:
      return false;
    case json::value_t::array:
      for (const json& item : value) {
        if (!plain(item)) return false;
      }
      return true;
    case json::value_t::object:
      for (const auto& [key, item] : value.items()) {
        if (!valid_utf8(key) || !plain(item)) return false;
      }
      return true;
    default:
      return true;
  }
}

void append_quoted(std::string_view text, std::string* out) {
  out->push_back('"');
  for (char c : text) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned char>(c));
          *out += escaped;
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

Error bad(std::string_view where, std::string_view key, std::string_view what) {
  return Error(ErrorKind::InvalidArgument,
               std::string(where) + ": field `" + std::string(key) + "` " + std::string(what));
}

}  // namespace

bool valid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    unsigned char low = 0x80, high = 0xbf;  // the range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      length = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      length = 3;
      if (c == 0xe0) low = 0xa0;   // overlong
      if (c == 0xed) high = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      length = 4;
      if (c == 0xf0) low = 0x90;   // overlong
      if (c == 0xf4) high = 0x8f;  // above U+10FFFF
    } else {
      return false;
    }
    if (n - i < length) return false;
    if (s[i + 1] < low || s[i + 1] > high) return false;
    for (size_t k = 2; k < length; ++k) {
      if (s[i + k] < 0x80 || s[i + k] > 0xbf) return false;
    }
    i += length;
  }
  return true;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

bool from_hex(std::string_view hex, std::string* bytes) {
  if (hex.size() % 2 != 0) return false;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  bytes->clear();
  bytes->reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int high = digit(hex[i]), low = digit(hex[i + 1]);
    if (high < 0 || low < 0) return false;
    bytes->push_back(static_cast<char>(high * 16 + low));
  }
  return true;
}

std::string quoted(std::string_view text) {
  std::string out;
  append_quoted(text, &out);
  return out;
}

void append_change(const Change& change, std::string* out) {
  const Nut& nut = change.nut;
  if (valid_utf8(nut.id)) {
    *out += "{\"id\":";
    append_quoted(nut.id, out);
  } else {
    *out += "{\"id_hex\":\"" + to_hex(nut.id) + "\"";
  }
  *out += ",\"version\":" + std::to_string(nut.version);
  *out += ",\"timestamp\":" + std::to_string(nut.timestamp_ns);
  *out += ",\"expiry\":";
  *out += nut.expires_at_ns ? std::to_string(*nut.expires_at_ns) : "null";
  *out += change.deleted ? ",\"deleted\":true" : ",\"deleted\":false";
  *out += ",\"seq\":" + std::to_string(change.seq);
  if (plain(nut.payload)) {
    *out += ",\"payload\":";
    *out += nut.payload.dump(-1, ' ', false, json::error_handler_t::replace);
  } else {
    const std::vector<uint8_t> msgpack = json::to_msgpack(nut.payload);
    *out += ",\"payload_msgpack_hex\":\"";
    *out += to_hex(std::string_view(reinterpret_cast<const char*>(msgpack.data()), msgpack.size()));
    *out += "\"";
  }
  *out += "}";
}

Result<uint64_t> get_uint(const json& value, std::string_view key, std::string_view where) {
  auto found = value.find(key);
  if (found == value.end()) return bad(where, key, "is missing");
  if (!found->is_number_unsigned()) return bad(where, key, "is not an unsigned 64-bit integer");
  return found->get<uint64_t>();
}

Result<std::string> get_string(const json& value, std::string_view key, std::string_view where) {
  auto found = value.find(key);
  if (found == value.end()) return bad(where, key, "is missing");
  if (!found->is_string()) return bad(where, key, "is not a string");
  return found->get<std::string>();
}

Result<Change> parse_change(json value, std::string_view where_index) {
  if (!value.is_object()) {
    return Error(ErrorKind::InvalidArgument, std::string(where_index) + ": not a JSON object");
  }
  Change change;
  Nut& nut = change.nut;
  const bool has_id = value.contains("id"), has_hex = value.contains("id_hex");
  if (has_id == has_hex) return bad(where_index, "id", "or `id_hex`: give exactly one");
  if (has_id) {
    auto id = get_string(value, "id", where_index);
    if (!id.ok()) return std::move(id).error();
    nut.id = std::move(*id);
  } else {
    auto hex = get_string(value, "id_hex", where_index);
    if (!hex.ok()) return std::move(hex).error();
    if (!from_hex(*hex, &nut.id)) return bad(where_index, "id_hex", "is not hex");
  }
  // From here on the message names the nut too.
  const std::string where = std::string(where_index) + " (id " + names::quote(nut.id) + ")";
  auto version = get_uint(value, "version", where);
  if (!version.ok()) return std::move(version).error();
  nut.version = *version;
  auto timestamp = get_uint(value, "timestamp", where);
  if (!timestamp.ok()) return std::move(timestamp).error();
  nut.timestamp_ns = *timestamp;
  auto seq = get_uint(value, "seq", where);
  if (!seq.ok()) return std::move(seq).error();
  if (*seq == 0) return bad(where, "seq", "is 0 (sequence numbers start at 1)");
  change.seq = *seq;

  auto deleted = value.find("deleted");
  if (deleted == value.end()) return bad(where, "deleted", "is missing");
  if (!deleted->is_boolean()) return bad(where, "deleted", "is not true or false");
  change.deleted = deleted->get<bool>();

  auto expiry = value.find("expiry");
  if (expiry == value.end()) return bad(where, "expiry", "is missing");
  if (!expiry->is_null()) {
    if (!expiry->is_number_unsigned()) {
      return bad(where, "expiry", "is neither null nor an unsigned 64-bit integer");
    }
    if (change.deleted) return bad(where, "expiry", "is set on a deleted change");
    nut.expires_at_ns = expiry->get<uint64_t>();
  }

  auto payload = value.find("payload");
  auto packed = value.find("payload_msgpack_hex");
  if ((payload == value.end()) == (packed == value.end())) {
    return bad(where, "payload", "or `payload_msgpack_hex`: give exactly one");
  }
  if (payload != value.end()) {
    nut.payload = std::move(*payload);
  } else {
    std::string bytes;
    if (!packed->is_string() || !from_hex(packed->get_ref<const std::string&>(), &bytes)) {
      return bad(where, "payload_msgpack_hex", "is not a string of hex digits");
    }
    nut.payload = json::from_msgpack(bytes, /*strict=*/true, /*allow_exceptions=*/false);
    if (nut.payload.is_discarded()) {
      return bad(where, "payload_msgpack_hex", "is not one MessagePack value");
    }
  }
  if (change.deleted && !nut.payload.is_null()) {
    return bad(where, "payload", "is not null on a deleted change");
  }
  return change;
}

}  // namespace wasm_sandbox::store::wire
