// node run_v8.mjs MODULE.wasm
//
// The V8 half of the differential test: runs a module made by `wasm-opt --translate-to-fuzz`
// exactly as wasm-sandbox-difftest (diff_runner.cc) runs it on our engine, and prints the same
// event lines (the format is documented in events.h; keep the two in step). Like binaryen's
// scripts/fuzz_shell.js it calls every exported function in export order and logs the
// "fuzzing-support" imports, resetting binaryen's hang limit before each call like binaryen's
// execution-results.h; unlike fuzz_shell.js, it passes explicit zero arguments (0, 0n, null) rather
// than none, so f32/f64 parameters get 0 instead of NaN and i64 ones do not throw.
//
// Each line is written synchronously, so a driver that kills a run which hangs still gets every
// line printed before the hang. Exit status: 0 whatever the module did; 2 on bad usage.
import { readFileSync, writeSync } from 'node:fs';

function emit(line) {
  writeSync(1, line + '\n');
}

// --- Export signatures. The JS API does not tell an export's parameter types, and we need them
// to pass zeros of the right type (BigInt for i64) and to know whether a number result is an
// f32, so they are read from the binary: type, import, function and export sections.
const VALTYPES = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128',
                   0x70: 'funcref', 0x6f: 'externref' };

function exportSignatures(bytes) {
  let pos = 8;  // after the magic and version
  const u8 = () => bytes[pos++];
  const u32 = () => {
    let result = 0, shift = 0, b;
    do {
      b = u8();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return result;
  };
  const valtype = () => {
    const b = u8();
    if (!(b in VALTYPES)) throw new Error(`value type 0x${b.toString(16)} not supported`);
    return VALTYPES[b];
  };
  const vec = (item) => Array.from({ length: u32() }, item);
  const name = () => { const n = u32(); pos += n; return bytes.subarray(pos - n, pos); };
  const limits = () => { const flags = u8(); u32(); if (flags & 1) u32(); };

  const types = [], funcs = [], exports = new Map();
  while (pos < bytes.length) {
    const id = u8(), size = u32(), end = pos + size;
    if (id === 1) {
      vec(() => {
        if (u8() !== 0x60) throw new Error('non-function type');
        types.push({ params: vec(valtype), results: vec(valtype) });
      });
    } else if (id === 2) {
      vec(() => {
        name(); name();
        const kind = u8();
        if (kind === 0) funcs.push(types[u32()]);
        else if (kind === 1) { u8(); limits(); }
        else if (kind === 2) limits();
        else if (kind === 3) { valtype(); u8(); }
        else throw new Error(`import kind ${kind} not supported`);
      });
    } else if (id === 3) {
      vec(() => funcs.push(types[u32()]));
    } else if (id === 7) {
      vec(() => {
        const exportName = new TextDecoder().decode(name());
        const kind = u8(), index = u32();
        if (kind === 0) exports.set(exportName, funcs[index]);
      });
    }
    pos = end;
  }
  return exports;
}

// --- Values and traps, spelled as events.h says.
const f32 = new Float32Array(1), f32Bits = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1), f64Bits = new BigUint64Array(f64.buffer);

function valueText(type, v) {
  switch (type) {
    case 'i32': return `i32 ${v | 0}`;
    case 'i64': return `i64 ${BigInt.asIntN(64, v)}`;
    case 'f32':
      if (Number.isNaN(v)) return 'f32 nan';
      f32[0] = v;
      return `f32 0x${f32Bits[0].toString(16).padStart(8, '0')}`;
    case 'f64':
      if (Number.isNaN(v)) return 'f64 nan';
      f64[0] = v;
      return `f64 0x${f64Bits[0].toString(16).padStart(16, '0')}`;
    case 'funcref': return v === null ? 'funcref null' : 'funcref func';
    case 'externref': return v === null ? 'externref null' : 'externref value';
  }
  return 'unknown';
}

function zero(type) {
  if (type === 'i64') return 0n;
  if (type === 'funcref' || type === 'externref') return null;
  return 0;
}

// V8's trap messages, by category. Anything else prints as "other <message>", which never
// matches our side, so a new message shows up as a mismatch rather than being hidden.
const TRAPS = [
  [/^unreachable/, 'unreachable'],
  [/^(divide|remainder) by zero/, 'divide-by-zero'],
  [/^divide result unrepresentable|^float unrepresentable in integer range/, 'overflow'],
  [/out of bounds|^null function or function signature mismatch|^invalid index into function table/,
   'bad-access'],
];

function failureText(e) {
  if (e instanceof RangeError && /call stack size/.test(e.message)) return 'trap stack-exhausted';
  if (e instanceof WebAssembly.RuntimeError) {
    const found = TRAPS.find(([pattern]) => pattern.test(e.message));
    return 'trap ' + (found ? found[1] : 'other ' + e.message);
  }
  if (e instanceof WebAssembly.LinkError) return 'error link error';
  return `error ${e.name}: ${e.message}`;
}

// --- The run.
function log(type) {
  return (v) => emit('log ' + valueText(type, v));
}

function main(path) {
  const bytes = new Uint8Array(readFileSync(path));
  let module;
  try {
    module = new WebAssembly.Module(bytes);
  } catch (e) {
    console.error(e.message);
    emit(e instanceof WebAssembly.CompileError ? 'module invalid' : 'module ' + failureText(e));
    return;
  }
  emit('module ok');
  const imports = {
    'fuzzing-support': {
      'log-i32': log('i32'), 'log-i64': log('i64'), 'log-f32': log('f32'), 'log-f64': log('f64'),
    },
  };
  let instance;
  try {
    instance = new WebAssembly.Instance(module, imports);
  } catch (e) {
    console.error(e.message);
    emit('instantiate ' + failureText(e));
    return;
  }
  emit('instantiate ok');
  const signatures = exportSignatures(bytes);
  const resetHangLimit = instance.exports.hangLimitInitializer;
  for (const { name, kind } of WebAssembly.Module.exports(module)) {
    if (kind !== 'function') continue;
    // The hang limit is reset before each call, as in diff_runner.cc (see there why).
    if (resetHangLimit) {
      try {
        resetHangLimit();
      } catch (e) {
        emit('hang limit reset failed: ' + failureText(e));
      }
    }
    emit('call ' + name);
    const { params, results } = signatures.get(name);
    let value;
    try {
      value = instance.exports[name](...params.map(zero));
    } catch (e) {
      console.error(`${name}: ${e.message}`);
      emit(failureText(e));
      continue;
    }
    const values = results.length === 1 ? [value] : results.length ? Array.from(value) : [];
    emit(['return', ...values.map((v, i) => valueText(results[i], v))].join(' '));
  }
}

if (process.argv.length !== 3) {
  console.error('usage: node run_v8.mjs MODULE.wasm');
  process.exit(2);
}
main(process.argv[2]);
