/** Finite-difference checks of every op's backward: unseen shapes, odd sizes, broadcasting, masks. */
import { test } from "node:test";
import { Rng, Tensor, indexTensor, ops } from "../../src/tensor/index.ts";
import { gradCheck, randomTensor } from "../helpers.ts";

const rng = new Rng(42);
const t = (shape: number[], scale = 1): Tensor => randomTensor(shape, rng, scale);

test("element-wise arithmetic with broadcasting", () => {
  gradCheck("add", ops.add, [t([2, 3, 4]), t([4])]);
  gradCheck("sub", ops.sub, [t([3, 1]), t([1, 5])]);
  gradCheck("mul", ops.mul, [t([2, 3]), t([2, 1])]);
  gradCheck("div", ops.div, [t([2, 3]), new Tensor(Float32Array.from([1.5, -2, 3]), [3], true)]);
  gradCheck("affine", (x) => ops.affine(x, -1.7, 0.3), [t([5])]);
});

test("activations and unary functions", () => {
  // keep away from relu's kink, where finite differences are meaningless
  const x = new Tensor(Float32Array.from([-2.5, -1.1, -0.4, 0.3, 0.9, 1.8, 3.2]), [7], true);
  for (const f of [ops.relu, ops.gelu, ops.geluTanh, ops.tanh, ops.sigmoid, ops.exp, ops.neg]) gradCheck(f.name || "unary", f, [x]);
  const pos = new Tensor(Float32Array.from([0.5, 1.2, 3.3]), [3], true);
  gradCheck("log", ops.log, [pos]);
  gradCheck("sqrt", ops.sqrt, [pos]);
});

test("matmul in every transpose combination, batched and broadcast", () => {
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      const a = t(transA ? [2, 5, 3] : [2, 3, 5]);
      const b = t(transB ? [2, 4, 5] : [2, 5, 4]);
      gradCheck(`matmul ${transA} ${transB}`, (x, y) => ops.matmul(x, y, { transA, transB }), [a, b]);
      const b2 = t(transB ? [4, 5] : [5, 4]);
      gradCheck(`matmul broadcast B ${transA} ${transB}`, (x, y) => ops.matmul(x, y, { transA, transB }), [a, b2]);
      const a2 = t(transA ? [5, 3] : [3, 5]);
      gradCheck(`matmul broadcast A ${transA} ${transB}`, (x, y) => ops.matmul(x, y, { transA, transB }), [a2, b]);
    }
  }
});

test("linear with and without bias", () => {
  gradCheck("linear", ops.linear, [t([2, 3, 5]), t([4, 5]), t([4])]);
  gradCheck("linear no bias", (x, w) => ops.linear(x, w, null), [t([3, 5]), t([2, 5])]);
});

test("layout ops", () => {
  gradCheck("reshape", (x) => ops.reshape(x, [3, -1]), [t([2, 3, 2])]);
  gradCheck("permute", (x) => ops.permute(x, [2, 0, 1]), [t([2, 3, 4])]);
  gradCheck("transpose", (x) => ops.transpose(x, 0, -1), [t([3, 2])]);
  gradCheck("narrow", (x) => ops.narrow(x, 1, 1, 2), [t([2, 4, 3])]);
  gradCheck("select", (x) => ops.select(x, 1, 0), [t([2, 3, 2])]);
  gradCheck("concat", (a, b) => ops.concat([a, b], 1), [t([2, 1, 3]), t([2, 2, 3])]);
});

test("reductions", () => {
  gradCheck("sum all", (x) => ops.sum(x), [t([3, 4])]);
  gradCheck("sum axis", (x) => ops.sum(x, 1, true), [t([2, 3, 4])]);
  gradCheck("mean axis", (x) => ops.mean(x, -1), [t([2, 5])]);
  gradCheck("max axis", (x) => ops.max(x, 0), [new Tensor(Float32Array.from([1, 5, -2, 3, 0.5, 4]), [2, 3], true)]);
});

test("softmax, log-softmax, LayerNorm", () => {
  gradCheck("softmax", ops.softmax, [t([3, 7], 2)]);
  gradCheck("logSoftmax", ops.logSoftmax, [t([3, 7], 2)]);
  gradCheck("layerNorm", (x, g, b) => ops.layerNorm(x, g, b, 1e-5), [t([4, 9]), t([9]), t([9])]);
  gradCheck("layerNorm no affine", (x) => ops.layerNorm(x, null, null, 1e-12), [t([2, 6])]);
});

test("embedding and masked fill", () => {
  const ids = indexTensor([3, 0, 3, 1, 4], [5]);
  gradCheck("embedding", (w) => ops.embedding(w, ids), [t([6, 3])]);
  const mask = { shape: [1, 4], data: Uint8Array.from([0, 1, 0, 0]) };
  gradCheck("maskedFill", (x) => ops.maskedFill(x, mask, 0.5), [t([3, 4])]);
});

test("fused attention with padding, causality, an additive mask and n_q ≠ n_k", () => {
  const q = t([2, 3, 4, 5]);
  const k = t([2, 3, 6, 5]);
  const v = t([2, 3, 6, 7]);
  const keyMask = { shape: [2, 6], data: Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]) };
  const additive = t([1, 3, 4, 6]);
  gradCheck("attention", (a, b, c, m) => ops.scaledDotProductAttention(a, b, c, { keyMask, additiveMask: m, scale: 0.37 }).output, [q, k, v, additive]);
  const qs = t([1, 2, 5, 3]);
  const ks = t([1, 2, 5, 3]);
  const vs = t([1, 2, 5, 3]);
  gradCheck("causal attention", (a, b, c) => ops.scaledDotProductAttention(a, b, c, { causal: true }).output, [qs, ks, vs]);
});

test("dropout passes gradients through the kept elements only", () => {
  const x = t([50]);
  gradCheck("dropout", (a) => ops.dropout(a, 0.3, new Rng(5)), [x]);
});
