// The benchmark kernels of guests/kernels.c, as both the wasm exports and the native functions
// of the same source (linked from the native_kernels library), with the sizes the benchmarks
// use. Every kernel takes one i32 and returns a checksum; `native` widens it to 64 bits the way
// the wasm result is read (bits of an i32/i64, or the value of an f64), so the two compare.
#pragma once

#include <cstdint>
#include <cstring>

#include "guests/kernels.h"

namespace wasm_sandbox::bench {

inline uint64_t bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, 8);
  return b;
}

struct Kernel {
  const char* name;         // the export is "run_" + name
  int32_t n;                // sized for tens of milliseconds per call on the baseline tier
  uint64_t (*native)(int);  // the same kernel built natively
};

inline constexpr Kernel kKernels[] = {
    {"fib", 27, [](int n) -> uint64_t { return static_cast<uint32_t>(run_fib(n)); }},
    {"lcg", 20'000'000, [](int n) -> uint64_t { return run_lcg(n); }},
    {"sieve", 1 << 20, [](int n) -> uint64_t { return static_cast<uint32_t>(run_sieve(n)); }},
    {"matmul", 96, [](int n) -> uint64_t { return bits(run_matmul(n)); }},
    {"crc32", 4'000'000, [](int n) -> uint64_t { return run_crc32(n); }},
    {"sort", 200'000, [](int n) -> uint64_t { return static_cast<uint32_t>(run_sort(n)); }},
    {"compress", 200'000, [](int n) -> uint64_t { return run_compress(n); }},
    {"parse", 100'000, [](int n) -> uint64_t { return run_parse(n); }},
    {"interp", 1'000'000, [](int n) -> uint64_t { return static_cast<uint32_t>(run_interp(n)); }},
    {"edit_distance", 1'500,
     [](int n) -> uint64_t { return static_cast<uint32_t>(run_edit_distance(n)); }},
    {"bfs", 1'000, [](int n) -> uint64_t { return run_bfs(n); }},
    {"nbody", 200'000, [](int n) -> uint64_t { return bits(run_nbody(n)); }},
};

}  // namespace wasm_sandbox::bench
