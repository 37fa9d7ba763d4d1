/** loadBert: Hugging Face BERT folders (plain, prefixed with a classifier, sharded, tokenizer.json) and one-line refusals. */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CheckpointError, ConfigError, ShapeError, TsformerError } from "../../src/errors.ts";
import { parseSafetensors, serializeSafetensors, type StoredTensor } from "../../src/io/safetensors.ts";
import { type LoadedBert, loadBert, loadBertSync } from "../../src/models/load-bert.ts";
import { encodeTexts } from "../../src/models/embeddings.ts";
import { EncoderClassifier } from "../../src/models/classifier.ts";
import { encoderConfig } from "../../src/nn/model.ts";
import { Rng } from "../../src/tensor/index.ts";
import { saveCheckpoint } from "../../src/train/checkpoint.ts";
import { Vocabulary } from "../../src/text/vocab.ts";

const FIXTURES = "test/fixtures/bert_model";
const PLAIN = join(FIXTURES, "bert_model_l2_h32");
const PREFIXED = join(FIXTURES, "bert_seqcls_prefixed_l2_h40");
const tmp = mkdtempSync(join(tmpdir(), "tsformer-loadbert-"));
let counter = 0;

/** A fresh copy of a fixture folder (model files only) to break. */
function copyOf(src: string): string {
  const dir = join(tmp, `m${counter++}`);
  cpSync(src, dir, { recursive: true, filter: (p) => !/\.(f64|i32|u8)$|case\.json$/.test(p) });
  return dir;
}

const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
const writeJson = (path: string, value: unknown): void => writeFileSync(path, JSON.stringify(value, null, 2));
const tensorsOf = (dir: string): Map<string, StoredTensor> => parseSafetensors(readFileSync(join(dir, "model.safetensors"))).tensors;
const asInputs = (tensors: Iterable<StoredTensor>) => [...tensors].map((t) => ({ name: t.name, shape: t.shape, data: t.data, dtype: t.dtype }));

/** Asserts loadBert (and loadBertSync) reject the folder with one line matching every pattern. */
async function rejects(dir: string, type: typeof TsformerError, ...patterns: RegExp[]): Promise<string> {
  let message = "";
  await assert.rejects(loadBert(dir), (e: Error) => {
    assert.ok(e instanceof type, `${e.name}: ${e.message}`);
    message = e.message;
    return true;
  });
  assert.doesNotMatch(message, /\n/, "one line");
  for (const p of patterns) assert.match(message, p);
  assert.throws(() => loadBertSync(dir), (e: Error) => e.message === message, "the sync loader says the same");
  return message;
}

/** The first row's last hidden state of a fixed sentence. */
function hiddenOf(loaded: LoadedBert): Float32Array {
  return encodeTexts(loaded, ["The plot is thin, the acting unconvincing."]).output.lastHiddenState.data;
}

test("a plain BertModel folder loads with every size from config.json and its tokenizer settings", async () => {
  const l = await loadBert(PLAIN);
  assert.equal(l.dir, PLAIN);
  assert.equal(l.architecture, "BertModel");
  assert.deepEqual(l.notes, []);
  assert.equal(l.model.mlmHead, null);
  assert.deepEqual([l.config.vocabSize, l.config.hiddenSize, l.config.numHiddenLayers, l.config.numAttentionHeads, l.config.intermediateSize], [293, 32, 2, 4, 64]);
  assert.equal(l.config.labels, null);
  assert.equal(l.model.classifier, null);
  assert.ok(l.model.pooler);
  assert.equal(l.maxLength, 40);
  assert.deepEqual(l.tokenizerSettings, { doLowerCase: true, stripAccents: null, tokenizeChineseChars: true });
  assert.deepEqual(l.tokenizer.encode("Hello, World!").tokens.at(0), "[CLS]");
  assert.equal(l.tokenizer.vocab.clsId, 2, "special ids come from vocab.txt");
});

test("a BertForSequenceClassification folder: bert. prefix, position_ids buffer ignored, classifier → logits, labels from id2label", async () => {
  const l = await loadBert(PREFIXED);
  assert.equal(l.architecture, "BertForSequenceClassification");
  assert.deepEqual(l.config.labels, ["negative", "neutral", "positive"]);
  assert.equal(l.config.hiddenSize, 40);
  const out = encodeTexts(l, ["a charming and often affecting journey.", ["Great movie?", "Not really."]]).output;
  assert.deepEqual(out.logits?.shape, [2, 3]);
  assert.deepEqual(out.poolerOutput.shape, [2, 40]);
  assert.equal(l.tokenizer.vocab.clsId, 7);
});

test("legacy gamma/beta LayerNorm names and a pre-training checkpoint's heads (MLM with gamma/beta, next-sentence) load like the plain names", async () => {
  const dir = copyOf(PLAIN);
  const gammaBeta = (name: string): string => name.replace(/LayerNorm\.weight$/, "LayerNorm.gamma").replace(/LayerNorm\.bias$/, "LayerNorm.beta");
  const renamed = asInputs(tensorsOf(dir).values()).map((t) => ({ ...t, name: gammaBeta(t.name) }));
  const f32 = (name: string, shape: number[], fill = 0.5) => ({ name, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill), dtype: "F32" as const });
  renamed.push(f32("cls.predictions.bias", [293]), f32("cls.predictions.transform.dense.weight", [32, 32], 0.01), f32("cls.predictions.transform.dense.bias", [32]));
  renamed.push(f32(gammaBeta("cls.predictions.transform.LayerNorm.weight"), [32], 1), f32(gammaBeta("cls.predictions.transform.LayerNorm.bias"), [32], 0));
  renamed.push(f32("cls.seq_relationship.weight", [2, 32]), f32("cls.seq_relationship.bias", [2]));
  writeFileSync(join(dir, "model.safetensors"), serializeSafetensors(renamed));
  const loaded = await loadBert(dir);
  assert.deepEqual(hiddenOf(loaded), hiddenOf(await loadBert(PLAIN)));
  assert.equal(loaded.architecture, "BertForMaskedLM");
  assert.deepEqual([...loaded.model.mlmHead!.norm.weight.data], new Array<number>(32).fill(1), "transform.LayerNorm.gamma → the head's LayerNorm weight");
  assert.ok(loaded.notes.some((n) => /next-sentence head \(cls\.seq_relationship\.\*\) ignored/.test(n)), loaded.notes.join(" | "));
  const without = await loadBert(dir, { mlmHead: false });
  assert.equal(without.model.mlmHead, null);
  assert.ok(without.notes.some((n) => /masked-LM head \(cls\.predictions\.\*\) not loaded \(mlmHead: false\)/.test(n)));
});

test("a sharded checkpoint (2 shards + model.safetensors.index.json) loads, async and sync, identically", async () => {
  const dir = copyOf(PREFIXED);
  const tensors = [...tensorsOf(dir).values()];
  const half = Math.ceil(tensors.length / 2);
  const shards = [tensors.slice(0, half), tensors.slice(half)];
  const names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
  const weightMap: Record<string, string> = {};
  shards.forEach((s, i) => {
    writeFileSync(join(dir, names[i]), serializeSafetensors(asInputs(s)));
    for (const t of s) weightMap[t.name] = names[i];
  });
  writeJson(join(dir, "model.safetensors.index.json"), { metadata: { total_size: 0 }, weight_map: weightMap });
  unlinkSync(join(dir, "model.safetensors"));
  const reference = hiddenOf(await loadBert(PREFIXED));
  assert.deepEqual(hiddenOf(await loadBert(dir)), reference);
  assert.deepEqual(hiddenOf(loadBertSync(dir)), reference);
  unlinkSync(join(dir, names[1]));
  await rejects(dir, CheckpointError, /model-00002-of-00002\.safetensors: cannot read the file \(ENOENT\)/, /download every shard/);
});

test("tokenizer.json instead of vocab.txt: its WordPiece vocabulary, with tokenizer_config.json's do_lower_case winning", async () => {
  const dir = copyOf(PLAIN);
  const tokens = readFileSync(join(dir, "vocab.txt"), "utf8").split("\n").filter((_, i, a) => i < a.length - 1 || a[i] !== "");
  const json = {
    version: "1.0",
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: false },
    model: { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##", max_input_chars_per_word: 100, vocab: Object.fromEntries(tokens.map((t, i) => [t, i])) },
  };
  writeJson(join(dir, "tokenizer.json"), json);
  unlinkSync(join(dir, "vocab.txt"));
  const viaConfig = await loadBert(dir);
  assert.equal(viaConfig.tokenizerSettings.doLowerCase, true, "tokenizer_config.json overrides the normalizer, as HF does");
  const plain = await loadBert(PLAIN);
  const text = "The Plot is THIN, the acting unconvincing.";
  assert.deepEqual(viaConfig.tokenizer.encode(text).inputIds, plain.tokenizer.encode(text).inputIds);
  unlinkSync(join(dir, "tokenizer_config.json"));
  const viaJson = await loadBert(dir);
  assert.equal(viaJson.tokenizerSettings.doLowerCase, false, "without tokenizer_config.json the normalizer's lowercase applies");
  assert.notDeepEqual(viaJson.tokenizer.encode(text).inputIds, plain.tokenizer.encode(text).inputIds);
});

test("tokenizer_config.json settings are honoured: do_lower_case false changes the ids", async () => {
  const dir = copyOf(PLAIN);
  writeJson(join(dir, "tokenizer_config.json"), { ...readJson(join(dir, "tokenizer_config.json")), do_lower_case: false, strip_accents: true });
  const l = await loadBert(dir);
  assert.deepEqual(l.tokenizerSettings, { doLowerCase: false, stripAccents: true, tokenizeChineseChars: true });
  assert.deepEqual(l.tokenizer.encode("The").tokens, ["[CLS]", "[UNK]", "[SEP]"]);
});

test("missing folder, config.json, weights and vocabulary: one line each, saying what to do", async () => {
  await rejects(join(tmp, "nope"), CheckpointError, /nope: no such folder; a BERT model folder holds config\.json, model\.safetensors and vocab\.txt/);
  await rejects(join(PLAIN, "vocab.txt"), CheckpointError, /is a file, not a folder; pass the folder/);
  const noConfig = copyOf(PLAIN);
  unlinkSync(join(noConfig, "config.json"));
  await rejects(noConfig, CheckpointError, /config\.json: not found; a BERT model folder needs the config\.json that save_pretrained writes/);
  const noWeights = copyOf(PLAIN);
  unlinkSync(join(noWeights, "model.safetensors"));
  await rejects(noWeights, CheckpointError, /no model\.safetensors \(nor model\.safetensors\.index\.json\); put the checkpoint's weights in the folder/);
  const noVocab = copyOf(PLAIN);
  unlinkSync(join(noVocab, "vocab.txt"));
  await rejects(noVocab, CheckpointError, /no vocab\.txt or tokenizer\.json; save the tokenizer into the folder too/);
  const badJson = copyOf(PLAIN);
  writeFileSync(join(badJson, "config.json"), "{\"hidden_size\": 32,");
  await rejects(badJson, CheckpointError, /config\.json: not valid JSON/);
});

test("pytorch_model.bin without safetensors is refused: pickle runs arbitrary code, and the conversion command is given", async () => {
  const dir = copyOf(PREFIXED);
  unlinkSync(join(dir, "model.safetensors"));
  writeFileSync(join(dir, "pytorch_model.bin"), "PK\u0003\u0004 not read");
  const msg = await rejects(dir, CheckpointError, /has pytorch_model\.bin but no model\.safetensors/, /unpickling runs arbitrary code/,
    /python -c "from transformers import BertForSequenceClassification; BertForSequenceClassification\.from_pretrained\('.*'\)\.save_pretrained\('.*', safe_serialization=True\)"/);
  assert.ok(msg.includes(dir));
});

test("a truncated model.safetensors says it is truncated and to download it again", async () => {
  const dir = copyOf(PLAIN);
  const path = join(dir, "model.safetensors");
  truncateSync(path, Math.floor(readFileSync(path).length / 2));
  await rejects(dir, CheckpointError, /model\.safetensors: tensor '.*': data at bytes .* runs past the end of the file/, /truncated .*: download or save it again$/);
  truncateSync(path, 5);
  await rejects(dir, CheckpointError, /too short .*; the file is truncated/);
});

test("config.json disagreeing with the weights names the tensor, both shapes and the config fields", async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ vocab_size: 300 }, /model\.safetensors: tensor 'embeddings\.word_embeddings\.weight' has shape \[293, 32\] but config\.json vocab_size 300 and hidden_size 32 give \[300, 32\]$/],
    [{ intermediate_size: 72 }, /tensor 'encoder\.layer\.0\.intermediate\.dense\.bias' has shape \[64\] but config\.json intermediate_size 72 gives \[72\]$/],
    [{ max_position_embeddings: 512 }, /tensor 'embeddings\.position_embeddings\.weight' has shape \[40, 32\] but config\.json max_position_embeddings 512 and hidden_size 32 give \[512, 32\]$/],
    [{ hidden_size: 36, num_attention_heads: 4 }, /has shape \[32\] but config\.json hidden_size 36 gives \[36\]$/],
    [{ num_hidden_layers: 1 }, /tensor 'encoder\.layer\.1\.[a-zA-Z.]+' belongs to layer 1, but config\.json num_hidden_layers is 1/],
    [{ num_hidden_layers: 3 }, /model\.safetensors: config\.json num_hidden_layers is 3 but the file has 2 layer\(s\); the weights and config\.json must come from the same checkpoint/],
  ];
  for (const [change, pattern] of cases) {
    const dir = copyOf(PLAIN);
    writeJson(join(dir, "config.json"), { ...readJson(join(dir, "config.json")), ...change });
    await rejects(dir, TsformerError, pattern);
  }
  const labels = copyOf(PREFIXED);
  writeJson(join(labels, "config.json"), { ...readJson(join(labels, "config.json")), id2label: { 0: "no", 1: "yes" } });
  await rejects(labels, ShapeError, /tensor 'classifier\.bias' has shape \[3\] but config\.json id2label \(2 labels\) gives \[2\]$/);
});

test("configurations tsformer cannot run are refused naming the field", async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ position_embedding_type: "relative_key" }, /field "position_embedding_type" is "relative_key"; only "absolute"/],
    [{ hidden_act: "swish" }, /field "hidden_act" is "swish"; supported: gelu/],
    [{ model_type: "roberta" }, /field "model_type" is "roberta"/],
    [{ num_attention_heads: 3 }, /field "hidden_size" 40 is not a multiple of "num_attention_heads" 3/],
    [{ architectures: ["BertForTokenClassification"] }, /field "architectures" is \["BertForTokenClassification"\]; the only classifier head tsformer runs is BertForSequenceClassification's/],
    [{ tsformer: { positional: "rotary" } }, /field "tsformer\.positional" is "rotary"/],
  ];
  for (const [change, pattern] of cases) {
    const dir = copyOf(PREFIXED);
    writeJson(join(dir, "config.json"), { ...readJson(join(dir, "config.json")), ...change });
    await rejects(dir, ConfigError, pattern);
  }
  const tc = copyOf(PLAIN);
  writeJson(join(tc, "tokenizer_config.json"), { do_lower_case: "yes" });
  await rejects(tc, ConfigError, /tokenizer_config\.json: field "do_lower_case" is "yes"; expected true or false/);
  writeJson(join(tc, "tokenizer_config.json"), { cls_token: "<s>" });
  await rejects(tc, ConfigError, /field "cls_token" is "<s>"; tsformer's BERT tokenizer uses \[CLS\]/);
});

test("bad tensors: a position_ids buffer that is not arange, an integer parameter, tensors of another head", async () => {
  const tensors = tensorsOf(PREFIXED);
  const write = (list: ReturnType<typeof asInputs>): string => {
    const dir = copyOf(PREFIXED);
    writeFileSync(join(dir, "model.safetensors"), serializeSafetensors(list));
    return dir;
  };
  const shifted = asInputs(tensors.values()).map((t) => (t.name === "bert.embeddings.position_ids" ? { ...t, data: (t.data as BigInt64Array).map((v) => v + 1n) } : t));
  await rejects(write(shifted), CheckpointError, /buffer 'bert\.embeddings\.position_ids' \[1, 32\] is not 0, 1, 2, … at index 0/);
  const intParam = asInputs(tensors.values()).map((t) => (t.name === "classifier.bias" ? { name: t.name, shape: t.shape, data: new Int32Array(3), dtype: "I32" as const } : t));
  await rejects(write(intParam), CheckpointError, /tensor 'classifier\.bias' is I32; BERT parameters are floating point/);
  const qa = [...asInputs(tensors.values()), { name: "qa_outputs.weight", shape: [2, 40], data: new Float32Array(80), dtype: "F32" as const }];
  await rejects(write(qa), CheckpointError, /tensors that are not part of a BERT model: 'qa_outputs\.weight'; tsformer runs BertModel, BertForSequenceClassification and BertForMaskedLM checkpoints/);
  const both = [...asInputs(tensors.values()), { ...asInputs([tensors.get("bert.pooler.dense.bias")!])[0], name: "pooler.dense.bias" }];
  await rejects(write(both), CheckpointError, /tensors 'bert\.pooler\.dense\.bias' and 'pooler\.dense\.bias' are the same parameter; keep one/);
});

test("a vocabulary larger than vocab_size is refused (ids would have no embedding)", async () => {
  const dir = copyOf(PLAIN);
  writeFileSync(join(dir, "vocab.txt"), `${readFileSync(join(dir, "vocab.txt"), "utf8")}extra1\nextra2\n`);
  await rejects(dir, CheckpointError, /vocab\.txt: 295 tokens but config\.json vocab_size is 293, so ids from 293 on have no embedding/);
});

test("a tsformer training checkpoint (EncoderClassifier) loads as the equivalent model", async () => {
  const vocab = Vocabulary.fromFile(join(PLAIN, "vocab.txt"));
  const model = new EncoderClassifier({ encoder: encoderConfig({ vocabSize: vocab.size, dModel: 16, heads: 2, dFF: 24, numLayers: 1, maxPositions: 48 }), pooling: "mean", labels: ["a", "b"] }, new Rng(3));
  const dir = join(tmp, "training-ckpt");
  await saveCheckpoint(dir, model, vocab, { doLowerCase: true, stripAccents: null, maxLength: 20 });
  const l = await loadBert(dir);
  assert.equal(l.maxLength, 20);
  assert.equal(l.config.tsformer?.positional, "sinusoidal");
  const enc = encodeTexts(l, ["a charming journey", "thin"]);
  const direct = model.forward(enc.ids, { attentionMask: enc.attentionMask });
  assert.deepEqual(enc.output.logits?.data, direct.logits.data);
  rmSync(dir, { recursive: true });
});
