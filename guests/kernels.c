// Benchmark kernels: small, classic workloads with different shapes (calls, tight loops,
// memory traffic, floating point, branches, parsing, interpretation). Each `run_*(n)` does work
// proportional to n and returns a checksum, so the work cannot be optimized away. Built both
// for wasm32 (guests/kernels.wasm) and natively (tests compare the two, benchmarks time them).
#include "kernels.h"

#define EXPORT __attribute__((visibility("default")))

typedef unsigned int u32;
typedef unsigned long long u64;

// Freestanding wasm: the compiler turns fill and copy loops into memset and memcpy calls, so
// they are provided (volatile, so that they are not turned into calls to themselves). Native
// builds use libc's.
#ifdef __wasm__
void* memset(void* dest, int c, unsigned long n) {
  volatile unsigned char* p = dest;
  while (n--) *p++ = (unsigned char)c;
  return dest;
}
void* memcpy(void* dest, const void* src, unsigned long n) {
  volatile unsigned char* d = dest;
  const unsigned char* s = src;
  while (n--) *d++ = *s++;
  return dest;
}
#endif

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

// Compression: run-length plus back-references (a toy LZ77) over n bytes of repetitive text;
// returns the compressed size mixed with a checksum of the output.
static unsigned char text[1 << 18];
static unsigned char packed[(1 << 18) * 2];
EXPORT u32 run_compress(int n) {
  if (n > (int)sizeof text) n = sizeof text;
  static const char words[] = "the quick brown fox jumps over the lazy dog while wasm runs ";
  u32 x = 7;
  for (int i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    text[i] = (x >> 28) == 0 ? (unsigned char)(x >> 20) : (unsigned char)words[i % 60];
  }
  int out = 0;
  for (int i = 0; i < n;) {
    int best_len = 0, best_dist = 0;
    for (int dist = 1; dist <= 64 && dist <= i; ++dist) {
      int len = 0;
      while (i + len < n && len < 255 && text[i + len] == text[i + len - dist]) ++len;
      if (len > best_len) {
        best_len = len;
        best_dist = dist;
      }
    }
    if (best_len >= 4) {
      packed[out++] = 0;
      packed[out++] = (unsigned char)best_dist;
      packed[out++] = (unsigned char)best_len;
      i += best_len;
    } else {
      packed[out++] = text[i++];
    }
  }
  u32 sum = 0;
  for (int i = 0; i < out; ++i) sum = sum * 31 + packed[i];
  return sum ^ (u32)out;
}

// A parser: generates n arithmetic expressions as text and evaluates each by recursive
// descent.
static const char* cursor;
// Values wrap (unsigned arithmetic), so that no expression is undefined behaviour in C.
static u32 parse_sum(void);
static u32 parse_atom(void) {
  if (*cursor == '(') {
    ++cursor;
    const u32 v = parse_sum();
    ++cursor;  // ')'
    return v;
  }
  u32 v = 0;
  while (*cursor >= '0' && *cursor <= '9') v = v * 10 + (u32)(*cursor++ - '0');
  return v;
}
static u32 parse_product(void) {
  u32 v = parse_atom();
  while (*cursor == '*') {
    ++cursor;
    v *= parse_atom();
  }
  return v;
}
static u32 parse_sum(void) {
  u32 v = parse_product();
  while (*cursor == '+' || *cursor == '-') {
    const char op = *cursor++;
    const u32 w = parse_product();
    v = op == '+' ? v + w : v - w;
  }
  return v;
}
static char expr_buf[256];
EXPORT u32 run_parse(int n) {
  u32 x = 99;
  u32 total = 0;
  for (int e = 0; e < n; ++e) {
    int len = 0, depth = 0;
    for (int term = 0; term < 12; ++term) {
      x = x * 1664525u + 1013904223u;
      if ((x >> 29) == 0 && depth < 4) {
        expr_buf[len++] = '(';
        ++depth;
      }
      const int value = (int)(x >> 24) % 100;
      if (value >= 10) expr_buf[len++] = (char)('0' + value / 10);
      expr_buf[len++] = (char)('0' + value % 10);
      if ((x >> 27 & 3) == 0 && depth > 0) {
        expr_buf[len++] = ')';
        --depth;
      }
      if (term < 11) expr_buf[len++] = "+-*+"[x >> 12 & 3];
    }
    while (depth-- > 0) expr_buf[len++] = ')';
    expr_buf[len] = 0;
    cursor = expr_buf;
    total += parse_sum();
  }
  return total;
}

// A bytecode interpreter: a small stack machine runs a loop summing i*i mod 7 for n steps.
enum { OP_PUSH, OP_LOAD, OP_STORE, OP_ADD, OP_MUL, OP_MOD, OP_LT, OP_JZ, OP_JMP, OP_HALT };
EXPORT int run_interp(int n) {
  // vars: 0 = i, 1 = sum, 2 = n
  static const int code[] = {
      OP_LOAD, 0, OP_LOAD, 2, OP_LT, OP_JZ, 29,                    // 0: while (i < n)
      OP_LOAD, 1, OP_LOAD, 0, OP_LOAD, 0, OP_MUL, OP_PUSH, 7,      // 7: sum + i * i % 7
      OP_MOD, OP_ADD, OP_STORE, 1,                                 // 16
      OP_LOAD, 0, OP_PUSH, 1, OP_ADD, OP_STORE, 0, OP_JMP, 0,      // 20: ++i, loop
      OP_HALT};                                                    // 29
  u32 vars[3] = {0, 0, (u32)n};
  u32 stack[16];
  int sp = 0, pc = 0;
  for (;;) {
    switch (code[pc++]) {
      case OP_PUSH: stack[sp++] = (u32)code[pc++]; break;
      case OP_LOAD: stack[sp++] = vars[code[pc++]]; break;
      case OP_STORE: vars[code[pc++]] = stack[--sp]; break;
      case OP_ADD: --sp; stack[sp - 1] += stack[sp]; break;
      case OP_MUL: --sp; stack[sp - 1] *= stack[sp]; break;
      case OP_MOD: --sp; stack[sp - 1] %= stack[sp]; break;
      case OP_LT: --sp; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
      case OP_JZ: if (!stack[--sp]) pc = code[pc]; else ++pc; break;
      case OP_JMP: pc = code[pc]; break;
      default: return (int)vars[1];
    }
  }
}

// Dynamic programming: edit distance between two pseudo-random strings of length n.
static int dp_row[2][4097];
EXPORT int run_edit_distance(int n) {
  if (n > 4096) n = 4096;
  static char a[4096], b[4096];
  u32 x = 5;
  for (int i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    a[i] = (char)('a' + (x >> 16) % 4);
    b[i] = (char)('a' + (x >> 24) % 4);
  }
  for (int j = 0; j <= n; ++j) dp_row[0][j] = j;
  for (int i = 1; i <= n; ++i) {
    int* cur = dp_row[i & 1];
    const int* prev = dp_row[(i - 1) & 1];
    cur[0] = i;
    for (int j = 1; j <= n; ++j) {
      int best = prev[j - 1] + (a[i - 1] != b[j - 1]);
      if (prev[j] + 1 < best) best = prev[j] + 1;
      if (cur[j - 1] + 1 < best) best = cur[j - 1] + 1;
      cur[j] = best;
    }
  }
  return dp_row[n & 1][n];
}

// Graph search: breadth-first search over an n x n grid with pseudo-random walls; returns the
// sum of the distances of every reachable cell from the corner.
#define GRID 1024
static unsigned char wall[GRID * GRID];
static int dist[GRID * GRID];
static int queue[GRID * GRID];
EXPORT u32 run_bfs(int n) {
  if (n > GRID) n = GRID;
  u32 x = 3;
  for (int i = 0; i < n * n; ++i) {
    x = x * 1664525u + 1013904223u;
    wall[i] = (x >> 28) < 3;
    dist[i] = -1;
  }
  wall[0] = 0;
  int head = 0, tail = 0;
  queue[tail++] = 0;
  dist[0] = 0;
  u32 total = 0;
  while (head < tail) {
    const int cell = queue[head++];
    const int r = cell / n, c = cell % n;
    total += (u32)dist[cell];
    const int next[4] = {r > 0 ? cell - n : -1, r < n - 1 ? cell + n : -1,
                         c > 0 ? cell - 1 : -1, c < n - 1 ? cell + 1 : -1};
    for (int k = 0; k < 4; ++k) {
      const int m = next[k];
      if (m >= 0 && !wall[m] && dist[m] < 0) {
        dist[m] = dist[cell] + 1;
        queue[tail++] = m;
      }
    }
  }
  return total;
}

// Floating point: n steps of a five-body gravity simulation; returns the energy, scaled.
EXPORT double run_nbody(int n) {
  double px[5] = {0, 4.84, 8.34, 12.89, 15.37}, py[5] = {0, -1.16, 4.12, -15.11, -25.91};
  double vx[5] = {0, 0.606, -1.01, 1.08, 0.979}, vy[5] = {0, 2.81, 1.82, 0.868, 0.594};
  const double mass[5] = {39.47, 0.037, 0.011, 0.0017, 0.002};
  const double dt = 0.01;
  for (int step = 0; step < n; ++step) {
    for (int i = 0; i < 5; ++i) {
      for (int j = i + 1; j < 5; ++j) {
        const double dx = px[i] - px[j], dy = py[i] - py[j];
        const double d2 = dx * dx + dy * dy + 0.01;
        double inv = 1.0 / d2;
        // d^-3 without sqrt: one Newton step from 1/d2 is close enough for a benchmark.
        const double mag = dt * inv * inv * d2 * (1.5 - 0.5 * d2 * inv * inv * d2);
        vx[i] -= dx * mass[j] * mag;
        vy[i] -= dy * mass[j] * mag;
        vx[j] += dx * mass[i] * mag;
        vy[j] += dy * mass[i] * mag;
      }
    }
    for (int i = 0; i < 5; ++i) {
      px[i] += dt * vx[i];
      py[i] += dt * vy[i];
    }
  }
  double energy = 0;
  for (int i = 0; i < 5; ++i) energy += 0.5 * mass[i] * (vx[i] * vx[i] + vy[i] * vy[i]);
  return energy;
}
