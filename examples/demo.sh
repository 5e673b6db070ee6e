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

# Safety controls: a call that would run for minutes is stopped by a timeout or by fuel.
run call --timeout 200 "$G/math.wasm" fib 45
run call --fuel 1000000 "$G/math.wasm" lcg 1 100000000

# A WASI program: it sees only the directory granted to it, read-only, as /data.
DATA=$(mktemp -d)
trap 'rm -rf "$DATA"' EXIT
printf 'the quick brown fox\njumps over the lazy dog\n' > "$DATA/words.txt"
run run --dir "$DATA::/data:ro" "$G/checksum.wasm" -- /data/words.txt
echo "\$ $G/native/checksum $DATA/words.txt   (the same source, built natively)"
"$G/native/checksum" "$DATA/words.txt"; echo
run run --dir "$DATA::/data:ro" "$G/wordcount.wasm" -- /data/words.txt /etc/passwd
run run --dir "$DATA::/data:ro" "$G/sortfile.wasm" -- -o /data/sorted.txt /data/words.txt

# Strings in and out of a guest (examples/strings.cc, guests/text.c on guests/sdk): no CLI
# command passes strings, so a small C++ host does it through GuestData.
echo "\$ $BUILD/bin/example_strings $G/text.wasm the quick brown fox"
"$BUILD/bin/example_strings" "$G/text.wasm" the quick brown fox

# Guests reach the store through a capability (examples/store_plugin.cc, guests/store_counter.c
# on guests/sdk/wasm_sandbox_store.h): two mods, one tree, a namespace and a quota each.
echo "\$ $BUILD/bin/example_store_plugin $G/store_counter.wasm"
"$BUILD/bin/example_store_plugin" "$G/store_counter.wasm"
