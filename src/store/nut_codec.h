// The on-disk form of a nut's value (store format 2; the key is the nut's id bytes). A
// tombstone (a tossed nut, kept for sync) is a header alone, in the tree's `$dead` database.
//
//   byte 0       flags: bit 0 = an expiry follows; other bits 0 (a reader refuses others)
//   bytes 1..8   version, uint64 little-endian
//   bytes 9..16  timestamp, ns since the Unix epoch, uint64 little-endian
//   bytes 17..24 change sequence number in the tree's feed, uint64 little-endian
//   [8 bytes     expiry, ns since the Unix epoch, uint64 little-endian, if flag bit 0]
//   the rest     the payload as MessagePack (nlohmann::json::to_msgpack)
//
// MessagePack over JSON text: smaller for typical documents and decoded without a text parser
// (see docs/store.md for the measurement).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace wasm_sandbox::store::codec {

inline constexpr uint32_t kFormatVersion = 2;

struct Header {
  uint64_t version = 0;
  uint64_t timestamp_ns = 0;
  uint64_t seq = 0;
  std::optional<uint64_t> expires_at_ns;
};

// Bytes encode_header() writes for `header`: 25, or 33 with an expiry.
size_t header_size(const Header& header);
// Writes header_size(header) bytes at `out`.
void encode_header(const Header& header, char* out);
// Parses the header at the start of `value`; false if `value` is not a format-1 value. On
// success *body is the payload's bytes (pointing into `value`).
bool decode_header(std::string_view value, Header* header, std::string_view* body);
// The payload; false (and *payload untouched) if `body` is not valid MessagePack.
bool decode_payload(std::string_view body, nlohmann::json* payload);

}  // namespace wasm_sandbox::store::codec
