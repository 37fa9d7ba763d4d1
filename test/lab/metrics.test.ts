/** The lab's metric helpers, tasks and chart rendering: small cases with known answers. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { lineChart, renderSvg } from "../../src/lab/charts.ts";
import { diagonalMass, entropy, fitPowerLaw, fmt, headEntropies, meanAttentionMap, meanRowMax, median, rowStats, scoreSymmetry, symmetry, targetMass, variance } from "../../src/lab/metrics.ts";
import { parseQuestionIds } from "../../src/lab/runner.ts";
import { IGNORE, copyPreviousTask, twoRelationTask } from "../../src/lab/tasks.ts";
import { attentionFlops } from "../../src/lab/timing.ts";
import { stepReaching } from "../../src/lab/train.ts";
import { Tensor } from "../../src/tensor/tensor.ts";

/** (1, heads, n, n) attention weights from row-major per-head matrices. */
function weights(perHead: number[][]): Tensor {
  const n = Math.round(Math.sqrt(perHead[0].length));
  return new Tensor(Float32Array.from(perHead.flat()), [1, perHead.length, n, n]);
}

test("entropy: 0 for a one-hot row, ln n for uniform, 0·ln 0 = 0", () => {
  assert.equal(entropy([1, 0, 0]), 0);
  assert.ok(Math.abs(entropy([0.25, 0.25, 0.25, 0.25]) - Math.log(4)) < 1e-12);
  assert.ok(Math.abs(entropy([0.5, 0, 0.5]) - Math.log(2)) < 1e-12);
  const w = weights([[1, 0, 0, 1], [0.5, 0.5, 0.5, 0.5]]);
  const h = headEntropies(w);
  assert.equal(h[0], 0);
  assert.ok(Math.abs(h[1] - Math.log(2)) < 1e-6);
});

test("diagonal mass: 1 for identity attention, 1/n for uniform, padding queries skipped", () => {
  const n = 3;
  const eye = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const uniform = new Array<number>(n * n).fill(1 / n);
  const prev = [1, 0, 0, 1, 0, 0, 0, 1, 0]; // query i looks at max(0, i − 1)
  const w = weights([eye, uniform, prev]);
  const d = diagonalMass(w);
  assert.deepEqual(d.map((x) => Number(x.toFixed(6))), [1, Number((1 / 3).toFixed(6)), Number((1 / 3).toFixed(6))]);
  assert.deepEqual(targetMass(w, (i) => Math.max(0, i - 1)).map((x) => Number(x.toFixed(6))), [Number((1 / 3).toFixed(6)), Number((1 / 3).toFixed(6)), 1]);
  // With query 2 marked as padding, only queries 0 and 1 count: the "prev" head's diagonal is (1 + 0) / 2.
  const real = { shape: [1, 3], data: Uint8Array.from([1, 1, 0]) };
  assert.equal(diagonalMass(w, real)[2], 0.5);
});

test("mean attention map of one head over the first sequences; mean of row maxima", () => {
  // (batch 3, heads 2, 2, 2): head 1 of sequences 0 and 1 averaged; sequence 2 and head 0 left out.
  const w = new Tensor(Float32Array.from([
    9, 9, 9, 9, 1, 0, 0, 1,
    9, 9, 9, 9, 0, 1, 1, 0,
    9, 9, 9, 9, 9, 9, 9, 9,
  ]), [3, 2, 2, 2]);
  assert.deepEqual(meanAttentionMap(w, 1, 2), [0.5, 0.5, 0.5, 0.5]);
  assert.deepEqual(meanAttentionMap(w, 0, 1), [9, 9, 9, 9]);
  assert.equal(meanRowMax(new Tensor(Float32Array.from([0.5, 0.25, 0.25, 0, 1, 0]), [2, 3])), 0.75);
});

test("step reaching a target accuracy: the first such point of the curve, null when none", () => {
  const curve = [{ step: 0, loss: 2, accuracy: 0.1 }, { step: 10, loss: 1, accuracy: 0.92 }, { step: 20, loss: 0.5, accuracy: 0.95 }];
  assert.equal(stepReaching(curve, 0.9), 10);
  assert.equal(stepReaching(curve, 0.99), null);
});

test("symmetry: 1 symmetric, −1 antisymmetric, 0 strictly triangular; shape checked", () => {
  assert.equal(symmetry([1, 2, 2, 3], 2), 1);
  assert.equal(symmetry([0, 1, -1, 0], 2), -1);
  assert.equal(symmetry([0, 1, 0, 0], 2), 0);
  assert.throws(() => symmetry([1, 2, 3], 2), /not a 2×2 matrix/);
  const s = new Tensor(Float32Array.from([1, 2, 2, 3, 0, 1, -1, 0]), [1, 2, 2, 2]);
  assert.equal(scoreSymmetry(s), 0);
});

test("fitted power law recovers exponent and coefficient; bad input is refused", () => {
  const xs = [2, 4, 8, 16, 32];
  const f = fitPowerLaw(xs, xs.map((x) => 3 * x ** 2));
  assert.ok(Math.abs(f.exponent - 2) < 1e-12);
  assert.ok(Math.abs(f.coefficient - 3) < 1e-9);
  assert.ok(Math.abs(f.r2 - 1) < 1e-12);
  const noisy = fitPowerLaw(xs, xs.map((x, i) => x * (i % 2 === 0 ? 1.1 : 0.9)));
  assert.ok(Math.abs(noisy.exponent - 1) < 0.1 && noisy.r2 < 1 && noisy.r2 > 0.9);
  assert.throws(() => fitPowerLaw([1, 2], [0, 1]), /positive/);
  assert.throws(() => fitPowerLaw([1], [1]), /at least two/);
});

test("summary statistics and number formatting", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.equal(variance([1, 2, 8, 2, 16]), 32.16);
  const r = rowStats(new Tensor(Float32Array.from([1, 3, 2, 2]), [2, 2]));
  assert.deepEqual(r, { means: [2, 2], stds: [1, 0] });
  assert.equal(fmt(0.000123), "1.23e-4");
  assert.equal(fmt(-Infinity), "−∞");
  assert.equal(fmt(Number.NaN), "NaN");
  assert.equal(fmt(12.3456), "12.3");
});

test("FLOP counts: heads of d_model/h cost what one head costs; additive scores cost more", () => {
  const base = { batch: 2, n: 16, dModel: 64 };
  const totals = [1, 2, 4, 8].map((h) => attentionFlops({ ...base, heads: h, headDim: 64 / h }).total);
  assert.ok(totals.every((t) => t === totals[0]));
  const dot = attentionFlops({ ...base, heads: 1, headDim: 64 });
  const add = attentionFlops({ ...base, heads: 1, headDim: 64, scoring: "additive" });
  assert.equal(dot.scores, 2 * 2 * 16 * 16 * 64);
  assert.equal(add.scores, 2 * dot.scores);
  assert.equal(attentionFlops({ ...base, heads: 8, headDim: 64 }).total, 8 * dot.total);
});

test("synthetic tasks: targets follow their rules", () => {
  const two = twoRelationTask(4, 5);
  // y_i = 5·x_{i−1 mod 4} + x_{3−i}
  assert.deepEqual(two.targets([1, 2, 3, 4]), [5 * 4 + 4, 5 * 1 + 3, 5 * 2 + 2, 5 * 3 + 1]);
  assert.deepEqual(two.sources(0, 4), [3, 3]);
  const copy = copyPreviousTask(4, 5);
  assert.deepEqual(copy.targets([1, 2, 3, 4]), [IGNORE, 1, 2, 3]);
});

test("question ids: q01…q08, shorthands and all; anything else is an error", () => {
  assert.equal(parseQuestionIds("all").length, 8);
  assert.deepEqual(parseQuestionIds("Q3"), ["q03"]);
  assert.deepEqual(parseQuestionIds("8"), ["q08"]);
  assert.throws(() => parseQuestionIds("q09"), /unknown question "q09"/);
});

test("a chart renders to an SVG with its data marks", async () => {
  const chart = lineChart({ name: "t", title_en: "t", title_zh: "测试", data: [{ x: 1, y: 2 }, { x: 2, y: 3 }], x: "x", y: "y", xTitle: "x", yTitle: "y" });
  const svg = await renderSvg(chart.spec);
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /class="mark-line role-mark[^"]*"[^>]*><path[^>]* d="M/);
});
