/** exportHfFolder: HF BERT folders that load back exactly, plain BERT for BertModel, a `tsformer` object for tsformer's encoders. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError } from "../../src/errors.ts";
import { parseSafetensors } from "../../src/io/safetensors.ts";
import { BERT_ENCODER_SWITCHES, bertEncoderConfig, isBertEncoder } from "../../src/models/bert-config.ts";
import { EncoderClassifier } from "../../src/models/classifier.ts";
import { encodeTexts } from "../../src/models/embeddings.ts";
import { exportHfFolder } from "../../src/models/export.ts";
import { loadBert } from "../../src/models/load-bert.ts";
import type { Pooling } from "../../src/models/pooling.ts";
import type { Module } from "../../src/nn/module.ts";
import { type EncoderModelConfig, TransformerEncoderModel, encoderConfig } from "../../src/nn/model.ts";
import { Rng, type Tensor } from "../../src/tensor/index.ts";
import { Vocabulary } from "../../src/text/vocab.ts";

const PLAIN = "test/fixtures/bert_model/bert_model_l2_h32";
const PREFIXED = "test/fixtures/bert_model/bert_seqcls_prefixed_l2_h40";
const tmp = mkdtempSync(join(tmpdir(), "tsformer-export-"));
const vocab = Vocabulary.fromFile(join(PLAIN, "vocab.txt"));
const TEXTS: (string | [string, string])[] = ["a charming and often affecting journey.", "thin", ["Great movie?", "Not really."]];

/** The bytes of a float array, for bit-for-bit comparison. */
const bits = (t: Tensor | null | undefined): Buffer => Buffer.from(t!.data.buffer, t!.data.byteOffset, t!.data.byteLength);

/** Asserts two modules have the same parameter names and bit-identical values. */
function sameParameters(a: Module, b: Module): void {
  const sa = a.stateDict();
  const sb = b.stateDict();
  assert.deepEqual([...sa.keys()].sort(), [...sb.keys()].sort());
  for (const [name, t] of sa) {
    assert.deepEqual(sb.get(name)!.shape, t.shape, name);
    assert.ok(bits(sb.get(name)).equals(bits(t)), `${name} differs`);
  }
}

const json = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
const keysOf = (dir: string): string[] => [...parseSafetensors(readFileSync(join(dir, "model.safetensors"))).tensors.keys()].sort();

function classifier(encoder: Partial<EncoderModelConfig>, pooling: Pooling, seed: number): EncoderClassifier {
  const config = encoderConfig({ vocabSize: vocab.size, dModel: 16, heads: 4, dFF: 24, numLayers: 2, maxPositions: 40, activation: "gelu", ...encoder });
  return new EncoderClassifier({ encoder: config, pooling, labels: ["negative", "positive", "mixed"] }, new Rng(seed));
}

test("EncoderClassifier variants round-trip exactly: identical parameters and bit-identical outputs", async () => {
  const variants: [string, EncoderClassifier][] = [
    ["paper defaults (sinusoidal, ×√d, post-LN), mean", classifier({}, "mean", 1)],
    ["pre-LN + final norm, max", classifier({ normFirst: true, finalNorm: true, typeVocabSize: 2 }, "max", 2)],
    ["learned positions, embedding norm, cls, eps 1e-12", classifier({ positional: "learned", scaleEmbedding: false, embeddingNorm: true, layerNormEps: 1e-12, activation: "relu" }, "cls", 3)],
    ["no positions, tanh-GELU", classifier({ positional: "none", activation: "gelu_tanh" }, "mean", 4)],
  ];
  for (const [label, model] of variants) {
    const dir = join(tmp, label.replace(/\W+/g, "_"));
    await exportHfFolder(dir, model, vocab, { doLowerCase: true, stripAccents: null, maxLength: 32 });
    assert.deepEqual(readdirSync(dir).sort(), ["config.json", "model.safetensors", "tokenizer_config.json", "vocab.txt"]);
    const config = json(join(dir, "config.json"));
    assert.equal(config.model_type, "bert");
    assert.deepEqual(config.architectures, ["BertForSequenceClassification"]);
    const block = config.tsformer as Record<string, unknown>;
    assert.equal(block.model, "EncoderClassifier", label);
    assert.equal(block.pooling, model.classifierConfig.pooling, label);
    assert.equal(block.positional, model.config.positional, label);
    assert.match(String(block.note), /Hugging Face transformers ignores this object/);
    assert.ok(keysOf(dir).every((k) => k === "classifier.weight" || k === "classifier.bias" || k.startsWith("bert.")), label);
    assert.ok(!keysOf(dir).some((k) => k.includes("pooler")), `${label}: no pooler`);
    const loaded = await loadBert(dir);
    assert.equal(loaded.maxLength, 32);
    sameParameters(model, loaded.model);
    const r = encodeTexts(loaded, TEXTS, { needWeights: true });
    const direct = model.forward(r.ids, { attentionMask: r.attentionMask, tokenTypeIds: r.tokenTypeIds, needWeights: true });
    assert.ok(bits(r.output.logits).equals(bits(direct.logits)), `${label}: logits`);
    assert.ok(bits(r.output.poolerOutput).equals(bits(direct.pooled)), `${label}: pooled`);
    assert.ok(bits(r.output.lastHiddenState).equals(bits(direct.lastHiddenState)), `${label}: hidden`);
    r.output.attentions.forEach((a, l) => assert.ok(bits(a).equals(bits(direct.attentions[l])), `${label}: attention ${l}`));
  }
});

test("a HF BertForSequenceClassification folder exports as plain BERT (no tsformer object) and loads back bit for bit", async () => {
  const original = await loadBert(PREFIXED);
  const dir = join(tmp, "plain-seqcls");
  await exportHfFolder(dir, original.model, original.tokenizer.vocab, original.tokenizerSettings);
  const config = json(join(dir, "config.json"));
  assert.equal(config.tsformer, undefined);
  assert.deepEqual(config.architectures, ["BertForSequenceClassification"]);
  assert.deepEqual(config.id2label, { 0: "negative", 1: "neutral", 2: "positive" });
  const originalKeys = keysOf(PREFIXED).filter((k) => k !== "bert.embeddings.position_ids");
  assert.deepEqual(keysOf(dir), originalKeys, "the same HF names as transformers saves");
  assert.equal(json(join(dir, "tokenizer_config.json")).do_lower_case, true);
  const back = await loadBert(dir);
  sameParameters(original.model, back.model);
  const a = encodeTexts(original, TEXTS).output;
  const b = encodeTexts(back, TEXTS).output;
  assert.ok(bits(a.logits).equals(bits(b.logits)));
  assert.ok(bits(a.poolerOutput).equals(bits(b.poolerOutput)));
  const plainDir = join(tmp, "plain-model");
  const plain = await loadBert(PLAIN);
  await exportHfFolder(plainDir, plain.model, plain.tokenizer.vocab, plain.tokenizerSettings);
  assert.deepEqual(json(join(plainDir, "config.json")).architectures, ["BertModel"]);
  assert.deepEqual(keysOf(plainDir), keysOf(PLAIN), "unprefixed BertModel names");
  sameParameters(plain.model, (await loadBert(plainDir)).model);
});

test("export replaces an existing folder atomically (loadBert repairs an interrupted swap); a bare encoder exports without a pooler", async () => {
  const dir = join(tmp, "replace");
  const first = classifier({}, "mean", 5);
  const second = classifier({}, "mean", 6);
  await exportHfFolder(dir, first, vocab, { doLowerCase: true, stripAccents: null });
  await exportHfFolder(dir, second, vocab, { doLowerCase: true, stripAccents: null });
  assert.ok(!existsSync(`${dir}.old`));
  sameParameters(second, (await loadBert(dir)).model);
  renameSync(dir, `${dir}.old`); // a crash between the two renames of the swap
  sameParameters(second, (await loadBert(dir)).model);
  assert.ok(existsSync(dir) && !existsSync(`${dir}.old`), "loadBert repaired the interrupted swap");
  const encoder = new TransformerEncoderModel(encoderConfig({ vocabSize: vocab.size, dModel: 8, heads: 2, dFF: 16, numLayers: 1, maxPositions: 40 }), new Rng(7));
  const bare = join(tmp, "bare");
  await exportHfFolder(bare, encoder, vocab, { doLowerCase: true, stripAccents: null });
  assert.deepEqual(json(join(bare, "config.json")).architectures, ["BertModel"]);
  const loaded = await loadBert(bare);
  sameParameters(encoder, loaded.model);
  const r = encodeTexts(loaded, TEXTS);
  assert.ok(bits(r.output.lastHiddenState).equals(bits(encoder.forward(r.ids, { attentionMask: r.attentionMask }).lastHiddenState)));
});

test("lab switches BERT cannot express, and a vocabulary larger than the embedding table, are refused", async () => {
  const shared = new TransformerEncoderModel(encoderConfig({ vocabSize: vocab.size, dModel: 8, heads: 2, dFF: 16, numLayers: 1, attention: { shareQK: true }, residual: false }));
  await assert.rejects(exportHfFolder(join(tmp, "lab"), shared, vocab, { doLowerCase: true, stripAccents: null }),
    (e: Error) => e instanceof ConfigError && /the model uses residual: false, attention\.shareQK, which a BERT config\.json cannot express/.test(e.message));
  const small = new TransformerEncoderModel(encoderConfig({ vocabSize: 10, dModel: 8, heads: 2, dFF: 16, numLayers: 1 }));
  await assert.rejects(exportHfFolder(join(tmp, "small"), small, vocab, { doLowerCase: true, stripAccents: null }), /the vocabulary has 293 tokens but the model's embedding table has 10 rows/);
  assert.ok(!existsSync(join(tmp, "lab")) && !existsSync(join(tmp, "small")), "nothing written on refusal");
});

test("isBertEncoder: BERT's switches whatever the pooling; any tsformer deviation is not BERT", async () => {
  const bert = await loadBert(PREFIXED);
  assert.ok(isBertEncoder(bert.model.config), "a Hugging Face BERT folder");
  const meanPooled = bertEncoderConfig({ ...bert.config, tsformer: { ...BERT_ENCODER_SWITCHES, pooling: "mean" } });
  assert.ok(isBertEncoder(meanPooled), "BERT's switches with tsformer's mean pooling recorded");
  for (const [key, value] of [["positional", "sinusoidal"], ["scaleEmbedding", true], ["embeddingNorm", false], ["normFirst", true], ["finalNorm", true]] as const) {
    const other = bertEncoderConfig({ ...bert.config, tsformer: { ...BERT_ENCODER_SWITCHES, pooling: "mean", [key]: value } });
    assert.equal(isBertEncoder(other), false, `${key}: ${value}`);
  }
});
