/* The benchmark kernels of kernels.c, for native callers (the native_kernels library): the
 * tests check the wasm build against them, the benchmarks time them. C and C++. */
#ifndef WASM_SANDBOX_GUESTS_KERNELS_H_
#define WASM_SANDBOX_GUESTS_KERNELS_H_

#ifdef __cplusplus
extern "C" {
#endif

int run_fib(int n);
unsigned long long run_lcg(int n);
int run_sieve(int n);
double run_matmul(int n);
unsigned run_crc32(int n);
int run_sort(int n);
unsigned run_compress(int n);
unsigned run_parse(int n);
int run_interp(int n);
int run_edit_distance(int n);
unsigned run_bfs(int n);
double run_nbody(int n);

#ifdef __cplusplus
}
#endif

#endif /* WASM_SANDBOX_GUESTS_KERNELS_H_ */
