/** Modules: parameter names, state loading errors, positions, masks and the encoder's structure. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CheckpointError, ShapeError } from "../../src/errors.ts";
import {
  EncoderLayer, Linear, SinusoidalPositionalEncoding, Trace, TransformerEncoderModel, encoderConfig, fromAdditiveMask,
  fromHfAttentionMask, fromTorchKeyPaddingMask, maskFromLengths, toAdditiveMask, toTorchKeyPaddingMask,
} from "../../src/nn/index.ts";
import { Rng, indexTensor, noGrad, ones, ops, tensor } from "../../src/tensor/index.ts";
import { randomTensor } from "../helpers.ts";

test("parameter names follow PyTorch's scheme", () => {
  const layer = new EncoderLayer({ dModel: 8, heads: 2, dFF: 16 });
  assert.deepEqual(layer.namedParameters().map(([n]) => n), [
    "self_attn.q_proj.weight", "self_attn.q_proj.bias", "self_attn.k_proj.weight", "self_attn.k_proj.bias",
    "self_attn.v_proj.weight", "self_attn.v_proj.bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
    "ffn.linear1.weight", "ffn.linear1.bias", "ffn.linear2.weight", "ffn.linear2.bias",
    "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
  ]);
});

test("loadStateDict names a wrong shape with both shapes, and missing or unexpected tensors", () => {
  const lin = new Linear(3, 2);
  const good = { shape: [2, 3], data: new Float32Array(6).fill(1) };
  assert.throws(() => lin.loadStateDict(new Map([["weight", { shape: [3, 2], data: new Float32Array(6) }], ["bias", { shape: [2], data: new Float32Array(2) }]]), { source: "w.safetensors" }),
    (e: Error) => e instanceof ShapeError && e.message === "w.safetensors: tensor 'weight' has shape [3, 2], the model expects [2, 3]");
  assert.throws(() => lin.loadStateDict(new Map([["weight", good]])), (e: Error) => e instanceof CheckpointError && /missing 'bias'/.test(e.message));
  assert.throws(() => lin.loadStateDict(new Map([["weight", good], ["bias", { shape: [2], data: new Float32Array(2) }], ["extra", good]])), /unexpected 'extra'/);
  lin.loadStateDict(new Map([["weight", good]]), { strict: false });
  assert.deepEqual([...lin.weight.data], [1, 1, 1, 1, 1, 1]);
});

test("the sinusoidal table follows the paper's formula, odd widths included", () => {
  const pe = new SinusoidalPositionalEncoding(20, 7);
  const row = pe.forward(20).data.subarray(13 * 7, 14 * 7);
  for (let c = 0; c < 7; c++) {
    const angle = 13 / Math.pow(10000, (c - (c % 2)) / 7);
    assert.ok(Math.abs(row[c] - (c % 2 === 0 ? Math.sin(angle) : Math.cos(angle))) < 1e-6);
  }
  assert.throws(() => pe.forward(21), /exceeds maxPositions 20/);
});

test("mask converters keep one convention: 1 = attend", () => {
  const ours = maskFromLengths([3, 1], 3);
  assert.deepEqual([...ours.data], [1, 1, 1, 1, 0, 0]);
  assert.deepEqual([...fromTorchKeyPaddingMask([false, false, false, false, true, true], [2, 3]).data], [...ours.data]);
  assert.deepEqual([...toTorchKeyPaddingMask(ours)], [0, 0, 0, 0, 1, 1]);
  assert.deepEqual([...fromHfAttentionMask([1, 1, 1, 1, 0, 0], [2, 3]).data], [...ours.data]);
  const additive = toAdditiveMask(ours, -3.4e38);
  assert.deepEqual(additive.shape, [2, 1, 1, 3]);
  assert.deepEqual([...fromAdditiveMask(additive).data], [...ours.data]);
  assert.throws(() => fromHfAttentionMask([1, 2], [1, 2]), /entries must be 0 or 1, found 2 at index 1/);
  assert.throws(() => fromAdditiveMask(tensor([0, -0.5], [1, 2])), /neither 0 nor a masking value/);
});

test("the model records Q07's steps in order and checks its inputs", () => {
  const model = new TransformerEncoderModel(encoderConfig({ vocabSize: 20, dModel: 8, heads: 2, dFF: 16, numLayers: 2, maxPositions: 6, dropout: 0 }), new Rng(1));
  const trace = new Trace();
  const ids = indexTensor([5, 6, 7, 0, 3, 4, 0, 0], [2, 4]);
  const out = model.forward(ids, { attentionMask: maskFromLengths([3, 2], 4), trace });
  assert.equal(out.hiddenStates.length, 3);
  const names = trace.names();
  const order = ["embedding.lookup", "embedding.scaled", "positions", "x0", "encoder.layers.0.self_attn.weights",
    "encoder.layers.0.residual1", "encoder.layers.0.h1", "encoder.layers.0.ffn.act", "encoder.layers.0.residual2",
    "encoder.layers.0.output", "encoder.layers.1.output"];
  const positions = order.map((n) => names.indexOf(n));
  assert.ok(positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1])), `order: ${positions}`);
  assert.throws(() => model.forward(indexTensor([1, 2, 3, 4, 5, 6, 7], [1, 7])), /sequence of 7 tokens exceeds maxPositions 6/);
  assert.throws(() => model.forward(indexTensor([25], [1, 1])), /id 25 at position 0 is outside the vocabulary of 20/);
  assert.throws(() => model.forward(ids, { attentionMask: maskFromLengths([3], 4) }), /attentionMask \[1, 4\] must match ids \[2, 4\]/);
});

test("residual and LayerNorm can be switched off (lab Q07) and dropout is active only in training", () => {
  const rng = new Rng(2);
  const plain = new EncoderLayer({ dModel: 8, heads: 2, dFF: 16, residual: false, layerNorm: false, rng });
  assert.equal(plain.norm1, null);
  const x = randomTensor([1, 3, 8], rng, 1, false);
  const trace = new Trace();
  plain.forward(x, { trace });
  assert.deepEqual([...trace.get("residual1")!.data], [...trace.get("sa_out")!.data]);
  const drop = new EncoderLayer({ dModel: 8, heads: 2, dFF: 16, dropout: 0.5, rng });
  const a = drop.forward(x).output.data;
  const b = drop.forward(x).output.data;
  assert.deepEqual([...a], [...b], "inference is deterministic");
  drop.train();
  const c = drop.forward(x).output.data;
  assert.notDeepEqual([...a], [...c], "training applies dropout");
});

test("post-LN's Add & Norm: one fused pass at inference, the bits of add then LayerNorm that training records", () => {
  const rng = new Rng(3);
  const layer = new EncoderLayer({ dModel: 8, heads: 2, dFF: 16, rng });
  for (const p of [layer.norm1!, layer.norm2!]) {
    p.weight.data.set(randomTensor([8], rng, 1, false).data); // gamma and beta away from 1 and 0
    p.bias.data.set(randomTensor([8], rng, 1, false).data);
  }
  const x = randomTensor([2, 3, 8], rng, 1, true);
  const recorded = layer.forward(x).output; // gradients recorded: add, then LayerNorm, each an autograd op
  const fused = noGrad(() => layer.forward(x).output);
  assert.deepEqual(fused.data, recorded.data);
  recorded.backward(ones(recorded.shape).data);
  assert.ok(x.grad && x.grad.data.some((g) => g !== 0), "the recorded path still backpropagates");
  // a broadcast residual takes the two-op path, with the same result as writing it out
  const r = randomTensor([8], rng, 1, false);
  const h = randomTensor([2, 3, 8], rng, 1, false);
  assert.deepEqual(noGrad(() => layer.norm1!.forwardSum(h, r)).data, noGrad(() => layer.norm1!.forward(ops.add(h, r))).data);
});
