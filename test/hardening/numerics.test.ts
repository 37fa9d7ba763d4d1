/** Numerics guards: NaN/Inf in weights or inputs named, too-long sequences refused, large batches refused with figures. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ResourceError, ShapeError } from "../../src/errors.ts";
import { Linear, MultiHeadAttention, TransformerEncoderModel, encoderConfig } from "../../src/nn/index.ts";
import { estimateActivationBytes, setMemoryLimit } from "../../src/nn/memory.ts";
import { setFiniteChecks } from "../../src/tensor/checks.ts";
import { Rng, Tensor, indexTensor, noGrad } from "../../src/tensor/index.ts";
import { BertTokenizer } from "../../src/text/wordpiece.ts";

test("NaN or Infinity in loaded weights is refused naming the tensor and element, unless allowed", () => {
  const lin = new Linear(3, 2);
  const weight = new Float32Array(6);
  weight[4] = Number.NaN;
  const state = new Map([["weight", { shape: [2, 3], data: weight }], ["bias", { shape: [2], data: new Float32Array([0, -Infinity]) }]]);
  assert.throws(() => lin.loadStateDict(state, { source: "m.safetensors" }),
    (e: Error) => e instanceof ShapeError && e.message === "m.safetensors: tensor 'weight' contains NaN at [1, 1] (load with allowNonFinite to accept it)");
  lin.loadStateDict(state, { allowNonFinite: true });
  assert.ok(Number.isNaN(lin.weight.data[4]));
  assert.equal(lin.bias!.data[1], -Infinity);
});

test("NaN in a layer input is named; setFiniteChecks(false) lets it through", () => {
  const mha = new MultiHeadAttention({ dModel: 4, heads: 2, rng: new Rng(1) });
  const x = new Tensor(new Float32Array(2 * 3 * 4), [2, 3, 4]);
  x.data[17] = Infinity;
  assert.throws(() => mha.forward(x), (e: Error) => e.message === "attention: query contains Infinity at [1, 1, 1] (setFiniteChecks(false) lets it through)");
  const previous = setFiniteChecks(false);
  try {
    const out = mha.forward(x).output;
    assert.ok(out.data.some((v) => !Number.isFinite(v)), "the Infinity flows through when allowed");
  } finally {
    setFiniteChecks(previous);
  }
});

test("sequences longer than the model's positions are refused; tokenizers truncate only when asked", () => {
  const model = new TransformerEncoderModel(encoderConfig({ vocabSize: 10, dModel: 8, heads: 2, dFF: 8, numLayers: 1, maxPositions: 4 }));
  assert.throws(() => noGrad(() => model.forward(indexTensor([1, 2, 3, 4, 5], [1, 5]))), /sequence of 5 tokens exceeds maxPositions 4/);
  const tokenizer = BertTokenizer.fromVocabFile("models/bert-tiny-sst2-encoder/vocab.txt");
  const text = "the movie was good . ".repeat(10);
  assert.equal(tokenizer.encode(text).inputIds.length, 52, "not cut unless asked");
  const cut = tokenizer.encode(text, null, { maxLength: 8, truncation: "longest_first" }).tokens;
  assert.deepEqual(cut, ["[CLS]", "the", "movie", "was", "good", ".", "the", "[SEP]"]);
});

test("a batch whose activations would exceed the memory limit is refused with the figures", () => {
  const config = encoderConfig({ vocabSize: 10, dModel: 64, heads: 4, dFF: 128, numLayers: 2, maxPositions: 4096 });
  const shape = { batch: 64, n: 4096, dModel: 64, dFF: 128, heads: 4, numLayers: 2, keepsWeights: true, training: true };
  // 2·L·(15·B·n·d + 2·B·n·d_ff + B·h·n²) floats
  assert.equal(estimateActivationBytes(shape), 4 * 2 * 2 * (15 * 64 * 4096 * 64 + 2 * 64 * 4096 * 128 + 64 * 4 * 4096 * 4096));
  const model = new TransformerEncoderModel(config);
  const ids = indexTensor(new Int32Array(64 * 4096).fill(1), [64, 4096]);
  assert.throws(() => model.forward(ids), (e: Error) => e instanceof ResourceError
    && /^a batch of 64 × 4096 tokens needs an estimated 68\.\d GiB of activations for training, over the 4\.0 GiB limit/.test(e.message));
  const previous = setMemoryLimit(1024 ** 2);
  try {
    assert.throws(() => noGrad(() => model.forward(indexTensor(new Int32Array(4 * 512).fill(1), [4, 512]))), /needs an estimated \d+ MiB of activations, over the 1 MiB limit/);
  } finally {
    setMemoryLimit(previous);
  }
});
