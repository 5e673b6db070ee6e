// Times the benchmark kernels on Node's V8: node v8_kernels.mjs KERNELS.wasm NAME:N ...
// Prints "NAME MEDIAN_MS RESULT" per kernel: after one warm-up call, the median of five.
import { readFileSync } from "node:fs";

const [wasmPath, ...specs] = process.argv.slice(2);
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath));
for (const spec of specs) {
  const [name, n] = spec.split(":");
  const run = instance.exports[`run_${name}`];
  let result = run(Number(n));
  const times = [];
  for (let i = 0; i < 5; ++i) {
    const start = process.hrtime.bigint();
    result = run(Number(n));
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(`${name} ${times[2]} ${result}`);
}
