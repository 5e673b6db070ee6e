// Times the benchmark kernels on Node's V8: node v8_kernels.mjs KERNELS.wasm NAME:N ...
// Prints "NAME MEDIAN_MS RESULT" per kernel: after one warm-up call, seven samples of enough
// calls to take at least 20 ms each; the median time per call (as bench/suite_main.cc does).
import { readFileSync } from "node:fs";

const [wasmPath, ...specs] = process.argv.slice(2);
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath));
for (const spec of specs) {
  const [name, n] = spec.split(":");
  const run = instance.exports[`run_${name}`];
  const warm = process.hrtime.bigint();
  let result = run(Number(n));
  const warmMs = Math.max(Number(process.hrtime.bigint() - warm) / 1e6, 1e-3);
  const reps = Math.max(1, Math.ceil(20 / warmMs));
  const times = [];
  for (let i = 0; i < 7; ++i) {
    const start = process.hrtime.bigint();
    for (let r = 0; r < reps; ++r) result = run(Number(n));
    times.push(Number(process.hrtime.bigint() - start) / 1e6 / reps);
  }
  times.sort((a, b) => a - b);
  console.log(`${name} ${times[3]} ${result}`);
}
