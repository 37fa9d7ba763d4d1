/** The wasm row-wise and element-wise kernels against the reference (LayerNorm, softmax, log-softmax, GELU, erf); the wiring of delegated ops. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { UnaryOp } from "../../src/backend/backend.ts";
import { erf } from "../../src/backend/math.ts";
import { referenceBackend as ref } from "../../src/backend/reference/index.ts";
import { Rng } from "../../src/tensor/random.ts";
import { stridesOf } from "../../src/tensor/shape.ts";
import { THREAD_COUNTS, assertNear, randomArray, wasmWithThreads } from "./wasm-helpers.ts";

// (rows, cols): a single element, odd widths, a long row, enough elements (> 65536) to split across threads
const SHAPES: [number, number][] = [[1, 1], [3, 5], [7, 33], [2, 1027], [600, 129]];

/** Rows of the kinds the PyTorch fixtures have: normal, a 1e3 offset, tiny and large scale, constant. */
function awkwardRows(rows: number, cols: number, rng: Rng): Float32Array {
  const x = randomArray(rows * cols, rng);
  for (let r = 0; r < rows; r++) {
    const kind = r % 5;
    for (let j = 0; j < cols; j++) {
      const i = r * cols + j;
      if (kind === 1) x[i] = 1000 + x[i];
      else if (kind === 2) x[i] *= 1e-3;
      else if (kind === 3) x[i] *= 50;
      else if (kind === 4) x[i] = 0.5;
    }
  }
  return x;
}

for (const threads of THREAD_COUNTS) {
  test(`layerNorm forward on ${threads} thread(s), with and without gamma/beta, eps 1e-5 and 1e-12`, async () => {
    const wasm = await wasmWithThreads(threads);
    const rng = new Rng(31);
    for (const [rows, cols] of SHAPES) {
      for (const eps of [1e-5, 1e-12]) {
        for (const affine of [false, true]) {
          const x = awkwardRows(rows, cols, rng);
          const gamma = affine ? randomArray(cols, rng) : null;
          const beta = affine ? randomArray(cols, rng) : null;
          const expected = [new Float32Array(rows * cols), new Float32Array(rows), new Float32Array(rows)];
          ref.layerNorm(x, gamma, beta, expected[0], expected[1], expected[2], rows, cols, eps);
          const actual = expected.map((a) => new Float32Array(a.length).fill(NaN));
          wasm.layerNorm(x, gamma, beta, actual[0], actual[1], actual[2], rows, cols, eps);
          if (rows * cols > 65536) assert.equal(wasm.lastCallThreads, threads);
          const what = `${rows}×${cols} eps ${eps} affine ${affine}`;
          assertNear(actual[0], expected[0], 2e-6, 2e-6, `${what}: out`);
          assertNear(actual[1], expected[1], 0, 1e-7, `${what}: mean`);
          assertNear(actual[2], expected[2], 0, 2e-6, `${what}: rstd`);
        }
      }
    }
  });

  test(`layerNorm of x + residual on ${threads} thread(s): the bits of binary add then layerNorm, on each backend`, async () => {
    const wasm = await wasmWithThreads(threads);
    const rng = new Rng(32);
    for (const [rows, cols] of SHAPES) {
      const x = awkwardRows(rows, cols, rng);
      const residual = randomArray(rows * cols, rng, 3);
      const gamma = randomArray(cols, rng);
      const beta = randomArray(cols, rng);
      const strides = [cols, 1];
      for (const backend of [ref, wasm]) {
        const sum = new Float32Array(rows * cols);
        backend.binary("add", x, strides, residual, strides, sum, [rows, cols]);
        const expected = [new Float32Array(rows * cols), new Float32Array(rows), new Float32Array(rows)];
        backend.layerNorm(sum, gamma, beta, expected[0], expected[1], expected[2], rows, cols, 1e-5);
        const actual = expected.map((a) => new Float32Array(a.length).fill(NaN));
        backend.layerNorm(x, gamma, beta, actual[0], actual[1], actual[2], rows, cols, 1e-5, residual);
        assert.deepEqual(actual, expected, `${backend === ref ? "reference" : "wasm"} ${rows}×${cols}`);
      }
    }
  });

  test(`layerNorm backward on ${threads} thread(s): dx, and dgamma/dbeta added into what they hold`, async () => {
    const wasm = await wasmWithThreads(threads);
    const rng = new Rng(32);
    for (const [rows, cols] of SHAPES) {
      for (const affine of [false, true]) {
        const x = awkwardRows(rows, cols, rng).map((v) => (v === 0.5 ? v + 1e-3 * rng.normal() : v));
        const gamma = affine ? randomArray(cols, rng) : null;
        const mean = new Float32Array(rows);
        const rstd = new Float32Array(rows);
        ref.layerNorm(x, gamma, null, new Float32Array(rows * cols), mean, rstd, rows, cols, 1e-5);
        const dy = randomArray(rows * cols, rng);
        const start = randomArray(cols, rng);
        const expected = [new Float32Array(rows * cols), start.slice(), start.slice()];
        ref.layerNormBackward(x, gamma, mean, rstd, dy, expected[0], expected[1], expected[2], rows, cols);
        const actual = [new Float32Array(rows * cols).fill(NaN), start.slice(), start.slice()];
        wasm.layerNormBackward(x, gamma, mean, rstd, dy, actual[0], actual[1], actual[2], rows, cols);
        const what = `${rows}×${cols} affine ${affine}`;
        assertNear(actual[0], expected[0], 1e-4, 1e-4, `${what}: dx`); // rstd up to ~1e3 on the tiny-scale rows
        assertNear(actual[1], expected[1], 1e-5, 1e-5, `${what}: dgamma`);
        assertNear(actual[2], expected[2], 1e-5, 1e-5, `${what}: dbeta`);
        const dbeta = start.slice();
        wasm.layerNormBackward(x, gamma, mean, rstd, dy, null, null, dbeta, rows, cols);
        assertNear(dbeta, expected[2], 1e-5, 1e-5, `${what}: dbeta alone`);
      }
    }
  });

  test(`softmax and log-softmax on ${threads} thread(s): large magnitudes, −∞ entries, all −∞ rows, NaN rows`, async () => {
    const wasm = await wasmWithThreads(threads);
    const rng = new Rng(33);
    for (const [rows, cols] of SHAPES) {
      const x = awkwardRows(rows, cols, rng);
      for (let i = 0; i < x.length; i += 3) x[i] = -Infinity;
      if (rows > 2) x.fill(-Infinity, 2 * cols, 3 * cols); // row 2 entirely masked
      if (rows > 4) { // row 3 all NaN; row 4 masked but for a NaN in the scalar tail: NaN rows, not masked ones
        x.fill(Number.NaN, 3 * cols, 4 * cols);
        x.fill(-Infinity, 4 * cols, 5 * cols);
        x[5 * cols - 1] = Number.NaN;
      }
      for (const op of ["softmax", "logSoftmax"] as const) {
        const expected = new Float32Array(x.length);
        ref[op](x, expected, rows, cols);
        const actual = new Float32Array(x.length).fill(NaN);
        wasm[op](x, actual, rows, cols);
        assertNear(actual, expected, 1e-7, 2e-6, `${op} ${rows}×${cols}`);
        const dy = randomArray(x.length, rng);
        const backward = op === "softmax" ? "softmaxBackward" : "logSoftmaxBackward";
        const dxExpected = new Float32Array(x.length);
        ref[backward](expected, dy, dxExpected, rows, cols);
        const dxActual = new Float32Array(x.length).fill(NaN);
        wasm[backward](expected, dy, dxActual, rows, cols);
        assertNear(dxActual, dxExpected, 1e-6, 1e-5, `${backward} ${rows}×${cols}`);
      }
    }
  });

  test(`GELU (exact and tanh) and their derivatives on ${threads} thread(s), over [−10, 10] and odd lengths`, async () => {
    const wasm = await wasmWithThreads(threads);
    const rng = new Rng(34);
    const grid = new Float32Array(80001).map((_, i) => -10 + i / 4000); // > 65536 elements: threaded
    for (const x of [grid, randomArray(33333, rng, 3), randomArray(5, rng), new Float32Array([0, -0, Infinity])]) {
      for (const op of ["gelu", "gelu_tanh"] as const) {
        const expected = new Float32Array(x.length);
        ref.unary(op, x, expected);
        const actual = new Float32Array(x.length).fill(NaN);
        wasm.unary(op, x, actual);
        // 1e-7 absolute: in the far left tail the double-precision reference itself cancels (1 + erf(x/√2))
        assertNear(actual, expected, 1e-7, 5e-7, `${op} n=${x.length}`);
        const dy = randomArray(x.length, rng);
        const dxExpected = new Float32Array(x.length);
        ref.unaryBackward(op, x, expected, dy, dxExpected);
        const dxActual = new Float32Array(x.length).fill(NaN);
        wasm.unaryBackward(op, x, expected, dy, dxActual);
        assertNear(dxActual, dxExpected, 1e-6, 1e-6, `${op} backward n=${x.length}`);
      }
    }
  });
}

test("the float32 erf is within 3e-7 relative of math.ts's erf on [−10, 10]", async () => {
  const wasm = await wasmWithThreads(1);
  const x = new Float32Array(200001).map((_, i) => -10 + i / 10000);
  const actual = wasm.erf(x);
  assertNear(actual, Array.from(x, erf), 0, 3e-7, "erf");
  assert.equal(wasm.erf(new Float32Array([0]))[0], 0);
});

/**
 * Wiring only: these ops have no WASM kernel, the wasm backend hands them to the reference kernels, so equal
 * results are expected by construction. What the test checks is the hand-over: every delegated op is reached
 * with its arguments in order (x and y, strides, shapes, argmax, the accumulating output), including inputs
 * above the 4,096-element switch that still stay in TypeScript (broadcasts, permutes that move the last axis).
 */
test("the delegated ops reach the reference kernels with their arguments intact (wiring only)", async () => {
  const wasm = await wasmWithThreads(2);
  const rng = new Rng(35);
  for (const n of [60, 6000]) {
    const x = randomArray(n, rng);
    const y = randomArray(n, rng);
    const out = (length = n): [Float32Array, Float32Array] => [new Float32Array(length), new Float32Array(length)];
    for (const op of ["relu", "tanh", "sigmoid", "exp", "log", "neg", "sqrt", "abs"] as UnaryOp[]) {
      const [e, a] = out();
      ref.unary(op, x, e);
      wasm.unary(op, x, a);
      assert.deepEqual(a, e, op);
      ref.unaryBackward(op, x, e, y, e);
      wasm.unaryBackward(op, x, a, y, a);
      assert.deepEqual(a, e, `${op} backward`);
    }
    const [e, a] = out();
    ref.affine(x, 3, -1, e);
    wasm.affine(x, 3, -1, a);
    assert.deepEqual(a, e, "affine");
    const cols = 10;
    const rows = n / cols;
    ref.binary("sub", x, [cols, 1], y, [0, 1], e, [rows, cols]);
    wasm.binary("sub", x, [cols, 1], y, [0, 1], a, [rows, cols]);
    assert.deepEqual(a, e, "broadcast binary");
    const mask = Uint8Array.from({ length: cols }, (_, j) => j % 3 === 0 ? 1 : 0);
    ref.maskedFill(x, mask, [0, 1], -7, e, [rows, cols]);
    wasm.maskedFill(x, mask, [0, 1], -7, a, [rows, cols]);
    assert.deepEqual(a, e, "maskedFill");
    ref.permute(x, [3, n / 15, 5], [2, 0, 1], e);
    wasm.permute(x, [3, n / 15, 5], [2, 0, 1], a);
    assert.deepEqual(a, e, "permute moving the last axis");
    const [se, sa] = out(cols);
    ref.sumTo(x, [rows, cols], se, [1, cols]);
    wasm.sumTo(x, [rows, cols], sa, [1, cols]);
    assert.deepEqual(sa, se, "sumTo");
    for (const op of ["sum", "max"] as const) {
      const [re, ra] = out(rows);
      const [ie, ia] = [new Int32Array(rows), new Int32Array(rows)];
      ref.reduce(op, x, rows, cols, 1, re, ie);
      wasm.reduce(op, x, rows, cols, 1, ra, ia);
      assert.deepEqual([ra, ia], [re, ie], `reduce ${op}`);
    }
    const ids = Int32Array.from({ length: rows }, (_, i) => (i * 7) % 4);
    const [ge, ga] = out();
    ref.gather(x, cols, ids, ge);
    wasm.gather(x, cols, ids, ga);
    assert.deepEqual(ga, ge, "gather");
    const [te, ta] = [y.slice(0, 4 * cols), y.slice(0, 4 * cols)]; // scatterAdd adds into what the table holds
    ref.scatterAdd(x, cols, ids, te);
    wasm.scatterAdd(x, cols, ids, ta);
    assert.deepEqual(ta, te, "scatterAdd");
  }
});

for (const threads of THREAD_COUNTS) {
  test(`same-shape binary ops and last-axis-keeping permutes in WASM on ${threads} thread(s): the reference's bits`, async () => {
    const wasm = await wasmWithThreads(threads);
    const rng = new Rng(36);
    // sizes around the 4,096-element switch to WASM and above the 131,072-element threading threshold
    for (const shape of [[4095], [64, 64], [3, 7, 5, 41], [8, 128, 12, 32], [2, 300, 7, 33]]) {
      const n = shape.reduce((p, q) => p * q, 1);
      const strides = stridesOf(shape);
      const x = randomArray(n, rng);
      const y = randomArray(n, rng);
      x[0] = Number.NaN;
      x[n - 1] = Infinity;
      y[1] = 0; // x / 0 = ±Infinity
      for (const op of ["add", "sub", "mul", "div"] as const) {
        const [e, a] = [new Float32Array(n), new Float32Array(n)];
        ref.binary(op, x, strides, y, strides, e, shape);
        wasm.binary(op, x, strides, y, strides, a, shape);
        assert.deepEqual(a, e, `${op} ${shape.join("×")}`);
      }
      const rank = shape.length;
      // every order of the leading axes, the last kept; plus one that moves the last axis (the JavaScript path)
      const leads = rank === 1 ? [[]] : rank === 2 ? [[0]] : [[1, 0, ...range(2, rank - 1)], [...range(1, rank - 1), 0], range(0, rank - 1).reverse()];
      for (const lead of [...leads.map((l) => [...l, rank - 1]), range(0, rank).reverse()]) {
        const [e, a] = [new Float32Array(n), new Float32Array(n)];
        ref.permute(x, shape, lead, e);
        wasm.permute(x, shape, lead, a);
        assert.deepEqual(a, e, `permute ${shape.join("×")} by [${lead.join(", ")}]`);
      }
    }
  });
}

/** [from, from + 1, …, to − 1]. */
function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

for (const threads of THREAD_COUNTS) {
  test(`column sums (reduce over a middle axis, sumTo over leading axes) on ${threads} thread(s) are bit-identical to the reference`, async () => {
    const wasm = await wasmWithThreads(threads);
    const rng = new Rng(47);
    // (outer, axis, inner): whole 16-column blocks, a ragged tail, fewer blocks than threads, several outers
    for (const [outer, axis, inner] of [[1, 2048, 128], [1, 300, 37], [3, 200, 16], [5, 129, 70], [1, 4100, 17]]) {
      const x = randomArray(outer * axis * inner, rng, 3);
      const expected = new Float32Array(outer * inner);
      const actual = new Float32Array(outer * inner).fill(Number.NaN);
      ref.reduce("sum", x, outer, axis, inner, expected, null);
      wasm.reduce("sum", x, outer, axis, inner, actual, null);
      assert.deepEqual(actual, expected, `reduce sum (${outer}, ${axis}, ${inner})`);
    }
    // sumTo: a bias gradient [b, s, d] → [d], a broadcast over the batch [b, s, d] → [1, s, d], and a shape kept
    // in JS (a middle axis reduced) that must still agree
    for (const [xShape, outShape] of [[[8, 64, 48], [48]], [[8, 64, 48], [1, 64, 48]], [[8, 64, 48], [8, 1, 48]]]) {
      const n = xShape.reduce((p, q) => p * q, 1);
      const m = outShape.reduce((p, q) => p * q, 1);
      const x = randomArray(n, rng);
      const expected = new Float32Array(m);
      const actual = new Float32Array(m).fill(Number.NaN);
      ref.sumTo(x, xShape, expected, outShape);
      wasm.sumTo(x, xShape, actual, outShape);
      assert.deepEqual(actual, expected, `sumTo ${xShape} → ${outShape}`);
    }
  });
}

for (const threads of THREAD_COUNTS) {
  test(`broadcasting binary ops along rows on ${threads} thread(s) equal the reference`, async () => {
    const wasm = await wasmWithThreads(threads);
    const rng = new Rng(53);
    const [b, s, d] = [6, 50, 37];
    const shape = [b, s, d];
    const x = randomArray(b * s * d, rng);
    // (b's own shape, its strides in the output): a row over the batch (positions), a per-row value (a mask
    // column), a bias; and a per-row value on the left
    const cases: [number[], number[], boolean][] = [
      [[s, d], [0, d, 1], false], [[b, s, 1], [s, 1, 0], false], [[d], [0, 0, 1], false], [[b, s, 1], [s, 1, 0], true],
    ];
    for (const [bShape, bStrides, swap] of cases) {
      const y = randomArray(bShape.reduce((p, q) => p * q, 1), rng);
      for (const op of ["add", "sub", "mul", "div"] as const) {
        const expected = new Float32Array(x.length);
        const actual = new Float32Array(x.length).fill(Number.NaN);
        const args = swap ? [y, bStrides, x, stridesOf(shape)] as const : [x, stridesOf(shape), y, bStrides] as const;
        ref.binary(op, args[0], args[1], args[2], args[3], expected, shape);
        wasm.binary(op, args[0], args[1], args[2], args[3], actual, shape);
        assert.deepEqual(actual, expected, `${op} with ${swap ? "a" : "b"} of shape ${bShape}`);
      }
    }
  });
}

for (const threads of THREAD_COUNTS) {
  test(`affine, and gather / scatterAdd on a table in WASM memory, on ${threads} thread(s) are bit-identical to the reference`, async () => {
    const wasm = await wasmWithThreads(threads);
    const rng = new Rng(59);
    const x = randomArray(5003, rng, 10);
    const [e, a] = [new Float32Array(x.length), new Float32Array(x.length).fill(Number.NaN)];
    ref.affine(x, Math.sqrt(128), -0.3, e);
    wasm.affine(x, Math.sqrt(128), -0.3, a);
    assert.deepEqual(a, e, "affine (multiplied and added in double, rounded once)");
    const [vocab, cols, rows] = [300, 36, 700];
    const table = wasm.allocate(vocab * cols); // resident, as a parameter is
    table.set(randomArray(vocab * cols, rng));
    const ids = Int32Array.from({ length: rows }, (_, i) => (i * 37) % vocab ? (i * 37) % vocab : 7); // repeats
    const [ge, ga] = [new Float32Array(rows * cols), new Float32Array(rows * cols).fill(Number.NaN)];
    ref.gather(table, cols, ids, ge);
    wasm.gather(table, cols, ids, ga);
    assert.deepEqual(ga, ge, "gather");
    const dOut = randomArray(rows * cols, rng);
    const start = randomArray(vocab * cols, rng);
    const dTable = wasm.allocate(vocab * cols);
    dTable.set(start);
    const expected = start.slice();
    ref.scatterAdd(dOut, cols, ids, expected);
    wasm.scatterAdd(dOut, cols, ids, dTable);
    assert.deepEqual(Float32Array.from(dTable), expected, "scatterAdd (repeated ids add in row order)");
  });
}

test("firstNonFinite: the first NaN, +∞ or −∞ in WASM memory (SIMD scan) and outside it, as the reference finds it", async () => {
  const wasm = await wasmWithThreads(1);
  for (const n of [0, 1, 15, 16, 17, 100, 1027]) {
    const resident = wasm.allocate(n);
    const outside = new Float32Array(n);
    const rng = new Rng(n);
    resident.set(randomArray(n, rng, 1e30));
    outside.set(resident);
    for (const array of [resident, outside]) {
      assert.equal(wasm.firstNonFinite(array), -1, `n ${n}: all finite`);
      assert.equal(ref.firstNonFinite(array), -1);
    }
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const at of new Set([0, n >> 1, n - 1, Math.min(n - 1, 31)].filter((i) => i >= 0 && i < n))) {
        for (const array of [resident, outside]) {
          const keep = array[at];
          array[at] = bad;
          if (at + 3 < n) array[at + 3] = bad; // a later bad value in the same 16-float step must not win
          assert.equal(wasm.firstNonFinite(array), at, `n ${n}, ${bad} at ${at}`);
          assert.equal(ref.firstNonFinite(array), at);
          array[at] = keep;
          if (at + 3 < n) array[at + 3] = 0;
        }
      }
    }
  }
  const view = wasm.allocate(40).subarray(8, 30); // an offset view of WASM memory: indices are the view's
  view[17] = NaN;
  assert.equal(wasm.firstNonFinite(view), 17);
});
