/**
 * Fused epilogues: a GELU applied inside the product's pass gives exactly the values of the product followed by
 * the separate GELU kernel, on every backend, thread count and split of the product (rows, columns, batch).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Backend, MatmulParams } from "../../src/backend/backend.ts";
import { referenceBackend as ref } from "../../src/backend/reference/index.ts";
import { Rng } from "../../src/tensor/random.ts";
import { THREAD_COUNTS, randomArray, wasmWithThreads } from "./wasm-helpers.ts";

/** m×n×k shapes that split by rows, by columns, and over a batch; ragged against the 4×8 tile. */
const SHAPES = [
  { batch: 1, m: 7, n: 5, k: 3 },
  { batch: 1, m: 300, n: 1030, k: 64 }, // > 4 MFLOP: threaded, row bands
  { batch: 1, m: 9, n: 3000, k: 200 }, // wide: column bands
  { batch: 6, m: 40, n: 72, k: 130 }, // batch split
];

/** C from the fused call and from product-then-GELU, both on `backend`. */
function both(backend: Backend, s: (typeof SHAPES)[number], act: "gelu" | "gelu_tanh", rng: Rng): [Float32Array, Float32Array] {
  const a = randomArray(s.batch * s.m * s.k, rng);
  const b = randomArray(s.n * s.k, rng, 0.2);
  const bias = randomArray(s.n, rng);
  const p: MatmulParams = { batch: s.batch, m: s.m, n: s.n, k: s.k, transA: false, transB: true, strideA: s.m * s.k, strideB: 0, accumulate: false, bias };
  const fused = new Float32Array(s.batch * s.m * s.n);
  backend.matmul(a, b, fused, { ...p, activation: act });
  const plain = new Float32Array(fused.length);
  backend.matmul(a, b, plain, p);
  const separate = new Float32Array(fused.length);
  backend.unary(act, plain, separate);
  return [fused, separate];
}

for (const act of ["gelu", "gelu_tanh"] as const) {
  test(`reference: matmul + ${act} epilogue = matmul, then ${act}`, () => {
    const rng = new Rng(3);
    for (const s of SHAPES.slice(0, 2)) {
      const [fused, separate] = both(ref, s, act, rng);
      assert.deepEqual(fused, separate, `${JSON.stringify(s)}`);
    }
  });
  for (const threads of THREAD_COUNTS) {
    test(`wasm on ${threads} thread(s): matmul + ${act} epilogue = matmul, then ${act}, bit for bit`, async () => {
      const wasm = await wasmWithThreads(threads);
      const rng = new Rng(threads);
      for (const s of SHAPES) {
        const [fused, separate] = both(wasm, s, act, rng);
        assert.deepEqual(fused, separate, `${JSON.stringify(s)}`);
      }
    });
  }
}

test("an epilogue with accumulate is refused on both backends", async () => {
  const wasm = await wasmWithThreads(1);
  const p: MatmulParams = { batch: 1, m: 2, n: 2, k: 2, transA: false, transB: false, strideA: 0, strideB: 0, accumulate: true, activation: "gelu" };
  for (const backend of [ref, wasm]) {
    assert.throws(() => backend.matmul(new Float32Array(4), new Float32Array(4), new Float32Array(4), p), /accumulate and apply an activation/);
  }
});
