/**
 * The explorer's engine side in Node: runSentence against the model's own forward, and each what-if against the
 * engine configured with the same switch (scale: 1, heads: 1) or against what the switch must do (shareQK gives
 * symmetric scores, masked padding changes nothing); plus the measures of metrics.ts.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { EncoderClassifier } from "../../src/models/classifier.ts";
import { loadBertSync } from "../../src/models/load-bert.ts";
import { maskFromLengths } from "../../src/nn/masks.ts";
import { encoderConfig } from "../../src/nn/model.ts";
import { Rng, indexTensor, noGrad } from "../../src/tensor/index.ts";
import { softmax } from "../../src/tensor/ops/nn.ts";
import { Vocabulary } from "../../src/text/vocab.ts";
import { type LoadedClassifier, loadCheckpoint } from "../../src/models/tsformer-checkpoint.ts";
import { checkpointFiles } from "../../src/train/checkpoint.ts";
import { BASELINE, type RunResult, type WhatIf } from "../../web/src/engine/protocol.ts";
import { type ExplorerModel, explorerModel, runSentence } from "../../web/src/engine/run.ts";
import { attentionChange, attentionMatrix, meanEntropy, meanPaddingAttention, meanSelfAttention, outputChange, predictedIndex } from "../../web/src/metrics.ts";
import { assertClose } from "../helpers.ts";

const TEXT = "the film was good but far too long";
const tmp = mkdtempSync(join(tmpdir(), "tsformer-explorer-engine-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A small random classifier checkpoint (2 layers, 4 heads of d_k = 4), written once. */
const checkpointDir = ((): string => {
  const vocab = Vocabulary.fromTokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "film", "was", "good", "but", "far", "too", "long"]);
  const encoder = encoderConfig({ vocabSize: vocab.size, dModel: 16, heads: 4, dFF: 32, numLayers: 2, maxPositions: 32, dropout: 0 });
  const model = new EncoderClassifier({ encoder, pooling: "mean", labels: ["negative", "positive"] }, new Rng(3));
  const dir = join(tmp, "checkpoint");
  mkdirSync(dir);
  for (const [name, contents] of Object.entries(checkpointFiles(model, vocab, { doLowerCase: true, stripAccents: null, maxLength: 32 }))) writeFileSync(join(dir, name), contents);
  return dir;
})();

const ck: LoadedClassifier = loadCheckpoint(checkpointDir);
const explorer: ExplorerModel = explorerModel(loadBertSync(checkpointDir), "test");
const run = (w: Partial<WhatIf> = {}): RunResult => runSentence(explorer, TEXT, { ...BASELINE, ...w });

/** The classifier's own forward with an encoder config change, loaded with the trained weights (minus `drop`). */
function classifierWith(change: Record<string, unknown>, drop = (_name: string): boolean => false): { attentions: Float32Array[]; probs: Float32Array } {
  const config = { ...ck.config.classifier, encoder: { ...ck.config.classifier.encoder, ...change } };
  const model = new EncoderClassifier(config);
  model.loadStateDict(new Map([...ck.model.stateDict()].filter(([name]) => !drop(name))));
  const ids = ck.tokenizer.encode(TEXT).inputIds;
  const n = ids.length;
  const out = noGrad(() => model.forward(indexTensor(ids, [1, n]), { attentionMask: maskFromLengths([n], n), needWeights: true }));
  return { attentions: out.attentions.map((a) => a.data), probs: noGrad(() => softmax(out.logits)).data };
}

test("explorerModel describes the checkpoint", () => {
  assert.deepEqual([explorer.info.kind, explorer.info.layers, explorer.info.heads, explorer.info.headDim, explorer.info.dModel], ["tsformer", 2, 4, 4, 16]);
  assert.deepEqual(explorer.info.labels, ["negative", "positive"]);
  assert.equal(explorer.info.pooling, "mean");
});

test("a baseline run records every step and matches the classifier's own forward", () => {
  const r = run();
  const ref = classifierWith({});
  assert.deepEqual(r.tokens, ck.tokenizer.encode(TEXT).tokens);
  for (const name of ["embedding.lookup", "embedding.scaled", "positions", "x0", "encoder.layers.1.self_attn.q", "encoder.layers.1.self_attn.scores_raw",
    "encoder.layers.1.self_attn.scores", "encoder.layers.1.self_attn.scores_masked", "encoder.layers.1.self_attn.weights", "encoder.layers.1.self_attn.head_outputs",
    "encoder.layers.1.self_attn.context", "encoder.layers.1.self_attn.output", "encoder.layers.1.residual1", "encoder.layers.1.h1", "encoder.layers.1.ffn.act",
    "encoder.layers.1.ff_out", "encoder.layers.1.residual2", "encoder.layers.1.output", "last_hidden_state", "pooled", "logits"]) {
    assert.ok(r.steps[name], `step ${name} is recorded`);
  }
  r.attentions.forEach((a, l) => assertClose(a.data, ref.attentions[l], 1e-6, 0, `attention layer ${l}`));
  assertClose(r.probs!, ref.probs, 1e-6, 0, "probabilities");
  assert.equal(r.scale, 0.5);
});

test("scaling off is the engine with scale: 1", () => {
  const r = run({ scaling: false });
  const ref = classifierWith({ attention: { scale: 1 } });
  assert.equal(r.scale, 1);
  r.attentions.forEach((a, l) => assertClose(a.data, ref.attentions[l], 1e-6, 0, `attention layer ${l}`));
  assertClose(r.probs!, ref.probs, 1e-6, 0, "probabilities");
  assert.ok(meanEntropy(r) < meanEntropy(run()), "larger scores make sharper attention (Q04)");
});

test("merged heads are the engine with one head of width d_model and the same weights", () => {
  const r = run({ mergeHeads: true });
  const ref = classifierWith({ heads: 1 });
  assert.deepEqual([r.heads, r.headDim], [1, 16]);
  assert.equal(r.scale, 1 / 4);
  r.attentions.forEach((a, l) => assertClose(a.data, ref.attentions[l], 1e-6, 0, `attention layer ${l}`));
  assertClose(r.probs!, ref.probs, 1e-6, 0, "probabilities");
});

test("shared W_Q = W_K uses W_Q for the keys: the scores are symmetric", () => {
  const r = run({ shareQK: true });
  const ref = classifierWith({ attention: { shareQK: true } }, (name) => name.includes(".self_attn.k_proj."));
  assertClose(r.probs!, ref.probs, 1e-6, 0, "probabilities");
  const raw = r.steps["encoder.layers.0.self_attn.scores_raw"];
  const n = raw.shape[2];
  for (let h = 0; h < r.heads; h++) {
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) {
      const a = raw.data[(h * n + i) * n + j];
      const b = raw.data[(h * n + j) * n + i];
      assert.ok(Math.abs(a - b) <= 1e-5 * (1 + Math.abs(a)), `head ${h} scores[${i}][${j}] = ${a} vs [${j}][${i}] = ${b}`);
    }
  }
});

test("padding: with the mask nothing changes for the real tokens; without it, attention reaches [PAD]", () => {
  const base = run();
  const masked = run({ padding: 4 });
  assert.equal(masked.tokens.length, base.tokens.length + 4);
  assert.deepEqual(masked.tokens.slice(base.tokens.length), ["[PAD]", "[PAD]", "[PAD]", "[PAD]"]);
  assert.equal(masked.realLength, base.tokens.length);
  assert.equal(meanPaddingAttention(masked), 0);
  assert.ok(outputChange(base, masked) <= 1e-6, "same final vectors");
  assert.ok(attentionChange(base, masked) <= 1e-6, "same attention");
  assertClose(masked.probs!, base.probs!, 1e-6, 0, "same prediction (pooling over real tokens)");
  const unmasked = run({ padding: 4, maskPadding: false });
  assert.ok(meanPaddingAttention(unmasked) > 0.01, "unmasked [PAD] keys get attention");
  assert.ok(attentionChange(base, unmasked) > 0.01);
});

test("padding is capped by the position table", () => {
  const r = runSentence(explorer, TEXT, { ...BASELINE, padding: 1000 });
  assert.equal(r.tokens.length, 32);
  assert.equal(r.whatIf.padding, 32 - r.realLength);
});

test("metrics: self-attention, entropy and changes on a hand-made result", () => {
  // One layer, one head, 2 real tokens + 1 [PAD]; rows sum to 1.
  const weights = new Float32Array([0.5, 0.5, 0, 1, 0, 0, 0.2, 0.3, 0.5]);
  const r: RunResult = {
    tokens: ["a", "b", "[PAD]"], ids: [0, 1, 2], realLength: 2, truncated: false, whatIf: BASELINE, heads: 1, headDim: 2, scale: 1, ms: 0,
    steps: { last_hidden_state: { shape: [1, 3, 1], data: new Float32Array([1, 2, 3]) } }, attentions: [{ shape: [1, 1, 3, 3], data: weights }], probs: [0.25, 0.75], int8: null,
  };
  assert.equal(meanSelfAttention(r), (0.5 + 0) / 2);
  assert.ok(Math.abs(meanEntropy(r) - Math.log(2) / 2) < 1e-7);
  assert.equal(meanPaddingAttention(r), 0);
  assert.equal(attentionChange(r, r), 0);
  assert.equal(predictedIndex(r), 1);
  const other: RunResult = { ...r, attentions: [{ shape: [1, 1, 3, 3], data: new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 1]) }], steps: { last_hidden_state: { shape: [1, 3, 1], data: new Float32Array([1, 2.5, 9]) } } };
  // Row 0: ½(0.5 + 0.5) = 0.5; row 1: ½(1 + 1) = 1 → mean 0.75; the [PAD] row is left out.
  assert.equal(attentionChange(r, other), 0.75);
  assert.equal(outputChange(r, other), 0.5);
  assert.deepEqual([...attentionMatrix(r, 0, "mean").values], [...weights]);
});
