/**
 * Validate before allocating (issue 16): a hostile config.json — sizes no model has, or plausible sizes the weights
 * do not have — is refused naming the field, its value and what the files hold, before the model is allocated,
 * for Hugging Face folders and for tsformer checkpoints. The memory check comes first in this file so that the
 * process's peak resident memory (maxRSS) still says what a refused load cost.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CheckpointError, ConfigError, ShapeError, type TsformerError } from "../../src/errors.ts";
import { EncoderClassifier } from "../../src/models/classifier.ts";
import { exportHfFolder } from "../../src/models/export.ts";
import { loadBert, loadBertSync } from "../../src/models/load-bert.ts";
import { loadCheckpoint } from "../../src/models/tsformer-checkpoint.ts";
import { encoderConfig } from "../../src/nn/model.ts";
import { Rng } from "../../src/tensor/random.ts";
import { saveCheckpoint } from "../../src/train/checkpoint.ts";
import { Vocabulary } from "../../src/text/vocab.ts";

const PLAIN = "test/fixtures/bert_model/bert_model_l2_h32";
const PREFIXED = "test/fixtures/bert_model/bert_seqcls_prefixed_l2_h40";
const tmp = mkdtempSync(join(tmpdir(), "tsformer-hostile-"));
let counter = 0;

type Json = Record<string, unknown>;
const readJson = (path: string): Json => JSON.parse(readFileSync(path, "utf8")) as Json;

/** A copy of a model folder whose config.json gets `change` (a field set to undefined is removed). */
function withConfig(src: string, change: Json): string {
  const dir = join(tmp, `m${counter++}`);
  cpSync(src, dir, { recursive: true, filter: (p) => !/\.(f64|i32|u8)$|case\.json$/.test(p) });
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...readJson(join(dir, "config.json")), ...change }));
  return dir;
}

/** Asserts both loaders refuse the folder with this error type and a one-line message matching `pattern`. */
function refused(dir: string, type: typeof TsformerError, pattern: RegExp): void {
  assert.throws(() => loadBertSync(dir), (e: Error) => {
    assert.ok(e instanceof type, `expected a ${type.name}, got ${e.name}: ${e.message}`);
    assert.doesNotMatch(e.message, /\n/);
    assert.match(e.message, pattern);
    return true;
  });
}

/** The process's peak resident memory so far, in MiB. */
const peakMiB = (): number => process.resourceUsage().maxRSS / 1024;

/** A tsformer training checkpoint folder whose config.json's `classifier.encoder` gets `change`. */
async function tsformerCheckpoint(change: Json): Promise<string> {
  const vocab = Vocabulary.fromFile(join(PLAIN, "vocab.txt"));
  const model = new EncoderClassifier({ encoder: encoderConfig({ vocabSize: vocab.size, dModel: 16, heads: 2, dFF: 24, numLayers: 2, maxPositions: 48 }), pooling: "mean", labels: ["a", "b"] }, new Rng(3));
  const dir = join(tmp, `ckpt${counter++}`);
  await saveCheckpoint(dir, model, vocab, { doLowerCase: true, stripAccents: null, maxLength: 20 });
  const config = readJson(join(dir, "config.json")) as { classifier: { encoder: Json } };
  config.classifier.encoder = { ...config.classifier.encoder, ...change };
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  return dir;
}

test("a refused hostile config allocates nothing: peak memory stays where loading the real folder left it", async () => {
  loadBertSync(PLAIN); // warm-up: code compiled, the real model's size reached once
  const ckpt = await tsformerCheckpoint({ numLayers: 10_000 });
  const before = peakMiB();
  // 10,000 layers of this width would be ~400 MiB of weights (and as many JS objects): far above any noise.
  refused(withConfig(PLAIN, { num_hidden_layers: 10_000 }), CheckpointError, /config\.json num_hidden_layers is 10000 but the file has 2 layer\(s\)/);
  assert.throws(() => loadCheckpoint(ckpt), (e: Error) => e instanceof CheckpointError && /config\.json classifier\.encoder\.numLayers is 10000 but the file has 2 layer\(s\)/.test(e.message));
  const grown = peakMiB() - before;
  assert.ok(grown < 100, `peak memory grew by ${grown.toFixed(0)} MiB for loads that were refused`);
});

test("sizes no model has are refused by their bound, naming the field and the reason", () => {
  refused(withConfig(PLAIN, { vocab_size: 1e12 }), ConfigError, /config\.json: field "vocab_size" is 1000000000000, above 2147483647: token ids and tensor sizes are 32-bit integers/);
  refused(withConfig(PLAIN, { hidden_size: 2 ** 40, num_attention_heads: 4 }), ConfigError, /field "hidden_size" is 1099511627776, above 2147483647/);
  refused(withConfig(PLAIN, { max_position_embeddings: 1e15 }), ConfigError, /field "max_position_embeddings" is 1000000000000000, above/);
});

test("plausible sizes the weights do not have are refused before allocating, naming the field, its value and the stored shape", () => {
  refused(withConfig(PLAIN, { vocab_size: 2 ** 31 - 2 }), ShapeError, /tensor 'embeddings\.word_embeddings\.weight' has shape \[293, 32\] but config\.json vocab_size 2147483646 and hidden_size 32 give \[2147483646, 32\]/);
  refused(withConfig(PLAIN, { intermediate_size: 1e9 }), ShapeError, /has shape \[64(, 32)?\] but config\.json intermediate_size 1000000000/);
  refused(withConfig(PLAIN, { hidden_size: 40_000, num_attention_heads: 4 }), ShapeError, /tensor '[\w.]+' has shape \[(293, )?32\] but config\.json (vocab_size 293 and )?hidden_size 40000 gives? \[(293, )?40000\]/);
  refused(withConfig(PLAIN, { type_vocab_size: 1e9 }), ShapeError, /tensor 'embeddings\.token_type_embeddings\.weight' has shape \[2, 32\] but config\.json type_vocab_size 1000000000/);
  refused(withConfig(PREFIXED, { id2label: undefined, label2id: undefined, num_labels: 1e12 }), ShapeError, /tensor 'classifier\.(weight|bias)' has shape \[3(, 40)?\] but config\.json num_labels 1000000000000 (and hidden_size 40 )?gives? \[1000000000000(, 40)?\]/);
});

test("a computed (sinusoidal) position table no input could use is refused before it is computed", async () => {
  const vocab = Vocabulary.fromFile(join(PLAIN, "vocab.txt"));
  const model = new EncoderClassifier({ encoder: encoderConfig({ vocabSize: vocab.size, dModel: 16, heads: 2, dFF: 24, numLayers: 1, maxPositions: 48 }), pooling: "mean", labels: ["a", "b"] }, new Rng(4));
  const exported = join(tmp, "exported");
  await exportHfFolder(exported, model, vocab, { doLowerCase: true, stripAccents: null });
  const hostile = withConfig(exported, { max_position_embeddings: 500_000_000 });
  refused(hostile, ConfigError, /config\.json: max_position_embeddings is 500000000: one input that long would need an estimated .* GiB of activations, over the 4\.0 GiB memory limit/);
  await assert.rejects(loadBert(hostile), ConfigError);
});

test("tsformer checkpoints: config.json sizes are checked against the weights before the model is built", async () => {
  const cases: [Json, typeof TsformerError, RegExp][] = [
    [{ dModel: 1e12 }, ConfigError, /config\.json: classifier\.encoder\.dModel is 1000000000000, above 2147483647/],
    [{ maxPositions: 500_000_000 }, ConfigError, /classifier\.encoder\.maxPositions is 500000000: one input that long would need/],
    [{ dFF: 1e9 }, ShapeError, /tensor 'encoder\.layers\.0\.ffn\.linear1\.(weight|bias)' has shape \[24(, 16)?\] but .*config\.json classifier\.encoder\.dFF 1000000000/],
    [{ dModel: 32, heads: 2 }, ShapeError, /has shape \[\d+, 16\] but .*classifier\.encoder\.dModel 32/],
  ];
  for (const [change, type, pattern] of cases) {
    const dir = await tsformerCheckpoint(change);
    assert.throws(() => loadCheckpoint(dir), (e: Error) => e instanceof type && pattern.test(e.message) && !e.message.includes("\n"), JSON.stringify(change));
    await assert.rejects(loadBert(dir), type, "loadBert reads tsformer checkpoints through the same checks");
  }
});
