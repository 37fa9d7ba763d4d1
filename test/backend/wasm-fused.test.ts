/**
 * Fused epilogues: a GELU applied inside the product's pass. The reference gives, element by element, the definition
 * computed here independently (the sum in double precision plus the bias, rounded to float32, then the GELU of the
 * notes' formula, rounded); wasm gives exactly the values of its product followed by its separate GELU kernel, on
 * every thread count and split of the product (rows, columns, batch).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Backend, MatmulParams } from "../../src/backend/backend.ts";
import { erf } from "../../src/backend/math.ts";
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

type Shape = (typeof SHAPES)[number];

/** Operands of a product A (batch × m × k) · Bᵀ (B: n × k, shared by the batch) + bias. */
function operands(s: Shape, rng: Rng): { a: Float32Array; b: Float32Array; bias: Float32Array; p: MatmulParams } {
  const a = randomArray(s.batch * s.m * s.k, rng);
  const b = randomArray(s.n * s.k, rng, 0.2);
  const bias = randomArray(s.n, rng);
  const p: MatmulParams = { batch: s.batch, m: s.m, n: s.n, k: s.k, transA: false, transB: true, strideA: s.m * s.k, strideB: 0, accumulate: false, bias };
  return { a, b, bias, p };
}

/** The activations as the papers write them: exact GELU x·Φ(x) (erf form) and the tanh approximation. */
const ACTIVATION = {
  gelu: (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  gelu_tanh: (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
};

/** C from the fused call and from product-then-GELU, both on `backend`. */
function both(backend: Backend, s: Shape, act: "gelu" | "gelu_tanh", rng: Rng): [Float32Array, Float32Array] {
  const { a, b, p } = operands(s, rng);
  const fused = new Float32Array(s.batch * s.m * s.n);
  backend.matmul(a, b, fused, { ...p, activation: act });
  const plain = new Float32Array(fused.length);
  backend.matmul(a, b, plain, p);
  const separate = new Float32Array(fused.length);
  backend.unary(act, plain, separate);
  return [fused, separate];
}

for (const act of ["gelu", "gelu_tanh"] as const) {
  test(`reference: matmul + ${act} epilogue = ${act}(A·Bᵀ + bias), computed here from the definition`, () => {
    const rng = new Rng(3);
    for (const s of SHAPES.slice(0, 2)) {
      const { a, b, bias, p } = operands(s, rng);
      const fused = new Float32Array(s.batch * s.m * s.n);
      ref.matmul(a, b, fused, { ...p, activation: act });
      for (let r = 0; r < s.batch * s.m; r++) {
        for (let j = 0; j < s.n; j++) {
          let dot = 0;
          for (let q = 0; q < s.k; q++) dot += a[r * s.k + q] * b[j * s.k + q];
          const expected = Math.fround(ACTIVATION[act](Math.fround(dot + bias[j])));
          const got = fused[r * s.n + j];
          // one float32 rounding step apart at most: the formulas here and in src/backend/math.ts may differ in the last double bit
          assert.ok(Math.abs(got - expected) <= Math.abs(expected) * 2 ** -23, `${JSON.stringify(s)} [${r}, ${j}]: ${got} vs ${expected}`);
        }
      }
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
