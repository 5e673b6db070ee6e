#!/bin/sh
# Writes the seed inputs of the load fuzzer to OUT_DIR, from this project's own sources only:
#   - every fuzz/seeds/*.wat, assembled with wat2wasm (with a name section);
#   - the small guest modules of a build (BUILD_DIR/guests: add, math, and one WASI program
#     stripped of its debug sections);
#   - a few modules made by binaryen's wasm-opt --translate-to-fuzz from random bytes, with
#     the WebAssembly 2.0 features the engine supports, plus one with reference types and one
#     with SIMD (which the engine refuses), to seed those paths.
# The committed corpus (fuzz/corpus) started from these; `make fuzz-merge` keeps it minimal.
#
#   fuzz/seeds/make_seeds.sh OUT_DIR [BUILD_DIR]
set -eu
out=$1
build=${2:-build}
here=$(dirname "$0")
mkdir -p "$out"

for wat in "$here"/*.wat; do
  name=$(basename "$wat" .wat)
  wat2wasm --debug-names "$wat" -o "$out/wat_$name.wasm"
done

for guest in add math; do
  cp "$build/guests/$guest.wasm" "$out/guest_$guest.wasm"
done
wasm-strip -o "$out/guest_wordcount.wasm" "$build/guests/wordcount.wasm"

features="--mvp-features --enable-sign-ext --enable-mutable-globals \
  --enable-nontrapping-float-to-int --enable-bulk-memory --enable-multivalue"
random=$(mktemp)
trap 'rm -f "$random"' EXIT
for i in 1 2 3 4 5 6; do
  head -c $((i * 500)) /dev/urandom >"$random"
  # shellcheck disable=SC2086
  wasm-opt "$random" --translate-to-fuzz $features -o "$out/ttf_$i.wasm" 2>/dev/null
done
head -c 1000 /dev/urandom >"$random"
# shellcheck disable=SC2086
wasm-opt "$random" --translate-to-fuzz $features --enable-reference-types \
  -o "$out/ttf_reftypes.wasm" 2>/dev/null
head -c 1000 /dev/urandom >"$random"
# shellcheck disable=SC2086
wasm-opt "$random" --translate-to-fuzz $features --enable-simd -o "$out/ttf_simd.wasm" 2>/dev/null
