/** encodeTexts and sentence embeddings: HF outputs on request, padding that never changes a sentence's vector. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../../src/errors.ts";
import { embedTexts, encodeTexts, sentenceEmbeddings, textSimilarity } from "../../src/models/embeddings.ts";
import { loadBert } from "../../src/models/load-bert.ts";
import type { Pooling } from "../../src/models/pooling.ts";
import { getBackend, registerBackend, setBackend } from "../../src/backend/registry.ts";
import { noGrad } from "../../src/tensor/autograd.ts";
import { wasmWithThreads } from "../backend/wasm-helpers.ts";

const PLAIN = "test/fixtures/bert_model/bert_model_l2_h32";
const PREFIXED = "test/fixtures/bert_model/bert_seqcls_prefixed_l2_h40";

const TARGET = "the acting is thin but the journey is charming.";
const OTHERS = [
  "a",
  "great movie?",
  "The plot is thin, the acting unconvincing, and the whole thing goes on far too long for what it has to say.",
  "unflinchingly bleak and desperate",
  "",
  "a charming and often affecting journey. a charming and often affecting journey. a charming journey.",
];

test("encodeTexts: tokenizes (padding, [CLS]/[SEP], token types) and returns every HF output on request", async () => {
  const loaded = await loadBert(PREFIXED);
  const r = encodeTexts(loaded, ["a charming and often affecting journey.", ["Great movie?", "Not really."]], { needWeights: true });
  const { batch, length } = r.encoding;
  assert.equal(batch, 2);
  assert.deepEqual(r.encoding.rows[1].tokens, ["[CLS]", "great", "movie", "?", "[SEP]", "not", "really", ".", "[SEP]"]);
  assert.deepEqual(r.encoding.rows[1].tokenTypeIds, [0, 0, 0, 0, 0, 1, 1, 1, 1]);
  const { hiddenSize: d, numHiddenLayers: layers, numAttentionHeads: heads } = loaded.config;
  assert.deepEqual(r.output.lastHiddenState.shape, [batch, length, d]);
  assert.equal(r.output.hiddenStates.length, layers + 1);
  assert.equal(r.output.attentions.length, layers);
  for (const a of r.output.attentions) assert.deepEqual(a.shape, [batch, heads, length, length]);
  assert.deepEqual(r.output.poolerOutput.shape, [batch, d]);
  assert.deepEqual(r.output.logits?.shape, [batch, 3]);
  // padding keys get probability exactly 0
  const a0 = r.output.attentions[0].data;
  const realLen = r.encoding.rows[1].attentionMask.reduce((x, y) => x + y, 0);
  for (let h = 0; h < heads; h++) for (let i = 0; i < length; i++) for (let j = realLen; j < length; j++) assert.equal(a0[((1 * heads + h) * length + i) * length + j], 0);
  assert.equal(encodeTexts(loaded, ["x"]).output.attentions.length, 0, "no weights unless asked");
});

test("encodeTexts truncates longest_first to maxLength and refuses a limit beyond max_position_embeddings", async () => {
  const loaded = await loadBert(PLAIN);
  const long = "the plot is thin ".repeat(20);
  assert.equal(encodeTexts(loaded, [long]).encoding.length, 40, "default: the model's limit");
  const r = encodeTexts(loaded, [long, [long, "short one"]], { maxLength: 12 });
  assert.equal(r.encoding.length, 12);
  assert.equal(r.encoding.rows[1].tokens.at(-1), "[SEP]");
  assert.throws(() => encodeTexts(loaded, ["x"], { maxLength: 41 }), (e: Error) => e instanceof ConfigError && /maxLength 41 must be an integer from 2 to 40 \(config\.json max_position_embeddings\)/.test(e.message));
  assert.throws(() => encodeTexts(loaded, []), /no texts given/);
});

test("a sentence gets the same vector (within 1e-6) alone or inside any batch with longer and shorter sentences", async () => {
  for (const dir of [PLAIN, PREFIXED]) {
    const loaded = await loadBert(dir);
    for (const pooling of ["mean", "cls", "max"] as Pooling[]) {
      for (const normalize of [false, true]) {
        const alone = embedTexts(loaded, [TARGET], { pooling, normalize })[0];
        const batches = [[...OTHERS, TARGET], [TARGET, ...OTHERS], [OTHERS[0], TARGET, OTHERS[2]], [OTHERS[2], OTHERS[2], TARGET, OTHERS[4]]];
        for (const batch of batches) {
          const vectors = embedTexts(loaded, batch, { pooling, normalize, batchSize: 3 });
          const v = vectors[batch.indexOf(TARGET)];
          assert.equal(v.length, loaded.config.hiddenSize);
          for (let i = 0; i < v.length; i++) assert.ok(Math.abs(v[i] - alone[i]) <= 1e-6, `${dir} ${pooling} normalize=${normalize} [${i}]: ${v[i]} vs ${alone[i]}`);
        }
      }
    }
  }
});

test("embeddings follow sentence-transformers: mean over real tokens, unit length when normalised, cosine similarity", async () => {
  const loaded = await loadBert(PLAIN);
  const r = encodeTexts(loaded, ["a charming journey", "thin"]);
  const mean = sentenceEmbeddings(r.output.lastHiddenState, r.attentionMask, "mean");
  const [n, d] = [r.encoding.length, loaded.config.hiddenSize];
  const len = r.encoding.rows[1].attentionMask.reduce((a, b) => a + b, 0);
  for (let k = 0; k < d; k++) {
    let s = 0;
    for (let j = 0; j < len; j++) s += r.output.lastHiddenState.data[(n + j) * d + k];
    assert.ok(Math.abs(mean.data[d + k] - s / len) < 1e-6);
  }
  const unit = embedTexts(loaded, ["a charming journey"], { normalize: true })[0];
  assert.ok(Math.abs(Math.hypot(...unit) - 1) < 1e-6);
  assert.ok(Math.abs(textSimilarity(loaded, "a charming journey", "a charming journey") - 1) < 1e-6);
  const s = textSimilarity(loaded, "a charming journey", "the acting unconvincing");
  assert.ok(s > -1 && s < 1);
  let calls = 0;
  embedTexts(loaded, ["a", "b", "c"], { batchSize: 2, onProgress: (done, total) => assert.deepEqual([done, total], [++calls === 1 ? 2 : 3, 3]) });
  assert.equal(calls, 2);
});

test("embedTexts on the wasm backend runs each batch in step memory and gives the same bits as plain forward passes", async () => {
  const wasm = await wasmWithThreads(2);
  registerBackend(wasm);
  const previous = getBackend().name;
  setBackend("wasm");
  try {
    const loaded = await loadBert(PLAIN);
    // 20 sentences of up to 40 tokens a batch: activations of 16 Ki floats and more, so they live in step memory
    const texts = Array.from({ length: 60 }, (_, i) => `${OTHERS[i % OTHERS.length]} ${TARGET.repeat(1 + (i % 3))}`);
    const vectors = embedTexts(loaded, texts, { batchSize: 20 });
    for (let start = 0; start < texts.length; start += 20) {
      const { output, attentionMask } = encodeTexts(loaded, texts.slice(start, start + 20));
      const plain = noGrad(() => sentenceEmbeddings(output.lastHiddenState, attentionMask)).data;
      const d = loaded.config.hiddenSize;
      for (let b = 0; b < 20; b++) {
        assert.deepEqual(new Uint32Array(vectors[start + b].slice().buffer), new Uint32Array(plain.slice(b * d, (b + 1) * d).buffer), `text ${start + b}`);
      }
    }
  } finally {
    setBackend(previous);
  }
});
