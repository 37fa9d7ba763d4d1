/**
 * The int8 product (issue 13 item 4): the WASM kernels — SIMD128 (`i32x4.dot_i16x8_s`) and relaxed SIMD
 * (`i16x8.relaxed_dot_i8x16_i7x16_s`) builds, on 1 and 2 threads — give the very bits of the reference
 * (src/backend/reference/matmul-int8.ts) on ragged shapes, on both thread splits, and on rows that hit the scheme's
 * edge cases; with a GELU epilogue, the very bits of its own product followed by its own GELU kernel (both
 * backends). Node 20 has relaxed SIMD only behind a V8 flag, set here for this file's process before compiling.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import v8 from "node:v8";
import type { Backend, QuantizedWeight } from "../../src/backend/backend.ts";
import { referenceBackend as ref } from "../../src/backend/reference/index.ts";
import { quantizeWeightData } from "../../src/backend/reference/matmul-int8.ts";
import { type LoadedWasmBackend, detectFeatures } from "../../src/backend/wasm/index.ts";
import { Rng } from "../../src/tensor/random.ts";
import { THREAD_COUNTS, assertNear, randomArray, wasmWithThreads } from "./wasm-helpers.ts";

v8.setFlagsFromString("--experimental-wasm-relaxed-simd"); // must precede compilation; a no-op where it is standard
const relaxedAvailable = detectFeatures().relaxedSimd;

/** Asserts the two arrays hold the same float32 bits everywhere, naming the first difference. */
function assertSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < e.length; i++) {
    if (a[i] !== e[i]) assert.fail(`${what}[${i}]: ${actual[i]} vs reference ${expected[i]}`);
  }
}

/** Runs one product on the reference and on `wasm` and compares bits; returns the threads the kernel used. */
function check(wasm: LoadedWasmBackend, rows: number, k: number, n: number, rng: Rng, withBias: boolean,
  x = randomArray(rows * k, rng, 2)): number {
  const w = quantizeWeightData(randomArray(n * k, rng, 0.1), n, k);
  const bias = withBias ? randomArray(n, rng) : null;
  const expected = new Float32Array(rows * n);
  const actual = new Float32Array(rows * n).fill(Number.NaN);
  ref.matmulInt8(x, w, bias, expected, rows);
  wasm.matmulInt8(x, w, bias, actual, rows);
  const what = `${wasm.simd} ${wasm.threads} thr, rows ${rows} k ${k} n ${n}${withBias ? " + bias" : ""}`;
  assertSameBits(actual, expected, what);
  const again = new Float32Array(rows * n);
  wasm.matmulInt8(x, w, bias, again, rows); // the packed weight now comes from the resident cache
  assertSameBits(again, expected, `${what}, second call`);
  return wasm.lastCallThreads;
}

/** One product's operands (rows × k activations, an n × k int8 weight, a bias) from `seed`. */
function int8Operands(rows: number, k: number, n: number, seed: number): { x: Float32Array; w: QuantizedWeight; bias: Float32Array } {
  const rng = new Rng(seed);
  return { x: randomArray(rows * k, rng, 2), w: quantizeWeightData(randomArray(n * k, rng, 0.1), n, k), bias: randomArray(n, rng) };
}

/**
 * The product with a fused GELU on `backend`, checked to hold the very bits of the same product followed by that
 * backend's `unary` GELU; returns the fused result.
 */
function fusedGelu(backend: Backend, what: string, rows: number, k: number, n: number, act: "gelu" | "gelu_tanh",
  seed: number): Float32Array {
  const { x, w, bias } = int8Operands(rows, k, n, seed);
  const fused = new Float32Array(rows * n).fill(Number.NaN);
  backend.matmulInt8(x, w, bias, fused, rows, act);
  const plain = new Float32Array(rows * n);
  backend.matmulInt8(x, w, bias, plain, rows);
  const separate = new Float32Array(rows * n);
  backend.unary(act, plain, separate);
  assertSameBits(fused, separate, `${what} ${act}, rows ${rows} k ${k} n ${n}`);
  return fused;
}

/** Shapes (rows, k, n) of a fused GELU: ragged, row split (several 64-row blocks), column split. */
const GELU_SHAPES: [number, number, number][] = [[5, 7, 9], [261, 257, 130], [6, 515, 1401]];

for (const act of ["gelu", "gelu_tanh"] as const) {
  test(`matmulInt8 + ${act} epilogue, reference: its product, then its ${act}, bit for bit`, () => {
    for (const [rows, k, n] of GELU_SHAPES) fusedGelu(ref, "reference", rows, k, n, act, rows);
  });
}

// Ragged everywhere: k not a multiple of 4 or 16, rows not a multiple of the 4-row tile, n odd and not a multiple of 8.
const SHAPES: [number, number, number][] = [[1, 1, 1], [5, 7, 9], [13, 33, 17], [4, 16, 8], [67, 100, 130], [3, 384, 385], [130, 257, 47]];

for (const relaxed of [false, true]) {
  for (const threads of THREAD_COUNTS) {
    const name = `${relaxed ? "relaxed SIMD" : "SIMD128"} on ${threads} thread(s)`;
    test(`matmulInt8, ${name}: bit-identical to the reference on ragged shapes`, { skip: relaxed && !relaxedAvailable }, async () => {
      const wasm = await wasmWithThreads(threads, relaxed);
      assert.equal(wasm.simd, relaxed ? "relaxed" : "simd128");
      const rng = new Rng(13);
      for (const [rows, k, n] of SHAPES) {
        for (const withBias of [true, false]) check(wasm, rows, k, n, rng, withBias);
      }
    });

    test(`matmulInt8, ${name}: row split and column split agree with the reference`, { skip: relaxed && !relaxedAvailable }, async () => {
      const wasm = await wasmWithThreads(threads, relaxed);
      const rng = new Rng(14);
      // many rows: split by rows (MC blocks of 64 plus a ragged tile); few rows, wide n: split by columns
      assert.equal(check(wasm, 261, 257, 130, rng, true), threads);
      assert.equal(check(wasm, 6, 515, 1401, rng, true), threads);
    });

    test(`matmulInt8 + GELU epilogue, ${name}: its product, then its GELU kernel, bit for bit; near the reference's`, { skip: relaxed && !relaxedAvailable }, async () => {
      const wasm = await wasmWithThreads(threads, relaxed);
      for (const act of ["gelu", "gelu_tanh"] as const) {
        for (const [rows, k, n] of GELU_SHAPES) {
          const fused = fusedGelu(wasm, `${wasm.simd} ${wasm.threads} thr`, rows, k, n, act, rows);
          const expected = fusedGelu(ref, "reference", rows, k, n, act, rows);
          // the products agree bit for bit (above); the GELU kernels as in test/backend/wasm-rowwise.test.ts
          assertNear(fused, expected, 1e-7, 5e-7, `${wasm.simd} ${wasm.threads} thr ${act} vs reference, rows ${rows} k ${k} n ${n}`);
        }
      }
    });

    test(`matmulInt8, ${name}: rows of zeros, one sign, constants, huge and tiny values`, { skip: relaxed && !relaxedAvailable }, async () => {
      const wasm = await wasmWithThreads(threads, relaxed);
      const rng = new Rng(15);
      const k = 37;
      const rows = [
        new Float32Array(k), // scale 1, zero point 0
        randomArray(k, rng).map(Math.abs), // lo = 0: zero point 0
        randomArray(k, rng).map((v) => -Math.abs(v)), // hi = 0: zero point 127
        new Float32Array(k).fill(-3.25), // one value: it maps to 0, zero to 127
        randomArray(k, rng, 1e30),
        randomArray(k, rng, 1e-30),
        Float32Array.from({ length: k }, (_, i) => (i - 18) / 8), // exact halves: round half to even
      ];
      const x = new Float32Array(rows.length * k);
      rows.forEach((r, i) => x.set(r, i * k));
      check(wasm, rows.length, k, 23, rng, true, x);
    });
  }
}
