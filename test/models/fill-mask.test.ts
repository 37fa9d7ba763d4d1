/**
 * fillMask on a real BertForMaskedLM folder (the bert_train fixture): scores against a float64 softmax of the model's
 * full MLM logits computed here, the ranking, one list per mask, sequences and token strings worked out by hand from
 * Hugging Face's pipeline and decoder rules, the decoder settings of the folder, and every refusal.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseSafetensors, serializeSafetensors } from "../../src/io/safetensors.ts";
import { encodeTexts } from "../../src/models/embeddings.ts";
import { type FillMaskCandidate, decodeLikeHf, fillMask, fillMaskPipeline, readHfDecodeSettings } from "../../src/models/fill-mask.ts";
import { type LoadedBert, loadBert } from "../../src/models/load-bert.ts";
import { noGrad } from "../../src/tensor/autograd.ts";

const MLM = "test/fixtures/bert_train/bert_train_mlm_l2_h32";
const PLAIN = "test/fixtures/bert_model/bert_model_l2_h32";
const SEQCLS = "test/fixtures/bert_train/bert_train_seqcls_l2_h32";
const V = 301;
const tmp = mkdtempSync(join(tmpdir(), "tsformer-fillmask-"));

let cached: Promise<LoadedBert> | null = null;
/** The fixture model, loaded once. */
const model = (): Promise<LoadedBert> => (cached ??= loadBert(MLM));

/** Float64 softmax of the FULL logits (every position through the head) at each [MASK] of `text`. */
function reference(l: LoadedBert, text: string, maxLength?: number): Float64Array[] {
  const { encoding, output } = encodeTexts(l, [text], { maxLength });
  const logits = noGrad(() => l.model.maskedLmLogits(output.lastHiddenState));
  const maskId = l.tokenizer.vocab.idOf("[MASK]");
  const out: Float64Array[] = [];
  encoding.rows[0].inputIds.forEach((id, pos) => {
    if (id !== maskId) return;
    const row = Array.from(logits.data.subarray(pos * V, (pos + 1) * V));
    const m = Math.max(...row);
    const e = row.map((x) => Math.exp(x - m));
    const z = e.reduce((a, b) => a + b, 0);
    out.push(Float64Array.from(e, (x) => x / z));
  });
  return out;
}

/** Checks one mask's candidates against the reference probabilities: ids by probability (ties by id), scores within 1e-6. */
function matches(got: FillMaskCandidate[], probs: Float64Array, k: number): void {
  const order = Array.from({ length: V }, (_, j) => j).sort((a, b) => probs[b] - probs[a] || a - b).slice(0, k);
  assert.deepEqual(got.map((c) => c.token), order);
  got.forEach((c) => assert.ok(Math.abs(c.score - probs[c.token]) <= 1e-6, `token ${c.token}: ${c.score} vs ${probs[c.token]}`));
  for (let i = 1; i < got.length; i++) assert.ok(got[i - 1].score >= got[i].score);
}

/** The candidate for `token` (by its text) in a full list (topK = vocabulary size). */
function pick(l: LoadedBert, list: FillMaskCandidate[], token: string): FillMaskCandidate {
  const id = l.tokenizer.vocab.idOf(token);
  const c = list.find((x) => x.token === id);
  assert.ok(c, `no candidate ${token}`);
  return c;
}

/** A copy of the model folder (no reference tensors) with `files` written into it. */
function variant(name: string, files: Record<string, string>): string {
  const dir = join(tmp, name);
  cpSync(MLM, dir, { recursive: true, filter: (p) => !/\.(f64|i32|u8)$|case\.json$/.test(p) });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

test("one [MASK]: the top 5 by softmax probability over the vocabulary, the scores of the full logits in float64", async () => {
  const l = await model();
  const text = "the quick brown [MASK] jumps.";
  const [probs] = reference(l, text);
  const lists = fillMask(l, text);
  assert.equal(lists.length, 1);
  assert.equal(lists[0].length, 5);
  matches(lists[0], probs, 5);
  const all = fillMask(l, text, { topK: V })[0];
  matches(all, probs, V);
  assert.deepEqual(new Set(all.map((c) => c.token)).size, V);
  assert.ok(Math.abs(all.reduce((s, c) => s + c.score, 0) - 1) < 1e-9);
  assert.deepEqual(Object.keys(all[0]), ["score", "token", "token_str", "sequence"], "the pipeline's fields, in its order");
  assert.deepEqual(fillMaskPipeline(l, text), lists[0], "the pipeline's shape: a flat list for one mask");
});

test("one [MASK]: sequences skip the special tokens and drop [PAD]; '##' joins; punctuation and apostrophes as HF cleans them", async () => {
  const l = await model();
  const all = fillMask(l, "the quick brown [MASK] jumps.", { topK: V })[0];
  const seq = (t: string): string => pick(l, all, t).sequence;
  assert.equal(seq("fox"), "the quick brown fox jumps.");
  assert.equal(seq("##ish"), "the quick brownish jumps.");
  assert.equal(seq("!"), "the quick brown! jumps.");
  assert.equal(seq("'"), "the quick brown'jumps.", "clean_up_tokenization turns \" ' \" into \"'\"");
  for (const special of ["[SEP]", "[MASK]", "[PAD]", "[UNK]"]) assert.equal(seq(special), "the quick brown jumps.", special);
  assert.equal(seq("[unused0]"), "the quick brown [unused0] jumps.", "[unusedN] are ordinary tokens");
  assert.deepEqual(["fox", "##ish", "'", "[SEP]", "[PAD]"].map((t) => pick(l, all, t).token_str), ["fox", "##ish", "'", "[SEP]", "[PAD]"], "token_str is decode([token])");
  const first = fillMask(l, "[MASK] quick fox", { topK: V })[0];
  assert.equal(pick(l, first, "##s").sequence, "##s quick fox", "the first token keeps its ##");
  const contraction = fillMask(l, "isn't it [MASK]?", { topK: V })[0];
  assert.equal(pick(l, contraction, "fun").sequence, "isn't it fun?", "is ##n ' t → isn't");
});

test("several [MASK]s: one list per mask in text order, each scored alone; sequences keep [CLS], [SEP] and the other [MASK]", async () => {
  const l = await model();
  const text = "the [MASK] was [MASK] fun.";
  const probs = reference(l, text);
  const lists = fillMask(l, text, { topK: 4 });
  assert.equal(lists.length, 2);
  lists.forEach((list, m) => matches(list, probs[m], 4));
  assert.deepEqual(fillMaskPipeline(l, text, { topK: 4 }), lists, "the pipeline's shape: one list per mask");
  const [a, b] = fillMask(l, text, { topK: V });
  assert.equal(pick(l, a, "movie").sequence, "[CLS] the movie was [MASK] fun. [SEP]");
  assert.equal(pick(l, a, "##s").sequence, "[CLS] thes was [MASK] fun. [SEP]");
  assert.equal(pick(l, a, ",").sequence, "[CLS] the, was [MASK] fun. [SEP]");
  assert.equal(pick(l, a, "[CLS]").sequence, "[CLS] the [CLS] was [MASK] fun. [SEP]", "special tokens stay when there are several masks");
  assert.equal(pick(l, a, "[PAD]").sequence, "[CLS] the was [MASK] fun. [SEP]", "[PAD] ids are filtered out");
  assert.equal(pick(l, b, "really").sequence, "[CLS] the [MASK] was really fun. [SEP]");
  assert.equal(pick(l, b, "'").sequence, "[CLS] the [MASK] was'fun. [SEP]");
  const lead = fillMask(l, "[MASK] and [MASK]", { topK: V })[0];
  assert.equal(pick(l, lead, "##s").sequence, "[CLS]s and [MASK] [SEP]", "the WordPiece decoder strips ## after a special token too");
});

test("equal probabilities rank by the smaller id (torch.topk leaves ties unspecified)", async () => {
  const l = await model();
  const [lo, hi] = ["dog", "cat"].map((t) => l.tokenizer.vocab.idOf(t) as number).sort((a, b) => a - b);
  // A folder where token `hi` has token `lo`'s embedding row and output bias, so both get the very same logit.
  const dir = variant("tie", {});
  const tensors = parseSafetensors(readFileSync(join(dir, "model.safetensors"))).tensors;
  const emb = tensors.get("bert.embeddings.word_embeddings.weight")!.data as Float32Array;
  const bias = tensors.get("cls.predictions.bias")!.data as Float32Array;
  emb.copyWithin(hi * 32, lo * 32, lo * 32 + 32);
  bias[hi] = bias[lo];
  writeFileSync(join(dir, "model.safetensors"), serializeSafetensors(tensors.values()));
  const tied = await loadBert(dir);
  const all = fillMask(tied, "the quick brown [MASK] jumps.", { topK: V })[0];
  const at = all.findIndex((c) => c.token === lo);
  assert.deepEqual([all[at + 1].token, all[at + 1].score], [hi, all[at].score], "the tied pair, smaller id first");
  matches(all, reference(tied, "the quick brown [MASK] jumps.")[0], V);
});

test("decodeLikeHf: HF's fast decode, token by token, then clean_up_tokenization (the strings Hugging Face's Rust tokenizers give)", async () => {
  const l = await model();
  const ids = (...t: string[]): number[] => t.map((x) => l.tokenizer.vocab.idOf(x) as number);
  const on = { prefix: "##", cleanup: true, cleanUpTokenizationSpaces: true };
  const off = { ...on, cleanUpTokenizationSpaces: false };
  assert.equal(decodeLikeHf(l.tokenizer, ids("[CLS]", "##s", "the", "[MASK]", "##ing", "[SEP]"), false, on), "[CLS]s the [MASK]ing [SEP]");
  assert.equal(decodeLikeHf(l.tokenizer, ids("[CLS]", "##s", "the", "[MASK]", "##ing", "[SEP]"), true, on), "##s theing");
  assert.equal(decodeLikeHf(l.tokenizer, ids("[PAD]", "a", "[UNK]", "##s"), true, on), "as");
  assert.equal(decodeLikeHf(l.tokenizer, ids("un", "##believ", "##able", "!", "it", "was", "fun", "."), false, on), "unbelievable! it was fun.");
  assert.equal(decodeLikeHf(l.tokenizer, ids("it", "'", "s", "fun", ",", "no", "?"), false, on), "it's fun, no?");
  assert.equal(decodeLikeHf(l.tokenizer, ids("it", "'", "s", "fun", ",", "no", "?"), false, off), "it ' s fun, no?", "the Rust decoder still removes the space before , and ?");
  assert.equal(decodeLikeHf(l.tokenizer, ids("it", "'", "s", "fun", ",", "no", "?"), false, { ...off, cleanup: false }), "it ' s fun , no ?");
  assert.equal(decodeLikeHf(l.tokenizer, ids("do", "not"), false, on), "do not", "the Rust \" do not\" rule sees one token at a time, so never fires");
  assert.equal(decodeLikeHf(l.tokenizer, [...ids("a"), 999, -1, ...ids("b")], false, on), "a b", "ids outside the vocabulary are dropped");
});

test("the folder's decoder settings: clean_up_tokenization_spaces from tokenizer_config.json, WordPiece cleanup from tokenizer.json", async () => {
  assert.deepEqual(readHfDecodeSettings(MLM), { prefix: "##", cleanup: true, cleanUpTokenizationSpaces: true });
  const config = JSON.parse(readFileSync(join(MLM, "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
  const noCleanUp = variant("no-clean-up", { "tokenizer_config.json": JSON.stringify({ ...config, clean_up_tokenization_spaces: false }) });
  assert.equal(readHfDecodeSettings(noCleanUp).cleanUpTokenizationSpaces, false);
  const l = await loadBert(noCleanUp);
  assert.equal(pick(l, fillMask(l, "isn't it [MASK]?", { topK: V })[0], "fun").sequence, "isn ' t it fun?");
  const { clean_up_tokenization_spaces: _, ...absent } = config;
  assert.equal(readHfDecodeSettings(variant("absent", { "tokenizer_config.json": JSON.stringify(absent) })).cleanUpTokenizationSpaces, false, "transformers' default");
  const rawDecoder = variant("raw-decoder", { "tokenizer.json": JSON.stringify({ decoder: { type: "WordPiece", prefix: "##", cleanup: false } }) });
  assert.deepEqual(readHfDecodeSettings(rawDecoder), { prefix: "##", cleanup: false, cleanUpTokenizationSpaces: true });
  const raw = await loadBert(rawDecoder);
  assert.equal(pick(raw, fillMask(raw, "the quick brown [MASK] jumps.", { topK: V })[0], ",").sequence, "the quick brown, jumps.", "clean_up_tokenization still runs");
  const bad = variant("bad", { "tokenizer_config.json": JSON.stringify({ ...config, clean_up_tokenization_spaces: "yes" }) });
  assert.throws(() => readHfDecodeSettings(bad), /tokenizer_config\.json: field "clean_up_tokenization_spaces" is "yes"; expected true or false/);
});

test("a long text is cut to maxLength as the other commands cut it, unless the cut leaves out a [MASK]", async () => {
  const l = await model();
  const kept = fillMask(l, "a [MASK] c d e f g", { maxLength: 6, topK: 3 });
  matches(kept[0], reference(l, "a [MASK] c d e f g", 6)[0], 3);
  assert.equal(pick(l, fillMask(l, "a [MASK] c d e f g", { maxLength: 6, topK: V })[0], "fox").sequence, "a fox c d", "the text as cut");
  assert.throws(() => fillMask(l, "a b c d e f [MASK]", { maxLength: 6 }), /the text is 9 tokens long \(\[CLS\]\/\[SEP\] included\) and is cut to 6, which leaves out 1 of its 1 \[MASK\] token\(s\); shorten the text or move \[MASK\] earlier/);
  assert.throws(() => fillMask(l, "a [MASK] c d e f [MASK]", { maxLength: 6 }), /leaves out 1 of its 2 \[MASK\]/);
  const long = `[MASK] ${"a ".repeat(60)}`;
  assert.equal(fillMask(l, long).length, 1, "the model's own limit (40) applies by default");
  assert.throws(() => fillMask(l, `${"a ".repeat(60)}[MASK]`), /is 63 tokens long .* cut to 40/);
});

test("refusals: no [MASK], no masked-LM head (naming the missing tensors), top-k outside 1…vocabulary size", async () => {
  const l = await model();
  assert.throws(() => fillMask(l, "no mask here"), /^DataError: the text "no mask here" contains no \[MASK\] token; put \[MASK\] where a word should be predicted$/);
  assert.throws(() => fillMask(l, "a [mask] here"), /contains no \[MASK\] token \(\[MASK\] is case-sensitive\)/);
  for (const topK of [0, -1, 2.5, Number.NaN, V + 1]) {
    assert.throws(() => fillMask(l, "a [MASK]", { topK }), /^ConfigError: top-k .* must be an integer from 1 to 301 \(the model's vocabulary size\)$/, String(topK));
  }
  assert.equal(fillMask(l, "a [MASK]", { topK: 1 })[0].length, 1);
  const tensors = /whose weights have none of cls\.predictions\.transform\.dense\.weight, cls\.predictions\.transform\.dense\.bias, cls\.predictions\.transform\.LayerNorm\.weight, cls\.predictions\.transform\.LayerNorm\.bias, cls\.predictions\.bias; fill-mask needs a BertForMaskedLM folder/;
  const plain = await loadBert(PLAIN);
  assert.throws(() => fillMask(plain, "a [MASK]"), /bert_model_l2_h32: no masked-LM head: it holds a BertModel checkpoint/);
  assert.throws(() => fillMask(plain, "a [MASK]"), tensors);
  const seqcls = await loadBert(SEQCLS);
  assert.throws(() => fillMask(seqcls, "a [MASK]"), /it holds a BertForSequenceClassification checkpoint/);
  const headless = await loadBert(MLM, { mlmHead: false });
  assert.throws(() => fillMask(headless, "a [MASK]"), /no masked-LM head: its masked-LM head was not loaded \(loadBert with mlmHead: false\); fill-mask needs a BertForMaskedLM folder/);
});
