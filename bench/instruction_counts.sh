#!/bin/sh
# Instructions executed inside guest calls for each benchmark kernel (bench/kernels.h) with
# no instrumentation, interrupts, fuel, both, and dense memories (bounds checks), counted by callgrind: unlike times on
# a shared machine, the counts repeat exactly. Prints each mode's count relative to "none"
# and the geometric means. Usage: bench/instruction_counts.sh [BUILD_DIR] [baseline|optimized]
# (the tier: the engine's default when not given).
set -eu
build=${1:-build}
if [ -n "${2:-}" ]; then export WASM_SANDBOX_BENCH_TIER="$2"; fi
bench=$build/bin/wasm_sandbox_bench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for kernel in fib lcg sieve matmul crc32 sort compress parse interp edit_distance bfs nbody; do
  for mode in none interrupts fuel both dense; do
    valgrind --tool=callgrind --callgrind-out-file="$out/$kernel.$mode" \
      --toggle-collect='wasm_sandbox::detail::call_guest*' \
      "$bench" --benchmark_filter="^once/$kernel/$mode/" \
      >/dev/null 2>"$out/$kernel.$mode.log"
    printf '%s %s %s\n' "$kernel" "$mode" \
      "$(sed -n 's/.*Collected : //p' "$out/$kernel.$mode.log")" >>"$out/counts"
  done
done
awk '
  { count[$1, $2] = $3; if (!($1 in seen)) { seen[$1] = 1; order[n++] = $1 } }
  END {
    printf "instructions in guest calls relative to no instrumentation (callgrind):\n"
    split("interrupts fuel both dense", modes, " ")
    for (i = 0; i < n; i++) {
      k = order[i]; printf "  %-13s none %.0f", k, count[k, "none"]
      for (m = 1; m <= 4; m++) {
        r = count[k, modes[m]] / count[k, "none"]; printf "  %s %.3f", modes[m], r
        logsum[m] += log(r)
      }
      printf "\n"
    }
    printf "  geomean "
    for (m = 1; m <= 4; m++) printf "  %s %.3f", modes[m], exp(logsum[m] / n)
    printf "\n"
  }' "$out/counts"
