/** Multi-head attention beyond the fixtures: odd shapes, fully masked rows, both code paths, the lab switches. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MultiHeadAttention, Trace, maskFromLengths } from "../../src/nn/index.ts";
import { Rng, Tensor, noGrad, ops, tensor } from "../../src/tensor/index.ts";
import { ShapeError, ConfigError } from "../../src/errors.ts";
import { assertClose, gradCheck, randomTensor } from "../helpers.ts";

const rng = new Rng(3);

function runBoth(mha: MultiHeadAttention, x: Tensor, memory: Tensor, mask: ReturnType<typeof maskFromLengths> | null) {
  const fused = mha.forward(x, { memory, attentionMask: mask, needWeights: true });
  const traced = mha.forward(x, { memory, attentionMask: mask, needWeights: true, trace: new Trace() });
  return { fused, traced };
}

test("fused and step-by-step paths agree on odd heads, d_k = 5, n_q ≠ n_k and a row with one real key", () => {
  const mha = new MultiHeadAttention({ dModel: 15, heads: 3, rng });
  const x = randomTensor([2, 4, 15], rng);
  const memory = randomTensor([2, 7, 15], rng);
  const mask = maskFromLengths([7, 1], 7);
  const { fused, traced } = runBoth(mha, x, memory, mask);
  assertClose(fused.output.data, traced.output.data, 1e-6, 1e-5, "output");
  assertClose(fused.weights!.data, traced.weights!.data, 1e-7, 1e-5, "weights");
  // with one real key, every query of row 1 puts probability exactly 1 on it
  const w = fused.weights!;
  for (let h = 0; h < 3; h++) for (let i = 0; i < 4; i++) assert.equal(w.data[((1 * 3 + h) * 4 + i) * 7], 1);
  gradCheck("mha fused", (q, m) => mha.forward(q, { memory: m, attentionMask: mask }).output, [x, memory]);
  gradCheck("mha traced", (q, m) => mha.forward(q, { memory: m, attentionMask: mask, trace: new Trace() }).output, [x, memory]);
});

test("a fully masked query row gives zeros, never NaN, on both paths and in the gradient", () => {
  const mha = new MultiHeadAttention({ dModel: 8, heads: 2, rng });
  const x = randomTensor([2, 3, 8], rng);
  const mask = maskFromLengths([3, 0], 3); // the second sequence is all padding
  for (const trace of [undefined, new Trace()]) {
    const r = mha.forward(x, { attentionMask: mask, needWeights: true, trace });
    assert.ok(r.output.data.every(Number.isFinite));
    const weights = r.weights!.data.subarray(2 * 3 * 3);
    assert.ok(weights.every((p) => p === 0), "masked row has probability 0 everywhere");
    // the output of a fully masked row is W_O·0 + b_O: the bias only
    const row = r.output.data.subarray(3 * 8, 4 * 8);
    assertClose(row, mha.outProj.bias!.data, 0, 0, "masked output row");
    x.grad = null;
    ops.sum(r.output).backward();
    assert.ok(x.grad!.data.every(Number.isFinite));
  }
});

test("padding appended with the mask never changes the real tokens' outputs", () => {
  const mha = new MultiHeadAttention({ dModel: 12, heads: 4, rng });
  const real = randomTensor([1, 5, 12], rng, 1, false);
  const alone = mha.forward(real).output;
  for (const extra of [1, 3, 8]) {
    const padded = new Float32Array((5 + extra) * 12);
    padded.set(real.data);
    for (let i = 5 * 12; i < padded.length; i++) padded[i] = rng.normal() * 10; // garbage at padded positions
    const out = mha.forward(new Tensor(padded, [1, 5 + extra, 12]), { attentionMask: maskFromLengths([5], 5 + extra) }).output;
    assertClose(out.data.subarray(0, 5 * 12), alone.data, 1e-6, 1e-5, `padding ${extra}`);
  }
});

test("the trace records every step with its shape", () => {
  const mha = new MultiHeadAttention({ dModel: 6, heads: 2, rng });
  const trace = new Trace();
  mha.forward(randomTensor([1, 4, 6], rng), { attentionMask: maskFromLengths([3], 4), trace });
  const shapes = Object.fromEntries(trace.names().map((n) => [n, trace.get(n)!.shape.join("x")]));
  assert.deepEqual(shapes, {
    q_proj: "1x4x6", k_proj: "1x4x6", v_proj: "1x4x6", q: "1x2x4x3", k: "1x2x4x3", v: "1x2x4x3",
    scores_raw: "1x2x4x4", scores: "1x2x4x4", scores_masked: "1x2x4x4", weights: "1x2x4x4",
    head_outputs: "1x2x4x3", context: "1x4x6", output: "1x4x6",
  });
  const scaled = trace.get("scores")!.data;
  const raw = trace.get("scores_raw")!.data;
  assertClose(scaled, raw.map((v) => v / Math.sqrt(3)), 1e-6, 1e-5, "÷√d_k");
  assert.equal(trace.get("scores_masked")!.data[3], -Infinity);
});

test("lab switches: shared W_Q/W_K, a chosen head width, no scaling, additive scoring", () => {
  const shared = new MultiHeadAttention({ dModel: 8, heads: 2, shareQK: true, rng });
  assert.equal(shared.kProj, shared.qProj);
  assert.deepEqual(shared.namedParameters().map(([n]) => n).filter((n) => n.startsWith("k_proj")), []);
  const wide = new MultiHeadAttention({ dModel: 8, heads: 4, headDim: 8, rng });
  assert.deepEqual(wide.qProj.weight.shape, [32, 8]);
  assert.deepEqual(wide.outProj.weight.shape, [8, 32]);
  const unscaled = new MultiHeadAttention({ dModel: 8, heads: 2, scale: 1, rng });
  assert.equal(unscaled.scale, 1);
  const additive = new MultiHeadAttention({ dModel: 6, heads: 3, scoring: "additive", rng });
  const x = randomTensor([2, 4, 6], rng);
  const r = additive.forward(x, { attentionMask: maskFromLengths([4, 2], 4), needWeights: true });
  assert.ok(r.weights!.data.every(Number.isFinite));
  gradCheck("additive attention", (a) => additive.forward(a, { attentionMask: maskFromLengths([4, 2], 4) }).output, [x]);
});

test("bad shapes and configurations name what is wrong", () => {
  const mha = new MultiHeadAttention({ dModel: 8, heads: 2, rng });
  assert.throws(() => mha.forward(randomTensor([2, 3, 7], rng)), (e: Error) => e instanceof ShapeError && /query must be \(batch, n, 8\), got \[2, 3, 7\]/.test(e.message));
  assert.throws(() => mha.forward(randomTensor([2, 3, 8], rng), { attentionMask: maskFromLengths([3], 3) }), /key mask must be \[2, 3\], got \[1, 3\]/);
  assert.throws(() => new MultiHeadAttention({ dModel: 10, heads: 3 }), (e: Error) => e instanceof ConfigError && /not divisible by 3 heads/.test(e.message));
});

test("the fused path reads and gates the heads in place (no permutes), in inference and training: the step-by-step path's values and gradients", () => {
  const rng = new Rng(17);
  const mha = new MultiHeadAttention({ dModel: 24, heads: 4, rng });
  const x = randomTensor([3, 7, 24], rng);
  const attentionMask = maskFromLengths([7, 4, 1], 7);
  const gate = tensor([1, 0, 0.5, 2], [4]); // a gate applied in the wrong layout would scale other heads, or not broadcast
  const dOut = randomTensor([3, 7, 24], rng);
  /** A recorded run: the output, the weights, and the gradients of the input, the gate and every parameter. */
  const run = (trace?: Trace): { output: Float32Array; weights: Float32Array; grads: Float32Array[] } => {
    const input = new Tensor(x.data.slice(), x.shape).requireGrad();
    const headGate = new Tensor(gate.data.slice(), gate.shape).requireGrad();
    for (const p of mha.parameters()) p.grad = null;
    const r = mha.forward(input, { attentionMask, headGate, needWeights: true, trace });
    ops.sum(ops.mul(r.output, dOut)).backward();
    return { output: r.output.data, weights: r.weights!.data, grads: [input, headGate, ...mha.parameters()].map((t) => t.grad!.data) };
  };
  const inPlace = run();
  const stepByStep = run(new Trace()); // split heads, separate ops, gate on (batch, heads, n, d), merge
  assertClose(inPlace.output, stepByStep.output, 1e-6, 1e-5, "output");
  assertClose(inPlace.weights, stepByStep.weights, 1e-7, 1e-5, "weights");
  inPlace.grads.forEach((g, i) => assertClose(g, stepByStep.grads[i], 1e-5, 1e-4, `gradient ${i} (0 the input, 1 the gate)`));
  assert.ok(inPlace.grads[1].every((g) => g !== 0), "every head's gate gets a gradient, the closed one's too");
  const inference = noGrad(() => mha.forward(x, { attentionMask, headGate: gate }));
  assert.deepEqual(Array.from(inference.output.data), Array.from(inPlace.output), "inference gives the recorded run's bits");
  const q = randomTensor([2, 5, 3, 4], rng);
  assert.throws(() => noGrad(() => ops.scaledDotProductAttention(q, randomTensor([2, 5, 2, 4], rng), q, { tokenMajor: true })), ShapeError, "K with other heads");
});
