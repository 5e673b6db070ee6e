#!/bin/sh
# Writes the seed inputs of the artifact fuzzer to OUT_DIR: real artifacts, made by a build's
# `wasm-sandbox compile` (gcc -O2) from this project's own modules, each as small as a compiled
# module gets (about 17 KB, nearly all of it the shared object):
#   - add:             the add guest; one exported function, no memory;
#   - imports:         fuzz/seeds/imports.wat; an import of every kind and type, re-exported;
#   - segments_fuel:   fuzz/seeds/segments.wat compiled with --fuel; a defined memory and table,
#                      and the fuel instrumentation bit.
# The committed corpus (fuzz/artifact_corpus) started from these; each names the engine build
# that wrote it, which the harness accounts for (see artifact_fuzzer.cc).
#
#   fuzz/seeds/make_artifact_seeds.sh OUT_DIR [BUILD_DIR]
set -eu
out=$1
build=${2:-build}
here=$(dirname "$0")
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The artifact cache stays out of the user's ~/.cache.
export XDG_CACHE_HOME="$tmp/cache"

cli="$build/bin/wasm-sandbox"
"$cli" compile "$build/guests/add.wasm" -o "$out/add.wsa"
wat2wasm "$here/imports.wat" -o "$tmp/imports.wasm"
"$cli" compile "$tmp/imports.wasm" -o "$out/imports.wsa"
wat2wasm "$here/segments.wat" -o "$tmp/segments.wasm"
"$cli" compile --fuel "$tmp/segments.wasm" -o "$out/segments_fuel.wsa"
