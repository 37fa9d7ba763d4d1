/**
 * BertForMaskedLM folders: the MLM head loads with its decoder tied to the word embeddings (stored decoder keys
 * checked, not trusted), a checkpoint without a pooler gets a deterministic new one, and export → load is exact.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CheckpointError } from "../../src/errors.ts";
import { parseSafetensors, serializeSafetensors, type StoredTensor, type StoredTensorInput } from "../../src/io/safetensors.ts";
import { BertModel } from "../../src/models/bert.ts";
import { encodeTexts } from "../../src/models/embeddings.ts";
import { exportHfFolder } from "../../src/models/export.ts";
import { type LoadedBert, loadBert, loadBertSync } from "../../src/models/load-bert.ts";
import { sum } from "../../src/tensor/ops/reduce.ts";
import { indexTensor } from "../../src/tensor/tensor.ts";
import { noGrad } from "../../src/tensor/autograd.ts";
import { Dropout } from "../../src/nn/layernorm.ts";
import type { Module } from "../../src/nn/module.ts";
import { Rng } from "../../src/tensor/random.ts";

const MLM = "test/fixtures/bert_train/bert_train_mlm_l2_h32";
const PLAIN = "test/fixtures/bert_model/bert_model_l2_h32";
const tmp = mkdtempSync(join(tmpdir(), "tsformer-mlm-"));
let counter = 0;

/** A copy of a model folder (no reference tensors) whose safetensors `edit` rewrites. */
function variant(src: string, edit: (tensors: StoredTensorInput[], byName: Map<string, StoredTensor>) => StoredTensorInput[]): string {
  const dir = join(tmp, `v${counter++}`);
  cpSync(src, dir, { recursive: true, filter: (p) => !/\.(f64|i32|u8)$|case\.json$/.test(p) });
  const tensors = parseSafetensors(readFileSync(join(dir, "model.safetensors"))).tensors;
  const inputs = [...tensors.values()].map((t) => ({ name: t.name, shape: t.shape, data: t.data, dtype: t.dtype }));
  writeFileSync(join(dir, "model.safetensors"), serializeSafetensors(edit(inputs, tensors)));
  return dir;
}

/** MLM logits of two sentences, one with [MASK]. */
function mlmLogits(loaded: LoadedBert): Float32Array {
  const enc = encodeTexts(loaded, ["the quick brown [MASK] jumps.", ["is this movie any good?", "it was [MASK] fun."]]);
  return noGrad(() => loaded.model.maskedLmLogits(enc.output.lastHiddenState)).data;
}

test("a BertForMaskedLM folder loads its head, tied to the embedding table, and a new pooler, saying so", async () => {
  const l = await loadBert(MLM);
  assert.equal(l.architecture, "BertForMaskedLM");
  const head = l.model.mlmHead;
  assert.ok(head);
  assert.equal(head.decoderWeight, l.model.embedding.weight, "the decoder is the very tensor of the word embeddings");
  assert.ok(![...l.model.stateDict().keys()].some((n) => n.includes("decoder")), "the tied weight is listed once, as embedding.weight");
  assert.deepEqual([...l.model.stateDict().keys()].filter((n) => n.startsWith("mlm_head.")).sort(),
    ["mlm_head.bias", "mlm_head.dense.bias", "mlm_head.dense.weight", "mlm_head.norm.bias", "mlm_head.norm.weight"]);
  assert.equal(l.notes.length, 1);
  assert.match(l.notes[0], /model\.safetensors: no pooler \(BertForMaskedLM checkpoint\): created a new one, initialised at random/);
  const enc = encodeTexts(l, ["the quick brown [MASK] jumps."]);
  assert.deepEqual(noGrad(() => l.model.maskedLmLogits(enc.output.lastHiddenState)).shape, [1, enc.encoding.length, 301]);
  const w = l.model.pooler!.dense.weight.data;
  const std = Math.sqrt(w.reduce((a, v) => a + v * v, 0) / w.length);
  assert.ok(std > 0.015 && std < 0.025, `pooler weights N(0, 0.02²), got std ${std}`);
  assert.ok(l.model.pooler!.dense.bias!.data.every((v) => v === 0));
  assert.deepEqual(loadBertSync(MLM).model.pooler!.dense.weight.data, w, "the new pooler is deterministic");
});

test("mlmHead: false ignores cls.* (for fine-tuning a classifier from an MLM folder)", async () => {
  const l = await loadBert(MLM, { mlmHead: false });
  assert.equal(l.model.mlmHead, null);
  assert.equal(l.architecture, "BertForMaskedLM", "architecture says what the checkpoint held");
  assert.ok(l.notes.some((n) => /not loaded \(mlmHead: false\)/.test(n)));
  assert.throws(() => l.model.maskedLmLogits(l.model.embedding.weight), /no masked-LM head/);
});

test("stored decoder keys equal to the tied tensors load identically; a differing decoder is refused naming both tensors", async () => {
  const reference = mlmLogits(await loadBert(MLM));
  const withDecoder = variant(MLM, (list, t) => [...list,
    { ...t.get("bert.embeddings.word_embeddings.weight")!, name: "cls.predictions.decoder.weight" },
    { ...t.get("cls.predictions.bias")!, name: "cls.predictions.decoder.bias" }]);
  assert.deepEqual(mlmLogits(await loadBert(withDecoder)), reference);
  const onlyDecoderBias = variant(withDecoder, (list) => list.filter((x) => x.name !== "cls.predictions.bias"));
  assert.deepEqual(mlmLogits(await loadBert(onlyDecoderBias)), reference, "an old checkpoint's decoder.bias stands for cls.predictions.bias");

  const untied = variant(withDecoder, (list) => list.map((x) => (x.name === "cls.predictions.decoder.weight" ? { ...x, data: (x.data as Float32Array).map((v, i) => (i === 5 ? v + 1 : v)) } : x)));
  await assert.rejects(loadBert(untied), (e: Error) => e instanceof CheckpointError
    && /tensor 'cls\.predictions\.decoder\.weight' differs from 'bert\.embeddings\.word_embeddings\.weight' \(at flat index 5: .*\); tsformer ties the decoder/.test(e.message));
  assert.equal((await loadBert(untied, { mlmHead: false })).model.mlmHead, null, "mlmHead: false does not look at the decoder");
  const badBias = variant(withDecoder, (list) => list.map((x) => (x.name === "cls.predictions.decoder.bias" ? { ...x, data: new Float32Array(301) } : x)));
  await assert.rejects(loadBert(badBias), /tensor 'cls\.predictions\.decoder\.bias' differs from 'cls\.predictions\.bias'/);
  const wrongShape = variant(withDecoder, (list) => list.map((x) => (x.name === "cls.predictions.decoder.weight" ? { ...x, shape: [32, 301] } : x)));
  await assert.rejects(loadBert(wrongShape), /tensor 'cls\.predictions\.decoder\.weight' has shape \[32, 301\] but config\.json vocab_size 301 and hidden_size 32 give \[301, 32\]/);
  const partial = variant(MLM, (list) => list.filter((x) => x.name !== "cls.predictions.transform.dense.bias"));
  await assert.rejects(loadBert(partial), /missing 1 tensor\(s\) the model needs: 'cls\.predictions\.transform\.dense\.bias'; the masked-LM head is incomplete; load with mlmHead: false/);
});

test("a BertModel saved without its pooler (add_pooling_layer=False) loads with a new one, noted; half a pooler is refused", async () => {
  const noPooler = variant(PLAIN, (list) => list.filter((x) => !x.name.startsWith("pooler.")));
  const l = await loadBert(noPooler);
  assert.equal(l.architecture, "BertModel");
  assert.match(l.notes.join("\n"), /no pooler \(saved with add_pooling_layer=False\): created a new one/);
  const half = variant(PLAIN, (list) => list.filter((x) => x.name !== "pooler.dense.bias"));
  await assert.rejects(loadBert(half), /missing 1 tensor\(s\) the model needs: 'pooler\.dense\.bias'/);
});

test("the tied decoder gets the sum of both gradients: lookup and output projection", async () => {
  const l = await loadBert(MLM);
  const ids = indexTensor([7, 20, 9, 8], [1, 4]);
  const logits = l.model.maskedLmLogits(l.model.forward(ids).lastHiddenState);
  sum(logits).backward();
  const both = Float32Array.from(l.model.embedding.weight.grad!.data);
  // The same model with an untied copy of the table as decoder: its two gradients, added, must give `both`.
  const untied = new BertModel(l.config, undefined, { mlmHead: true });
  untied.loadStateDict(l.model.stateDict());
  const copy = new BertModel(l.config, undefined, { mlmHead: true });
  copy.loadStateDict(l.model.stateDict());
  const lookupOnly = untied.forward(ids).lastHiddenState;
  const viaCopy = copy.mlmHead!.forward(lookupOnly);
  sum(viaCopy).backward();
  const decoderPart = copy.embedding.weight.grad!.data;
  const lookupPart = untied.embedding.weight.grad!.data;
  let worst = 0;
  for (let i = 0; i < both.length; i++) worst = Math.max(worst, Math.abs(both[i] - (decoderPart[i] + lookupPart[i])));
  assert.ok(worst < 1e-5, `tied gradient = lookup part + decoder part (worst ${worst})`);
  assert.ok(decoderPart.some((v, i) => v !== 0 && lookupPart[i] !== 0), "both parts contribute");
});

test("loadBert → exportHfFolder → loadBert is exact for a BertForMaskedLM model, written as HF saves it", async () => {
  const original = await loadBert(MLM);
  const dir = join(tmp, "exported-mlm");
  await exportHfFolder(dir, original.model, original.tokenizer.vocab, original.tokenizerSettings);
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as { architectures: string[] };
  assert.deepEqual(config.architectures, ["BertForMaskedLM"]);
  const keys = [...parseSafetensors(readFileSync(join(dir, "model.safetensors"))).tensors.keys()];
  assert.ok(keys.includes("cls.predictions.transform.LayerNorm.weight") && keys.includes("cls.predictions.bias") && keys.includes("bert.embeddings.word_embeddings.weight"));
  assert.ok(!keys.some((k) => k.includes("decoder")), "the tied decoder is not stored");
  const back = await loadBert(dir);
  assert.equal(back.architecture, "BertForMaskedLM");
  assert.deepEqual(mlmLogits(back), mlmLogits(original));
  const enc = (x: LoadedBert) => encodeTexts(x, ["a charming journey"]).output.poolerOutput.data;
  assert.deepEqual(enc(back), enc(original), "the pooler travels too");
});

test("dropout sits where Hugging Face's BERT has it: not between the FFN's linear layers (tsformer's own encoders keep it there)", () => {
  /** Every Dropout module's probability, by dotted name. */
  const dropouts = (m: Module, prefix = ""): Map<string, number> => {
    const out = new Map<string, number>();
    for (const [name, child] of m.namedChildren()) {
      if (child instanceof Dropout) out.set(`${prefix}${name}`, child.p);
      for (const [n, p] of dropouts(child, `${prefix}${name}.`)) out.set(n, p);
    }
    return out;
  };
  const config = { vocabSize: 20, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16, hiddenAct: "gelu" as const, maxPositionEmbeddings: 16, typeVocabSize: 2, layerNormEps: 1e-12, padTokenId: 0, hiddenDropoutProb: 0.1, labels: null };
  const plain = dropouts(new BertModel(config, new Rng(1), { mlmHead: true }));
  assert.equal(plain.get("encoder.layers.0.ffn.dropout"), 0);
  for (const name of ["embedding_dropout", "encoder.layers.0.dropout1", "encoder.layers.0.dropout2"]) assert.equal(plain.get(name), 0.1, name);
  const own = dropouts(new BertModel({ ...config, tsformer: { positional: "sinusoidal", scaleEmbedding: true, embeddingNorm: false, normFirst: false, finalNorm: false, pooling: "mean" } }, new Rng(1)));
  assert.equal(own.get("encoder.layers.0.ffn.dropout"), 0.1);
});
