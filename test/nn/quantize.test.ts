/** The int8 scheme in the library: the quantization math on hand-computed examples, Linear's int8 path, quantizeDynamic. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { referenceBackend as ref } from "../../src/backend/reference/index.ts";
import { ConfigError } from "../../src/errors.ts";
import { EncoderClassifier } from "../../src/models/classifier.ts";
import { Linear } from "../../src/nn/linear.ts";
import { encoderConfig } from "../../src/nn/model.ts";
import { ModuleList } from "../../src/nn/module.ts";
import { dequantize, isQuantized, linearsOf, quantizeDynamic, quantizeRowsU7, quantizeWeight, roundHalfEven } from "../../src/nn/quantize.ts";
import { noGrad } from "../../src/tensor/autograd.ts";
import { Rng, indexTensor, tensor } from "../../src/tensor/index.ts";
import { randomTensor } from "../helpers.ts";

test("roundHalfEven rounds halves to the even neighbour, as f32.nearest and ONNX Round", () => {
  assert.deepEqual([2.5, 3.5, -2.5, -3.5, 0.5, -0.5, 1.4999, 1.5001, 7].map(roundHalfEven), [2, 4, -2, -4, 0, -0, 1, 2, 7]);
});

test("quantizeWeight: per output row, symmetric, scale = max|W| / 127, half to even, column sums", () => {
  const w = tensor([
    127, -63.5, 1.25, 0, // max 127: scale 1; −63.5 → −64 (even), 1.25 → 1
    254, 1, -3, 5, // max 254: scale 2; 0.5 → 0, −1.5 → −2, 2.5 → 2
    0, 0, 0, 0, // all zero: scale 1
  ], [3, 4]);
  const q = quantizeWeight(w);
  assert.deepEqual([...q.values], [127, -64, 1, 0, 127, 0, -2, 2, 0, 0, 0, 0]);
  assert.deepEqual([...q.scales], [1, 2, 1]);
  assert.deepEqual([...q.columnSums], [64, 127, 0]);
  assert.equal(q.outFeatures, 3);
  assert.equal(q.inFeatures, 4);
  assert.throws(() => quantizeWeight(tensor([1, 2, 3], [3])), /must be \(out, in\), got \[3\]/);
});

test("quantizeRowsU7: per row, [lo, hi] holds 0, 7-bit values, zero point rounded half to even", () => {
  const x = new Float32Array([
    -127, 0, 254, // lo −127, hi 254: scale 3; zero point round(42.33) = 42; 254/3 = 84.67 → 85 + 42 → 127
    127, 63.5, 0, // lo 0: scale 1, zero point 0; 63.5 → 64 (even)
    -127, -1.5, -0.5, // hi 0: scale 1, zero point 127; −1.5 → −2, −0.5 → −0
    0, 0, 0, // all zero: scale 1
  ]);
  const q = quantizeRowsU7(x, 4, 3);
  assert.deepEqual([...q.scales], [3, 1, 1, 1]);
  assert.deepEqual([...q.zeroPoints], [42, 0, 127, 0]);
  assert.deepEqual([...q.values], [0, 42, 127, 127, 64, 0, 0, 125, 127, 0, 0, 0]);
});

test("the int8 product is the hand-computed sum and epilogue", () => {
  // x row [−127, 0, 254]: values [0, 42, 127], scale 3, zero point 42; W row [127, −63.5, 1.25]: [127, −64, 1], scale 1, sum 64
  const w = quantizeWeight(tensor([127, -63.5, 1.25], [1, 3]));
  const out = new Float32Array(1);
  ref.matmulInt8(new Float32Array([-127, 0, 254]), w, new Float32Array([0.5]), out, 1);
  const acc = 0 * 127 + 42 * -64 + 127 * 1 - 42 * 64; // = −5249
  assert.equal(out[0], Math.fround(acc * 3 * 1 + 0.5));
});

test("Linear.quantized: forward runs int8 under noGrad, equals the backend's int8 product, and throws while recording", () => {
  const rng = new Rng(3);
  const lin = new Linear(24, 10, { rng });
  const x = randomTensor([2, 5, 24], rng, 1, false);
  const fp32 = noGrad(() => lin.forward(x));
  lin.quantized = quantizeWeight(lin.weight);
  const int8 = noGrad(() => lin.forward(x));
  assert.deepEqual(int8.shape, [2, 5, 10]);
  const expected = new Float32Array(100);
  ref.matmulInt8(x.data, lin.quantized, lin.bias!.data, expected, 10);
  assert.deepEqual([...int8.data], [...expected]);
  let worst = 0;
  for (let i = 0; i < 100; i++) worst = Math.max(worst, Math.abs(int8.data[i] - fp32.data[i]));
  assert.ok(worst > 0 && worst < 0.05, `int8 differs from float32 by ${worst}`);
  assert.throws(() => lin.forward(x), (e: Error) => e instanceof ConfigError && /quantized to int8 .* gradients are being recorded/.test(e.message));
  assert.throws(() => noGrad(() => lin.forward(randomTensor([3, 7], rng, 1, false))), /input \[3, 7\] has last axis 7, the weight expects 24/);
});

test("quantizeDynamic quantizes every Linear of a model once; isQuantized and dequantize", () => {
  const config = encoderConfig({ vocabSize: 50, dModel: 16, heads: 2, dFF: 32, numLayers: 2 });
  const model = new EncoderClassifier({ encoder: config, pooling: "mean", labels: ["a", "b", "c"] });
  const ids = indexTensor([5, 17, 42, 0, 9, 3, 0, 0], [2, 4]);
  const before = noGrad(() => model.forward(ids).logits);
  assert.equal(isQuantized(model), false);
  const summary = quantizeDynamic(model);
  assert.equal(summary.linears, 2 * 6 + 1); // per layer Q, K, V, W_O and the FFN's two; the classifier
  const weights = 2 * (4 * 16 * 16 + 2 * 16 * 32) + 16 * 3;
  assert.equal(summary.parameters, weights);
  // The bytes the summary reports are those of the arrays it made and of the float32 weights they stand for.
  const linears = [...model.encoder.layers.items.flatMap((l) => [l.selfAttn.qProj, l.selfAttn.kProj, l.selfAttn.vProj, l.selfAttn.outProj, l.ffn.linear1, l.ffn.linear2]), model.classifier];
  assert.equal(new Set(linears).size, summary.linears);
  assert.equal(summary.int8Bytes, linears.reduce((n, l) => n + l.quantized!.values.byteLength, 0));
  assert.equal(summary.float32Bytes, linears.reduce((n, l) => n + l.weight.data.byteLength, 0));
  assert.equal(summary.int8Bytes, weights);
  assert.equal(summary.float32Bytes, 4 * weights);
  assert.equal(isQuantized(model), true);
  const after = noGrad(() => model.forward(ids).logits);
  assert.notDeepEqual([...after.data], [...before.data]);
  for (let i = 0; i < before.size; i++) assert.ok(Math.abs(after.data[i] - before.data[i]) < 0.05, `logit ${i}: ${after.data[i]} vs ${before.data[i]}`);
  dequantize(model);
  assert.equal(isQuantized(model), false);
  assert.deepEqual([...noGrad(() => model.forward(ids).logits).data], [...before.data]);
});

test("linearsOf lists every Linear of a tree once, a layer registered under two parents included", () => {
  const shared = new Linear(3, 2);
  const model = new ModuleList([new ModuleList([shared, new Linear(2, 2)]), new ModuleList([shared])]);
  const found = linearsOf(model);
  assert.equal(found.length, 2);
  assert.equal(found[0], shared);
  const summary = quantizeDynamic(model);
  assert.equal(summary.linears, 2);
  assert.equal(summary.parameters, 3 * 2 + 2 * 2);
  assert.equal(summary.int8Bytes, 10);
  assert.equal(summary.float32Bytes, 40);
});
