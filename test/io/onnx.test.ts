/**
 * ONNX export: random models exported, run by onnxruntime-web (its WASM build runs in Node, so the suite needs no native
 * peer) and compared with tsformer's own forward (within 1e-4).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import * as ort from "onnxruntime-web";
import onnxProto from "onnx-proto";
import { ConfigError } from "../../src/errors.ts";
import { exportOnnx } from "../../src/models/onnx-export.ts";
import { BertModel } from "../../src/models/bert.ts";
import { parseBertConfig } from "../../src/models/bert-config.ts";
import { EncoderClassifier } from "../../src/models/classifier.ts";
import { loadBert } from "../../src/models/load-bert.ts";
import type { Pooling } from "../../src/models/pooling.ts";
import { maskFromLengths } from "../../src/nn/masks.ts";
import { type EncoderModelConfig, TransformerEncoderModel, encoderConfig } from "../../src/nn/model.ts";
import { noGrad } from "../../src/tensor/autograd.ts";
import { Rng } from "../../src/tensor/random.ts";
import { indexTensor } from "../../src/tensor/tensor.ts";
import { saveCheckpoint } from "../../src/train/checkpoint.ts";
import { Vocabulary } from "../../src/text/vocab.ts";
import { cli } from "../cli/run-cli.ts";

const TOL = 1e-4;
ort.env.wasm.numThreads = 1; // no worker threads: the test process exits when it is done
const tmp = mkdtempSync(join(tmpdir(), "tsformer-onnx-"));

/** Every parameter drawn from N(0, 0.3²), so biases and LayerNorm γ/β are exercised too. */
function randomize<M extends TransformerEncoderModel>(model: M, seed: number): M {
  const rng = new Rng(seed);
  for (const p of model.parameters()) for (let i = 0; i < p.data.length; i++) p.data[i] = 0.3 * rng.normal();
  return model;
}

/** Inputs of a (batch, n) call: ids, the lengths' mask (a 0 length masks a whole row) and token types. */
function inputs(vocab: number, lengths: number[], n: number, seed: number, types = 0): { ids: number[]; mask: Uint8Array; typeIds: number[] } {
  const rng = new Rng(seed);
  const ids = Array.from({ length: lengths.length * n }, () => rng.int(vocab));
  const typeIds = Array.from({ length: lengths.length * n }, () => (types > 0 ? rng.int(types) : 0));
  return { ids, mask: maskFromLengths(lengths, n).data, typeIds };
}

const int64 = (values: ArrayLike<number>, shape: number[]): ort.Tensor => new ort.Tensor("int64", BigInt64Array.from(Array.from(values), (v) => BigInt(v)), shape);

/** Runs the exported graph and tsformer's forward on the same inputs; asserts every output within TOL. */
async function compare(model: TransformerEncoderModel, session: ort.InferenceSession, lengths: number[], n: number, seed: number,
  withTypes = false): Promise<void> {
  const types = withTypes ? model.config.typeVocabSize : 0;
  const { ids, mask, typeIds } = inputs(model.config.vocabSize, lengths, n, seed, types);
  const shape = [lengths.length, n];
  const feeds: Record<string, ort.Tensor> = { input_ids: int64(ids, shape), attention_mask: int64(mask, shape) };
  if (withTypes) feeds.token_type_ids = int64(typeIds, shape);
  const got = await session.run(feeds);
  const want = noGrad(() => model.forward(indexTensor(ids, shape), {
    attentionMask: { shape, data: mask }, tokenTypeIds: withTypes ? indexTensor(typeIds, shape) : null,
  })) as { lastHiddenState: { data: Float32Array }; logits?: { data: Float32Array } | null; poolerOutput?: { data: Float32Array } };
  const expected: Record<string, Float32Array | undefined> = {
    last_hidden_state: want.lastHiddenState.data, logits: want.logits?.data, pooler_output: want.poolerOutput?.data,
  };
  for (const name of session.outputNames) {
    const a = got[name].data as Float32Array;
    const b = expected[name];
    assert.ok(b, `unexpected output ${name}`);
    assert.equal(a.length, b.length, `${name} size`);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    assert.ok(worst <= TOL, `${name}: max |onnx − tsformer| = ${worst} > ${TOL}`);
  }
}

const small = (over: Partial<EncoderModelConfig> = {}): EncoderModelConfig =>
  encoderConfig({ vocabSize: 40, dModel: 16, heads: 4, dFF: 24, numLayers: 2, maxPositions: 12, dropout: 0, ...over });

test("classifier (post-LN, ReLU, sinusoidal, mean pooling): outputs match, dynamic axes, a fully padded row", async () => {
  const model = randomize(new EncoderClassifier({ encoder: small(), pooling: "mean", labels: ["a", "b", "c"] }), 1);
  const e = exportOnnx(model);
  assert.deepEqual(e.inputs, ["input_ids", "attention_mask"]);
  assert.deepEqual(e.outputs, ["last_hidden_state", "logits"]);
  const session = await ort.InferenceSession.create(e.bytes);
  await compare(model, session, [7, 4, 0], 7, 2);
  await compare(model, session, [12], 12, 3); // another batch and sequence length through the same session
});

for (const pooling of ["cls", "max"] as Pooling[]) {
  test(`classifier with ${pooling} pooling, GELU, pre-LN and a final norm`, async () => {
    const model = randomize(new EncoderClassifier({
      encoder: small({ activation: "gelu", normFirst: true, finalNorm: true, positional: "learned" }), pooling, labels: ["x", "y"],
    }), 4);
    const session = await ort.InferenceSession.create(exportOnnx(model).bytes);
    await compare(model, session, [5, 3], 5, 5);
  });
}

test("attention switches: shared W_Q/W_K, own head width and scale, no biases, tanh GELU; additive scoring", async () => {
  const switches = randomize(new TransformerEncoderModel(small({
    activation: "gelu_tanh", positional: "none", scaleEmbedding: false,
    attention: { shareQK: true, headDim: 6, scale: 0.5, bias: false },
  })), 6);
  await compare(switches, await ort.InferenceSession.create(exportOnnx(switches).bytes), [6, 2], 6, 7);
  const additive = randomize(new TransformerEncoderModel(small({ activation: "tanh", numLayers: 1, attention: { scoring: "additive" } })), 8);
  await compare(additive, await ort.InferenceSession.create(exportOnnx(additive).bytes), [4, 3], 4, 9);
});

test("BertModel with pooler, classifier and token types (given as an input, or type 0)", async () => {
  const config = parseBertConfig({
    model_type: "bert", vocab_size: 30, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 20,
    hidden_act: "gelu", max_position_embeddings: 10, type_vocab_size: 2, layer_norm_eps: 1e-12, id2label: { 0: "neg", 1: "pos" },
  });
  const model = randomize(new BertModel(config), 10);
  const withTypes = exportOnnx(model, { tokenTypeIds: true });
  assert.deepEqual(withTypes.inputs, ["input_ids", "attention_mask", "token_type_ids"]);
  assert.deepEqual(withTypes.outputs, ["last_hidden_state", "pooler_output", "logits"]);
  await compare(model, await ort.InferenceSession.create(withTypes.bytes), [8, 5], 8, 11, true);
  await compare(model, await ort.InferenceSession.create(exportOnnx(model).bytes), [8, 5], 8, 12);
});

test("fixed batch and sequence length are written as fixed dimensions; bad options are refused", () => {
  const model = randomize(new EncoderClassifier({ encoder: small(), pooling: "mean", labels: ["a", "b"] }), 13);
  const decoded = onnxProto.onnx.ModelProto.decode(exportOnnx(model, { batch: 2, seqLen: 9 }).bytes);
  const dims = decoded.graph!.input![0].type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue));
  assert.deepEqual(dims, [2, 9]);
  assert.equal(Number(decoded.opsetImport![0].version), 17);
  const dynamic = onnxProto.onnx.ModelProto.decode(exportOnnx(model).bytes);
  assert.deepEqual(dynamic.graph!.input![0].type!.tensorType!.shape!.dim!.map((d) => d.dimParam), ["batch", "sequence"]);
  assert.throws(() => exportOnnx(model, { seqLen: 13 }), ConfigError); // maxPositions is 12
  assert.throws(() => exportOnnx(model, { tokenTypeIds: true }), /no token types/);
});

test("tsformer export-onnx: a classifier checkpoint and a BERT folder, run by onnxruntime", async () => {
  const model = randomize(new EncoderClassifier({ encoder: small({ vocabSize: 6 }), pooling: "mean", labels: ["neg", "pos"] }), 14);
  const dir = join(tmp, "ckpt");
  await saveCheckpoint(dir, model, Vocabulary.fromTokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "good", "bad"]),
    { doLowerCase: true, stripAccents: null, maxLength: 12 });
  const out = join(tmp, "ckpt.onnx");
  const r = cli(["export-onnx", "--model", dir, "--out", out, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).outputs, ["last_hidden_state", "logits"]);
  await compare(model, await ort.InferenceSession.create(readFileSync(out)), [5, 2], 5, 15);

  const bertDir = "test/fixtures/bert_model/bert_model_l2_h32";
  const bertOut = join(tmp, "bert.onnx");
  const b = cli(["export-onnx", "--model", bertDir, "--out", bertOut]);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /wrote .*bert\.onnx.*outputs last_hidden_state, pooler_output/);
  await compare((await loadBert(bertDir)).model, await ort.InferenceSession.create(readFileSync(bertOut)), [9, 4], 9, 16);

  const missing = cli(["export-onnx", "--out", bertOut]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^tsformer: --model DIR is required/);
});
