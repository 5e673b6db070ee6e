// Encoding and decoding of nut values (nut_codec.h).
#include "store/nut_codec.h"

#include <endian.h>

#include <cstring>

#include "store/msgpack_reader.h"

namespace wasm_sandbox::store::codec {
namespace {

constexpr uint8_t kHasExpiry = 1;
constexpr size_t kFixedSize = 25;

void put_u64(char* out, uint64_t v) {
  v = htole64(v);
  std::memcpy(out, &v, 8);
}

uint64_t get_u64(const char* in) {
  uint64_t v;
  std::memcpy(&v, in, 8);
  return le64toh(v);
}

}  // namespace

size_t header_size(const Header& header) { return kFixedSize + (header.expires_at_ns ? 8 : 0); }

void encode_header(const Header& header, char* out) {
  out[0] = static_cast<char>(header.expires_at_ns ? kHasExpiry : 0);
  put_u64(out + 1, header.version);
  put_u64(out + 9, header.timestamp_ns);
  put_u64(out + 17, header.seq);
  if (header.expires_at_ns) put_u64(out + kFixedSize, *header.expires_at_ns);
}

bool decode_header(std::string_view value, Header* header, std::string_view* body) {
  if (value.size() < kFixedSize) return false;
  uint8_t flags = static_cast<uint8_t>(value[0]);
  if (flags & ~kHasExpiry) return false;
  header->version = get_u64(value.data() + 1);
  header->timestamp_ns = get_u64(value.data() + 9);
  header->seq = get_u64(value.data() + 17);
  size_t size = kFixedSize;
  header->expires_at_ns.reset();
  if (flags & kHasExpiry) {
    if (value.size() < kFixedSize + 8) return false;
    header->expires_at_ns = get_u64(value.data() + kFixedSize);
    size += 8;
  }
  *body = value.substr(size);
  return true;
}

bool decode_payload(std::string_view body, nlohmann::json* payload) {
  nlohmann::json parsed;
  if (!msgpack::decode(body, &parsed)) return false;
  *payload = std::move(parsed);
  return true;
}

}  // namespace wasm_sandbox::store::codec
