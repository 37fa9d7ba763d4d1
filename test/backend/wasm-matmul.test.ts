/** The wasm matmul against the reference: awkward sizes, every transpose/accumulate combination, batch broadcast, 1 and 2 threads. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { MatmulParams } from "../../src/backend/backend.ts";
import { referenceBackend as ref } from "../../src/backend/reference/index.ts";
import { Rng } from "../../src/tensor/random.ts";
import { THREAD_COUNTS, assertNear, randomArray, wasmWithThreads } from "./wasm-helpers.ts";

// (m, n, k): 1s, odd sizes, sizes just off the 4×16 tile and the 128/256/1024 blocks
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 17, 5], [7, 1, 3], [3, 5, 1], [5, 7, 9], [4, 16, 8], [13, 33, 65], [130, 47, 257], [67, 1030, 31],
];

/** Runs one product on both backends from identical inputs and compares C. */
function check(wasmMatmul: typeof ref.matmul, p: MatmulParams, rng: Rng, what: string): void {
  const aSize = p.strideA === 0 ? p.m * p.k : p.batch * p.strideA;
  const bSize = p.strideB === 0 ? p.k * p.n : p.batch * p.strideB;
  const a = randomArray(aSize, rng);
  const b = randomArray(bSize, rng);
  const c0 = randomArray(p.batch * p.m * p.n, rng);
  const expected = c0.slice();
  const actual = c0.slice();
  ref.matmul(a, b, expected, p);
  wasmMatmul(a, b, actual, p);
  // float32 sums of k products of N(0,1) values: error grows like √k
  assertNear(actual, expected, 2e-6 * Math.sqrt(p.k) * 4, 1e-5, what);
}

for (const threads of THREAD_COUNTS) {
  test(`matmul on ${threads} thread(s): every shape × transA × transB × accumulate`, async () => {
    const wasm = await wasmWithThreads(threads);
    const rng = new Rng(11);
    for (const [m, n, k] of SHAPES) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          for (const accumulate of [false, true]) {
            const p = { batch: 1, m, n, k, transA, transB, strideA: 0, strideB: 0, accumulate };
            check((...args) => wasm.matmul(...args), p, rng, `${m}×${n}×${k} tA=${transA} tB=${transB} acc=${accumulate}`);
            const bias = randomArray(n, rng); // a fused Linear bias, with and without accumulation
            check((...args) => wasm.matmul(...args), { ...p, bias }, rng, `${m}×${n}×${k} tA=${transA} tB=${transB} acc=${accumulate} bias`);
          }
        }
      }
    }
  });

  test(`batched matmul on ${threads} thread(s): batch strides, broadcast A or B (stride 0)`, async () => {
    const wasm = await wasmWithThreads(threads);
    const rng = new Rng(12);
    for (const batch of [1, 2, 3, 5]) {
      for (const [m, n, k] of [[5, 7, 9], [33, 20, 17], [96, 96, 128]]) { // the last splits across threads from batch 2
        for (const [sa, sb] of [[m * k, k * n], [0, k * n], [m * k, 0], [m * k + 3, k * n + 5]]) {
          for (const transA of [false, true]) {
            for (const transB of [false, true]) {
              const p = { batch, m, n, k, transA, transB, strideA: sa, strideB: sb, accumulate: batch === 3 };
              check((...args) => wasm.matmul(...args), p, rng, `batch ${batch} ${m}×${n}×${k} strides ${sa},${sb} tA=${transA} tB=${transB}`);
            }
          }
        }
      }
    }
  });

  test(`matmul on ${threads} thread(s): k = 0 gives zeros (or leaves C when accumulating); empty outputs are no-ops`, async () => {
    const wasm = await wasmWithThreads(threads);
    const c = new Float32Array([1, 2, 3, 4, 5, 6]);
    wasm.matmul(new Float32Array(0), new Float32Array(0), c, { batch: 1, m: 2, n: 3, k: 0, transA: false, transB: false, strideA: 0, strideB: 0, accumulate: true });
    assert.deepEqual([...c], [1, 2, 3, 4, 5, 6]);
    wasm.matmul(new Float32Array(0), new Float32Array(0), c, { batch: 1, m: 2, n: 3, k: 0, transA: false, transB: false, strideA: 0, strideB: 0, accumulate: false });
    assert.deepEqual([...c], [0, 0, 0, 0, 0, 0]);
    wasm.matmul(new Float32Array(0), new Float32Array(6), new Float32Array(0), { batch: 1, m: 0, n: 3, k: 2, transA: false, transB: false, strideA: 0, strideB: 0, accumulate: false });
  });
}

test("a large product splits across threads and matches the single-threaded result", async () => {
  const one = await wasmWithThreads(1);
  const two = await wasmWithThreads(2);
  assert.equal(two.threads, 2);
  const rng = new Rng(13);
  // split by rows, by columns (a wide product), by rows again (a tall one)
  for (const [m, n, k] of [[257, 300, 129], [9, 2000, 200], [2000, 9, 200]]) {
    const a = randomArray(m * k, rng);
    const b = randomArray(k * n, rng);
    const c1 = new Float32Array(m * n);
    const c2 = new Float32Array(m * n);
    const p = { batch: 1, m, n, k, transA: false, transB: true, strideA: 0, strideB: 0, accumulate: false };
    one.matmul(a, b, c1, p);
    two.matmul(a, b, c2, p);
    assert.equal(two.lastCallThreads, 2);
    assert.deepEqual(c2, c1, `${m}×${n}×${k}`); // same tiles, same order of summation: bit-identical
  }
});

test("products cut into many units (row bands sharing one packed B, column bands, batches sharing B) give the one-thread bits", async () => {
  const one = await wasmWithThreads(1);
  const two = await wasmWithThreads(2);
  const rng = new Rng(15);
  // (batch, m, n, k, strideB 0?): 8 row bands with B packed once per thread; 4 of them; B over KC (halves); column
  // halves; two matrices sharing B, 4 bands each; 9 matrices (units are whole matrices)
  const cases: [number, number, number, number, boolean][] = [
    [1, 2048, 128, 128, false], [1, 1100, 300, 100, false], [1, 1030, 130, 300, false], [1, 64, 2100, 64, false],
    [2, 700, 96, 64, true], [9, 96, 64, 128, false],
  ];
  for (const [batch, m, n, k, sharedB] of cases) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const activation of [undefined, "gelu"] as const) {
          const a = randomArray(batch * m * k, rng);
          const b = randomArray((sharedB ? 1 : batch) * k * n, rng);
          const bias = activation ? randomArray(n, rng) : undefined;
          const p = { batch, m, n, k, transA, transB, strideA: m * k, strideB: sharedB ? 0 : k * n, accumulate: false, bias, activation };
          const c1 = new Float32Array(batch * m * n);
          const c2 = new Float32Array(batch * m * n);
          const expected = new Float32Array(batch * m * n);
          one.matmul(a, b, c1, p);
          two.matmul(a, b, c2, p);
          const what = `batch ${batch} ${m}×${n}×${k} tA=${transA} tB=${transB} ${activation ?? "none"}`;
          assert.equal(two.lastCallThreads, 2, what);
          assert.deepEqual(c2, c1, what);
          if (!activation) {
            ref.matmul(a, b, expected, p);
            assertNear(c2, expected, 2e-6 * Math.sqrt(k) * 4, 1e-5, what);
          }
        }
      }
    }
  }
});

test("1,000 repeated products of one size do not grow the WASM memory", async () => {
  for (const threads of THREAD_COUNTS) {
    const wasm = await wasmWithThreads(threads);
    const rng = new Rng(14);
    const a = randomArray(160 * 128, rng);
    const b = randomArray(112 * 128, rng);
    const c = new Float32Array(160 * 112);
    // 4.6 MFLOP: above the threading threshold, so the 2-thread backend uses both threads
    const p = { batch: 1, m: 160, n: 112, k: 128, transA: false, transB: true, strideA: 0, strideB: 0, accumulate: false };
    wasm.matmul(a, b, c, p);
    const bytes = wasm.memory.buffer.byteLength;
    for (let i = 0; i < 1000; i++) wasm.matmul(a, b, c, p);
    assert.equal(wasm.lastCallThreads, threads);
    assert.equal(wasm.memory.buffer.byteLength, bytes, `${threads} thread(s)`);
  }
});
