// Content hashes for the artifact cache: BLAKE2b-256 (libsodium's crypto_generichash).
//
// Used to name cached artifacts by what produced them and to detect any change to an artifact's
// bytes. Not a MAC: it proves integrity against accidents and truncation, not against someone
// who can write the file (the cache directory's permissions are what keep those out).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace wasm_sandbox::engine {

using Digest = std::array<uint8_t, 32>;

// Hashes its input incrementally: update() any number of times, then finish() once.
// Not thread-safe; instances are independent. Cheap to construct (no allocation).
class Hasher {
 public:
  Hasher();
  Hasher& update(std::span<const uint8_t> bytes);
  Hasher& update(std::string_view text);
  // The digest of everything passed to update(). REQUIRES: called at most once.
  Digest finish();

 private:
  // libsodium's crypto_generichash_state, kept opaque so that users of this header do not
  // need libsodium's headers (hash.cc checks the size and alignment).
  alignas(64) unsigned char state_[384];
};

// BLAKE2b-256 of `bytes` in one call.
Digest blake2b(std::span<const uint8_t> bytes);
Digest blake2b(std::string_view text);

// 64 lowercase hex digits.
std::string to_hex(const Digest& digest);

}  // namespace wasm_sandbox::engine
