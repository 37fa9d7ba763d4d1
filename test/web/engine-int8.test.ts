/**
 * The explorer's int8 switch in Node, on the shipped default model: the int8 run is the engine's own int8 forward
 * (`quantizeDynamic`), close to float32 (cosine ≥ 0.99) but not equal to it, and switching back gives float32 again,
 * bit for bit; what-if variants are quantized too; the float32 comparison pass runs only when asked for; and a layer's
 * int8 weights are made once while the switch stays on.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadBertSync } from "../../src/models/load-bert.ts";
import { maskFromLengths } from "../../src/nn/masks.ts";
import { dequantize, isQuantized, linearsOf, quantizeDynamic } from "../../src/nn/quantize.ts";
import { indexTensor, noGrad } from "../../src/tensor/index.ts";
import { setInt8, withFloat32 } from "../../web/src/engine/int8.ts";
import { BASELINE } from "../../web/src/engine/protocol.ts";
import { explorerModel, runSentence } from "../../web/src/engine/run.ts";

const TEXT = "a gorgeous, witty, seductive movie";
const explorer = explorerModel(loadBertSync("models/default"), "default");
const model = explorer.loaded.model;
const INT8 = { int8: true, compare: true };

test("int8 switch: the engine's int8 forward, near float32 but not equal, and back to float32 bit for bit", () => {
  const fp32 = runSentence(explorer, TEXT, BASELINE);
  assert.equal(fp32.int8, null);
  const int8 = runSentence(explorer, TEXT, BASELINE, INT8);
  assert.ok(int8.int8, "an int8 run says so");
  // Two layers of W_Q, W_K, W_V, W_O and the FFN's two, plus the classifier (mean pooling: no pooler).
  assert.equal(int8.int8.matrices, 2 * 6 + 1);
  const c = int8.int8.comparison;
  assert.ok(c, "an int8 run asked to compare reports its comparison with float32");
  assert.ok(c.cosine >= 0.99 && c.cosine < 1, `cosine ${c.cosine}`);
  assert.deepEqual(c.fp32Probs, fp32.probs);
  assert.notDeepEqual(int8.probs, fp32.probs);
  assert.ok(Math.abs(int8.probs![0] - fp32.probs![0]) < 0.05, `p changed from ${fp32.probs![0]} to ${int8.probs![0]}`);

  // The same numbers as the model's own forward after quantizeDynamic.
  const n = int8.ids.length;
  dequantize(model);
  quantizeDynamic(model);
  const own = noGrad(() => model.forward(indexTensor(int8.ids, [1, n]), { attentionMask: maskFromLengths([n], n) }));
  dequantize(model);
  // Within float32 rounding: the page's run is traced, so its attention runs as separate ops rather than fused.
  int8.steps.last_hidden_state.data.forEach((v, i) => assert.ok(Math.abs(v - own.lastHiddenState.data[i]) <= 1e-5, `element ${i}: ${v} vs ${own.lastHiddenState.data[i]}`));

  const back = runSentence(explorer, TEXT, BASELINE);
  assert.equal(isQuantized(model), false);
  assert.deepEqual([...back.steps.last_hidden_state.data], [...fp32.steps.last_hidden_state.data]);
  assert.deepEqual(back.probs, fp32.probs);
});

test("int8 switch with a what-if: the variant encoder runs in int8 too", () => {
  const shared = { ...BASELINE, shareQK: true };
  const fp32 = runSentence(explorer, TEXT, shared);
  const int8 = runSentence(explorer, TEXT, shared, INT8);
  // shareQK: W_Q serves as W_K, so five matrices per layer.
  assert.equal(int8.int8?.matrices, 2 * 5 + 1);
  assert.deepEqual(int8.int8?.comparison?.fp32Probs, fp32.probs);
  assert.notDeepEqual(int8.probs, fp32.probs);
  assert.ok(int8.int8!.comparison!.cosine >= 0.99, `cosine ${int8.int8!.comparison!.cosine}`);
  runSentence(explorer, TEXT, shared);
});

test("without compare an int8 run makes no float32 pass, and gives the same int8 numbers", () => {
  const shared = { ...BASELINE, shareQK: true };
  const compared = runSentence(explorer, TEXT, shared, INT8);
  const alone = runSentence(explorer, TEXT, shared, { int8: true });
  assert.equal(alone.int8?.matrices, 2 * 5 + 1);
  assert.equal(alone.int8?.comparison, null, "no comparison was asked for, so none was made");
  assert.deepEqual(alone.probs, compared.probs);
  assert.deepEqual([...alone.steps.last_hidden_state.data], [...compared.steps.last_hidden_state.data]);
  runSentence(explorer, TEXT, BASELINE);
  runSentence(explorer, TEXT, shared);
});

test("the switch quantizes a layer once while it stays on, and float32 passes in between leave its int8 weights", () => {
  const parts = [model.encoder, model.classifier!];
  const counts = parts.map((part) => setInt8(part, true));
  assert.deepEqual(counts, [2 * 6, 1]);
  const linears = parts.flatMap(linearsOf);
  const weights = linears.map((l) => l.quantized);
  assert.ok(weights.every((w) => w !== null));
  const inside = withFloat32(parts, () => linears.map((l) => l.quantized));
  assert.ok(inside.every((w) => w === null), "float32 inside withFloat32");
  parts.forEach((part) => setInt8(part, true));
  assert.ok(linears.every((l, i) => l.quantized === weights[i]), "the same int8 weights: nothing was quantized again");
  // A run with the switch on and a comparison keeps them too.
  runSentence(explorer, TEXT, BASELINE, INT8);
  assert.ok(linears.every((l, i) => l.quantized === weights[i]));
  parts.forEach((part) => setInt8(part, false));
  assert.equal(isQuantized(model), false);
  // withFloat32 puts back what was there, even when its function throws.
  setInt8(model.classifier!, true);
  const before = model.classifier!.quantized;
  assert.throws(() => withFloat32([model.classifier!], () => {
    throw new Error("boom");
  }), /boom/);
  assert.equal(model.classifier!.quantized, before);
  setInt8(model.classifier!, false);
});
