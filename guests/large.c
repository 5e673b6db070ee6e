// A large guest for measuring baseline compile time: 5,000 distinct exported functions, about
// 1 MB of wasm, expanded by the preprocessor so that the source stays small. clang needs about
// 25 s for it, so only `make bench` builds it.
typedef unsigned int u32;

static u32 table[256];

#define BODY(n)                                                  \
  __attribute__((visibility("default"))) u32 f##n(u32 x, u32 y) { \
    u32 acc = x ^ (n##u * 2654435761u);                          \
    for (u32 i = 0; i < (y & 15u); ++i) {                        \
      acc = (acc << 5 | acc >> 27) + table[(acc + i) & 255u];    \
      if (acc % (n##u % 7u + 3u) == 1u) acc ^= y * n##u;         \
      else acc += (x >> (n##u & 7u)) | 1u;                       \
    }                                                            \
    switch (acc & 3u) {                                          \
      case 0: table[n##u & 255u] += acc; break;                  \
      case 1: acc = acc / ((y | 1u) + n##u); break;              \
      case 2: acc -= table[(x ^ n##u) & 255u]; break;            \
      default: acc *= 0x9e3779b9u + n##u;                        \
    }                                                            \
    return acc;                                                  \
  }
#define D10(p) BODY(p##0) BODY(p##1) BODY(p##2) BODY(p##3) BODY(p##4) \
               BODY(p##5) BODY(p##6) BODY(p##7) BODY(p##8) BODY(p##9)
#define D100(p) D10(p##0) D10(p##1) D10(p##2) D10(p##3) D10(p##4) \
                D10(p##5) D10(p##6) D10(p##7) D10(p##8) D10(p##9)
#define D1000(p) D100(p##0) D100(p##1) D100(p##2) D100(p##3) D100(p##4) \
                 D100(p##5) D100(p##6) D100(p##7) D100(p##8) D100(p##9)
D1000(1) D1000(2) D1000(3) D1000(4) D1000(5)
