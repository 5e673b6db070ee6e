// Deterministic input bytes for `wasm-opt --translate-to-fuzz`, one stream per seed.
//
// The same seed gives the same bytes on every machine and every run (no /dev/urandom, no
// std::random_device, no library PRNG whose sequence may change), so a seed number alone
// reproduces a failing module with the same binaryen version.
#pragma once

#include <cstdint>
#include <string>

namespace wasm_sandbox::difftest {

// Between kMinInputBytes and kMaxInputBytes bytes, the length also drawn from the seed.
// translate-to-fuzz turns more input into more functions; binaryen's own fuzzer averages 40 KiB,
// we stay smaller so a seed costs about 0.15 s on both engines together.
inline constexpr size_t kMinInputBytes = 1024;
inline constexpr size_t kMaxInputBytes = 32 * 1024;

std::string seed_input(uint64_t seed);

}  // namespace wasm_sandbox::difftest
