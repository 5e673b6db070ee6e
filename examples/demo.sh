#!/bin/sh
# `make demo`: the main job on example guests built from guests/*.c.
set -e
BUILD=${1:-build}
CLI="$BUILD/bin/wasm-sandbox"
G="$BUILD/guests"
run() { echo "\$ wasm-sandbox $*"; "$CLI" "$@" || echo "(exit code $?)"; echo; }
run inspect "$G/math.wasm"
run call "$G/add.wasm" add 5 3
run call "$G/math.wasm" fib 25
run call "$G/math.wasm" lcg 1 100000000
run call "$G/math.wasm" divide 7 0
run call "$G/math.wasm" peek 100000000
