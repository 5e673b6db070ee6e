// Guest code with loops, recursion, memory and traps, for tests of the engine end to end.
#define EXPORT __attribute__((visibility("default")))

EXPORT int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

EXPORT unsigned long long lcg(unsigned long long seed, int iterations) {
  for (int i = 0; i < iterations; ++i) seed = seed * 6364136223846793005ull + 1442695040888963407ull;
  return seed;
}

EXPORT int divide(int a, int b) { return a / b; }

static int table[256];
EXPORT int sum_table(int n) {
  for (int i = 0; i < 256; ++i) table[i] = i;
  int s = 0;
  for (int i = 0; i < n && i < 256; ++i) s += table[i];
  return s;
}

// Reads a word at any address: out-of-bounds addresses trap.
EXPORT int peek(int address) { return *(volatile int*)address; }
