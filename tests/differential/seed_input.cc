// splitmix64 (Steele, Lea, Flood 2014): tiny, fully specified, good enough to feed a fuzzer.
#include "seed_input.h"

namespace wasm_sandbox::difftest {
namespace {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

}  // namespace

std::string seed_input(uint64_t seed) {
  SplitMix64 rng(seed);
  const size_t size = kMinInputBytes + rng.next() % (kMaxInputBytes - kMinInputBytes + 1);
  std::string bytes;
  bytes.reserve(size + 8);
  while (bytes.size() < size) {
    const uint64_t word = rng.next();
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>(word >> (8 * i)));
  }
  bytes.resize(size);
  return bytes;
}

}  // namespace wasm_sandbox::difftest
