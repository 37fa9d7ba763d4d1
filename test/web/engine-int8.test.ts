/**
 * The explorer's int8 switch in Node, on the shipped default model: the int8 run is the engine's own int8 forward
 * (`quantizeDynamic`), close to float32 (cosine ≥ 0.99) but not equal to it, and switching back gives float32 again,
 * bit for bit; what-if variants are quantized too.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadBertSync } from "../../src/models/load-bert.ts";
import { maskFromLengths } from "../../src/nn/masks.ts";
import { dequantize, isQuantized, quantizeDynamic } from "../../src/nn/quantize.ts";
import { indexTensor, noGrad } from "../../src/tensor/index.ts";
import { BASELINE } from "../../web/src/engine/protocol.ts";
import { explorerModel, runSentence } from "../../web/src/engine/run.ts";

const TEXT = "a gorgeous, witty, seductive movie";
const explorer = explorerModel(loadBertSync("models/default"), "default");
const model = explorer.loaded.model;

test("int8 switch: the engine's int8 forward, near float32 but not equal, and back to float32 bit for bit", () => {
  const fp32 = runSentence(explorer, TEXT, BASELINE);
  assert.equal(fp32.int8, null);
  const int8 = runSentence(explorer, TEXT, BASELINE, true);
  const c = int8.int8;
  assert.ok(c, "an int8 run reports its comparison with float32");
  // Two layers of W_Q, W_K, W_V, W_O and the FFN's two, plus the classifier (mean pooling: no pooler).
  assert.equal(c.matrices, 2 * 6 + 1);
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
  const int8 = runSentence(explorer, TEXT, shared, true);
  // shareQK: W_Q serves as W_K, so five matrices per layer.
  assert.equal(int8.int8?.matrices, 2 * 5 + 1);
  assert.deepEqual(int8.int8?.fp32Probs, fp32.probs);
  assert.notDeepEqual(int8.probs, fp32.probs);
  assert.ok(int8.int8!.cosine >= 0.99, `cosine ${int8.int8!.cosine}`);
});
