/**
 * The explanations checked independently of the fixtures: input gradients and head-gate gradients against
 * central finite differences, rollout and relevance against hand-built attention, head masking against zeroing
 * W_O's columns, integrated gradients' completeness, and explainText's choices and errors.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { attentionRollout, gradientAttentionRelevance, normContributions } from "../../src/explain/attention-flow.ts";
import { type ExplainBatch, gradientPass, wordEmbeddingLookup } from "../../src/explain/backprop.ts";
import { explainText, targetClass } from "../../src/explain/explain.ts";
import { HeadImportanceAccumulator, headMaskGates, headsByImportance, parseHeadList, pruningCurve } from "../../src/explain/heads.ts";
import { integratedGradients } from "../../src/explain/input-attribution.ts";
import { tokenizeTexts } from "../../src/models/embeddings.ts";
import { type LoadedBert, loadBertSync } from "../../src/models/load-bert.ts";
import { noGrad } from "../../src/tensor/autograd.ts";
import { Tensor } from "../../src/tensor/tensor.ts";
import { assertClose } from "../helpers.ts";

const FOLDER = "test/fixtures/bert_train/bert_train_seqcls_l2_h32";
const TEXTS = ["the acting is wonderful but the story drags .", "not good ."];

/** The fixture classifier (2 layers, 4 heads of 8, 3 labels) and a padded batch of two texts. */
function setup(): { loaded: LoadedBert; batch: ExplainBatch } {
  const loaded = loadBertSync(FOLDER);
  const t = tokenizeTexts(loaded, TEXTS);
  return { loaded, batch: { ids: t.ids, tokenTypeIds: t.tokenTypeIds, attentionMask: t.attentionMask, targets: Int32Array.of(2, 0) } };
}

/** Σ_b logits[b, target_b] for word embeddings E (and optional head gates), without gradients. */
function targetSum(loaded: LoadedBert, batch: ExplainBatch, e: Float32Array, gates?: Tensor[]): number {
  const [rows, n] = batch.ids.shape;
  const d = loaded.model.config.dModel;
  const logits = noGrad(() => loaded.model.forward(batch.ids, {
    attentionMask: batch.attentionMask, tokenTypeIds: batch.tokenTypeIds, wordEmbeddings: new Tensor(e, [rows, n, d]), headGates: gates,
  }).logits!);
  const classes = logits.shape[1];
  let y = 0;
  batch.targets.forEach((c, b) => (y += logits.data[b * classes + c]));
  return y;
}

test("∂Y/∂E of the gradient pass matches central finite differences on the word-embedding lookup", () => {
  const { loaded, batch } = setup();
  const pass = gradientPass(loaded.model, batch);
  const e = wordEmbeddingLookup(loaded.model, batch.ids);
  const h = 1e-2;
  for (const k of [3, 40, 77, 130, e.length - 5]) {
    const plus = Float32Array.from(e);
    const minus = Float32Array.from(e);
    plus[k] += h;
    minus[k] -= h;
    const fd = (targetSum(loaded, batch, plus) - targetSum(loaded, batch, minus)) / (2 * h);
    assert.ok(Math.abs(fd - pass.wordEmbeddingGrads[k]) <= 2e-3 + 2e-2 * Math.abs(fd), `element ${k}: autograd ${pass.wordEmbeddingGrads[k]}, finite difference ${fd}`);
  }
  // The pass leaves the model as it found it: parameters trainable again, no gradients on them.
  for (const p of loaded.model.parameters()) {
    assert.equal(p.requiresGrad, true);
    assert.equal(p.grad, null);
  }
});

test("head importance is mean |∂L_b/∂ξ| per row, as finite differences of each row's cross-entropy give", () => {
  const { loaded, batch } = setup();
  const acc = new HeadImportanceAccumulator(loaded.model);
  acc.add(batch);
  const imp = acc.result();
  assert.equal(imp.examples, 2);
  const { numLayers, heads } = loaded.model.config;
  const e = wordEmbeddingLookup(loaded.model, batch.ids);
  const rowLoss = (gates: Tensor[], b: number): number => {
    const [rows, n] = batch.ids.shape;
    const logits = noGrad(() => loaded.model.forward(batch.ids, {
      attentionMask: batch.attentionMask, tokenTypeIds: batch.tokenTypeIds, wordEmbeddings: new Tensor(e, [rows, n, loaded.model.config.dModel]), headGates: gates,
    }).logits!);
    const c = logits.shape[1];
    const row = Array.from(logits.data.subarray(b * c, (b + 1) * c));
    const m = Math.max(...row);
    return m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) - row[batch.targets[b]];
  };
  const h = 1e-2;
  for (const [l, head] of [[0, 1], [1, 3]]) {
    const gate = (v: number): Tensor[] => Array.from({ length: numLayers }, (_, i) => {
      const g = new Float32Array(heads).fill(1);
      if (i === l) g[head] = v;
      return new Tensor(g, [heads]);
    });
    let expected = 0;
    for (let b = 0; b < 2; b++) expected += Math.abs((rowLoss(gate(1 + h), b) - rowLoss(gate(1 - h), b)) / (2 * h)) / 2;
    const got = imp.data[l * heads + head];
    assert.ok(Math.abs(got - expected) <= 1e-3 + 2e-2 * expected, `head ${l}:${head}: ${got} vs finite differences ${expected}`);
  }
});

test("masking a head equals zeroing the columns of W_O that read it; all-ones gates change nothing", () => {
  const { loaded, batch } = setup();
  const model = loaded.model;
  const { numLayers, heads, dModel } = model.config;
  const headDim = dModel / heads;
  const run = (gates?: Tensor[]): Float32Array => noGrad(() => model.forward(batch.ids, { attentionMask: batch.attentionMask, tokenTypeIds: batch.tokenTypeIds, headGates: gates }).logits!.data);
  const plain = run();
  assert.deepEqual(run(headMaskGates([], numLayers, heads)), plain);
  const masked = run(headMaskGates([{ layer: 1, head: 2 }], numLayers, heads));
  const wO = model.encoder.layers.items[1].selfAttn.outProj.weight;
  const saved = Float32Array.from(wO.data);
  try {
    for (let r = 0; r < dModel; r++) wO.data.fill(0, r * dModel + 2 * headDim, r * dModel + 3 * headDim);
    assertClose(masked, run(), 1e-6, 1e-5, "masked logits");
  } finally {
    wO.data.set(saved);
  }
  assert.ok(masked.some((v, i) => Math.abs(v - plain[i]) > 1e-4), "masking a head changes the logits");
});

test("rollout, gradient × attention and norm-based contributions on hand-made attention", () => {
  // 1 row, 2 heads, 2 tokens; layer 0 attends to token 0 and to itself, layer 1 uniformly.
  const a0 = new Tensor(Float32Array.of(1, 0, 1, 0, 1, 0, 0, 1), [1, 2, 2, 2]);
  const a1 = new Tensor(Float32Array.of(0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5), [1, 2, 2, 2]);
  // M0 = ½·[[1,0],[0.5,0.5]] + ½I = [[1,0],[0.25,0.75]]; M1 = [[0.75,0.25],[0.25,0.75]]; rollout = M1·M0.
  assertClose(attentionRollout([a0, a1]).data, [0.8125, 0.1875, 0.4375, 0.5625], 1e-12, 0, "rollout");
  // Gradients 1 everywhere: Ā = mean_h max(A, 0); R = (I + Ā1)(I + Ā0).
  const ones = new Float32Array(8).fill(1);
  const r0 = [2, 0, 0.5, 1.5]; // I + [[1,0],[0.5,0.5]]
  const expected = [1.5 * r0[0] + 0.5 * r0[2], 1.5 * r0[1] + 0.5 * r0[3], 0.5 * r0[0] + 1.5 * r0[2], 0.5 * r0[1] + 1.5 * r0[3]];
  assertClose(gradientAttentionRelevance([a0, a1], [ones, ones]).data, expected, 1e-12, 0, "relevance");
  // Negative gradient × attention is clipped away: R stays I.
  assertClose(gradientAttentionRelevance([a0], [ones.map(() => -1)]).data, [1, 0, 0, 1], 0, 0, "clipped relevance");
  // Norms: values v^h_j = (j+1)·e_h (head dim 1), W_O = I (2×2): f^h(x_j) = (j+1) e_h.
  const values = new Tensor(Float32Array.of(1, 2, 1, 2), [1, 2, 2, 1]);
  const norms = normContributions(a0, values, new Tensor(Float32Array.of(1, 0, 0, 1), [2, 2]));
  assertClose(norms.perHead, [1, 0, 1, 0, 1, 0, 0, 2], 1e-12, 0, "per head");
  // Summed over heads: row 0 has both heads on token 0 (e_0 + e_1: √2); row 1 has head 0 on token 0 (e_0: 1) and head 1 on token 1 (2e_1: 2).
  assertClose(norms.summed, [Math.SQRT2, 0, 1, 2], 1e-12, 0, "summed");
});

test("integrated gradients are complete within 1 % at 32 steps, and the gap shrinks with more steps", () => {
  const { loaded, batch } = setup();
  const coarse = integratedGradients(loaded.model, batch, { steps: 4 });
  const fine = integratedGradients(loaded.model, batch, { steps: 32 });
  for (let b = 0; b < 2; b++) {
    assert.ok(fine.completenessGap[b] < 0.01, `row ${b}: gap ${fine.completenessGap[b]}`);
    assert.ok(fine.completenessGap[b] < coarse.completenessGap[b], `row ${b}: 32 steps ${fine.completenessGap[b]} vs 4 steps ${coarse.completenessGap[b]}`);
  }
  assert.throws(() => integratedGradients(loaded.model, batch, { steps: 0 }), /steps must be a positive integer/);
});

test("explainText: one score per token for each method, the predicted class by default, a target by name or index", () => {
  const { loaded } = setup();
  const e = explainText(loaded, TEXTS[0]);
  assert.deepEqual(e.methods.map((m) => m.method), ["rollout", "norm", "grad-attention", "input-x-gradient", "integrated-gradients"]);
  for (const m of e.methods) assert.equal(m.scores.length, e.tokens.length);
  assert.equal(e.target, e.predicted);
  assert.ok(Math.abs(e.probabilities.reduce((s, p) => s + p, 0) - 1) < 1e-6);
  const n = e.tokens.length;
  // Rollout rows sum to 1 (each M_l is row-stochastic), and the [CLS] row is the rollout score (pooler model).
  for (let i = 0; i < n; i++) assert.ok(Math.abs(e.rollout.slice(i * n, (i + 1) * n).reduce((s, v) => s + v, 0) - 1) < 1e-6);
  assertClose(e.methods[0].scores, e.rollout.slice(0, n), 0, 0, "rollout scores = [CLS] row");
  const other = e.labels.find((l) => l !== e.predicted)!;
  const byName = explainText(loaded, TEXTS[0], { target: other, methods: ["input-x-gradient"] });
  const byIndex = explainText(loaded, TEXTS[0], { target: e.labels.indexOf(other), methods: ["input-x-gradient"] });
  assert.equal(byName.target, other);
  assert.deepEqual(byName.methods, byIndex.methods);
  assert.notDeepEqual(byName.methods[0].scores, e.methods[3].scores);
  assert.equal(byName.integratedGradients, null);
});

test("explainText with masked heads explains the model without them", () => {
  const { loaded } = setup();
  const { numLayers, heads } = loaded.model.config;
  const masked = parseHeadList("0:0,1:2", numLayers, heads);
  const e = explainText(loaded, TEXTS[1], { maskedHeads: masked, methods: [] });
  const t = tokenizeTexts(loaded, [TEXTS[1]]);
  const logits = noGrad(() => loaded.model.forward(t.ids, { attentionMask: t.attentionMask, tokenTypeIds: t.tokenTypeIds, headGates: headMaskGates(masked, numLayers, heads) }).logits!.data);
  const m = Math.max(...logits);
  const z = logits.reduce((s, v) => s + Math.exp(v - m), 0);
  assertClose(e.probabilities, Array.from(logits, (v) => Math.exp(v - m) / z), 1e-6, 1e-5, "probabilities");
  // Integrated gradients walk the same masked model: Σ IG adds up to Y(input) − Y(baseline) of that model.
  const ig = explainText(loaded, TEXTS[1], { maskedHeads: masked, methods: ["integrated-gradients"] }).integratedGradients!;
  assert.ok(Math.abs(ig.target - logits[e.labels.indexOf(e.target)]) < 1e-4, `Y(input) ${ig.target} is the masked model's logit ${logits[e.labels.indexOf(e.target)]}`);
  assert.ok(ig.completenessGap < 0.01, `completeness gap ${ig.completenessGap} on the masked model`);
});

test("bad input: unknown labels and heads say what exists; a model without a classifier cannot be explained", () => {
  assert.throws(() => targetClass(["negative", "positive"], "neutral"), { message: 'unknown label "neutral": the model\'s labels are negative (0), positive (1)' });
  assert.throws(() => targetClass(["negative", "positive"], 2), /unknown label "2"/);
  assert.throws(() => parseHeadList("2:0", 2, 4), /head 2:0 does not exist: the model has layers 0–1 and heads 0–3 in each/);
  assert.throws(() => parseHeadList("0-1", 2, 4), /write heads as layer:head/);
  const mlm = loadBertSync("test/fixtures/bert_train/bert_train_mlm_l2_h32");
  assert.throws(() => explainText(mlm, "a b c"), /no classification head \(classifier\.\*\)/);
});

test("pruning masks the least important heads first and stops with one head left", () => {
  const importance = { layers: 2, heads: 2, examples: 1, data: Float64Array.of(0.4, 0.1, 0.3, 0.2) };
  assert.deepEqual(headsByImportance(importance), [{ layer: 0, head: 1 }, { layer: 1, head: 1 }, { layer: 1, head: 0 }, { layer: 0, head: 0 }]);
  const seen: string[] = [];
  const curve = pruningCurve(importance, (masked) => {
    seen.push(masked.map((h) => `${h.layer}:${h.head}`).join(","));
    return 1 - masked.length / 4;
  }, 2);
  assert.deepEqual(seen, ["", "0:1,1:1", "0:1,1:1,1:0"]);
  assert.deepEqual(curve.map((s) => s.fraction), [0, 0.5, 0.75]);
});
