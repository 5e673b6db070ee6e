// Benchmark kernels: small, classic workloads with different shapes (calls, tight loops,
// memory traffic, floating point, branches). Each `run_*(n)` does work proportional to n and
// returns a checksum, so the work cannot be optimized away.
#define EXPORT __attribute__((visibility("default")))

typedef unsigned int u32;
typedef unsigned long long u64;

// Freestanding: the compiler turns fill loops into memset calls, so one is provided (volatile,
// so that it is not turned into a call to itself).
void* memset(void* dest, int c, unsigned long n) {
  volatile unsigned char* p = dest;
  while (n--) *p++ = (unsigned char)c;
  return dest;
}

// Calls: a function entry per unit of work.
static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
EXPORT int run_fib(int n) { return fib(n); }

// Tight integer loop.
EXPORT u64 run_lcg(int n) {
  u64 x = 1;
  for (int i = 0; i < n; ++i) x = x * 6364136223846793005ull + 1442695040888963407ull;
  return x;
}

// Memory: sieve of Eratosthenes over n bytes.
static unsigned char sieve[1 << 20];
EXPORT int run_sieve(int n) {
  if (n > (int)sizeof sieve) n = sizeof sieve;
  for (int i = 0; i < n; ++i) sieve[i] = 1;
  int count = 0;
  for (int i = 2; i < n; ++i) {
    if (!sieve[i]) continue;
    ++count;
    for (int j = 2 * i; j < n; j += i) sieve[j] = 0;
  }
  return count;
}

// Floating point: n x n matrix product.
#define MAXN 128
static double a[MAXN * MAXN], b[MAXN * MAXN], c[MAXN * MAXN];
EXPORT double run_matmul(int n) {
  if (n > MAXN) n = MAXN;
  for (int i = 0; i < n * n; ++i) {
    a[i] = (double)(i % 7) * 0.5;
    b[i] = (double)(i % 5) * 0.25;
  }
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double s = 0;
      for (int k = 0; k < n; ++k) s += a[i * n + k] * b[k * n + j];
      c[i * n + j] = s;
    }
  double sum = 0;
  for (int i = 0; i < n * n; ++i) sum += c[i];
  return sum;
}

// Bytes and a lookup table: CRC-32 of n pseudo-random bytes.
static u32 crc_table[256];
EXPORT u32 run_crc32(int n) {
  for (u32 i = 0; i < 256; ++i) {
    u32 r = i;
    for (int k = 0; k < 8; ++k) r = (r >> 1) ^ (0xEDB88320u & (0u - (r & 1)));
    crc_table[i] = r;
  }
  u32 crc = 0xffffffffu, x = 12345;
  for (int i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    crc = crc_table[(crc ^ (x >> 16)) & 0xff] ^ (crc >> 8);
  }
  return ~crc;
}

// Branches and recursion over memory: quicksort of n pseudo-random ints.
static int data[1 << 18];
static void quicksort(int* v, int lo, int hi) {
  while (lo < hi) {
    const int pivot = v[(lo + hi) / 2];
    int i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) ++i;
      while (v[j] > pivot) --j;
      if (i <= j) {
        const int t = v[i];
        v[i++] = v[j];
        v[j--] = t;
      }
    }
    if (j - lo < hi - i) {
      quicksort(v, lo, j);
      lo = i;
    } else {
      quicksort(v, i, hi);
      hi = j;
    }
  }
}
EXPORT int run_sort(int n) {
  if (n > (int)(sizeof data / sizeof *data)) n = sizeof data / sizeof *data;
  u32 x = 42;
  for (int i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    data[i] = (int)(x >> 8);
  }
  quicksort(data, 0, n - 1);
  return data[n / 2];
}
