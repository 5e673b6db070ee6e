#!/bin/sh
# `make bench-serve`: serves build/guests/add.wasm with `wasm-sandbox serve` on a free port
# and loads it with wrk (bench/serve_call.lua: POST [5,3] to /call/add/add), then prints the
# server's own call latency from /metrics. Usage: serve_bench.sh BUILD_DIR [WRK_ARGS...]
set -eu
build=${1:-build}
shift || true
args=${*:-"-t2 -c64 -d10s"}
dir=$(mktemp -d)
out=$dir/serve.out
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT INT TERM
cp "$build/guests/add.wasm" "$dir/add.wasm"
"$build/bin/wasm-sandbox" serve --modules "$dir" --port 0 --threads 128 >"$out" 2>&1 &
pid=$!
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$out")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$out"; echo "serve did not start" >&2; exit 1; }
url=http://127.0.0.1:$port
curl -sf -X POST -d '[5,3]' "$url/call/add/add" >/dev/null 2>&1 || true
# The server's CPU time (user + system, in clock ticks: fields 14 and 15 of /proc/PID/stat).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
before=$(cpu_ticks)
# shellcheck disable=SC2086
wrk $args --latency -s "$(dirname "$0")/serve_call.lua" "$url"
after=$(cpu_ticks)
calls=$(curl -sf "$url/metrics" | sed -n 's/^wasm_sandbox_calls_total //p')
echo "server: $calls calls; CPU $(( (after - before) * 1000000 / $(getconf CLK_TCK) / (calls > 0 ? calls : 1) )) us per request"
curl -sf "$url/metrics" | grep -E '^wasm_sandbox_http_responses_total' || true
