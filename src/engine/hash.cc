// BLAKE2b-256 through libsodium.
#include "engine/hash.h"

#include <sodium.h>

namespace wasm_sandbox::engine {
namespace {

static_assert(sizeof(crypto_generichash_state) <= 384 && alignof(crypto_generichash_state) <= 64,
              "Hasher::state_ must hold a crypto_generichash_state");
static_assert(crypto_generichash_BYTES == 32 && crypto_generichash_BYTES_MIN <= 32);

// sodium_init() picks the fastest implementation for this CPU; it is safe to call from several
// threads and more than once, but a static makes it once per process. Hashing is correct even
// if it failed (the portable implementation stays selected), so the result is not checked.
void ensure_sodium() {
  static const int initialized = sodium_init();
  (void)initialized;
}

crypto_generichash_state* as_state(unsigned char* storage) {
  return reinterpret_cast<crypto_generichash_state*>(storage);
}

}  // namespace

Hasher::Hasher() {
  ensure_sodium();
  crypto_generichash_init(as_state(state_), nullptr, 0, 32);
}

Hasher& Hasher::update(std::span<const uint8_t> bytes) {
  crypto_generichash_update(as_state(state_), bytes.data(), bytes.size());
  return *this;
}

Hasher& Hasher::update(std::string_view text) {
  crypto_generichash_update(as_state(state_), reinterpret_cast<const uint8_t*>(text.data()),
                            text.size());
  return *this;
}

Digest Hasher::finish() {
  Digest digest;
  crypto_generichash_final(as_state(state_), digest.data(), digest.size());
  return digest;
}

Digest blake2b(std::span<const uint8_t> bytes) { return Hasher().update(bytes).finish(); }

Digest blake2b(std::string_view text) { return Hasher().update(text).finish(); }

std::string to_hex(const Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex(digest.size() * 2, '\0');
  for (size_t i = 0; i < digest.size(); ++i) {
    hex[2 * i] = kDigits[digest[i] >> 4];
    hex[2 * i + 1] = kDigits[digest[i] & 0xf];
  }
  return hex;
}

}  // namespace wasm_sandbox::engine
