/**
 * int8 ONNX export: random models exported with `quantize: "int8"`, run by onnxruntime-web, compared with tsformer's
 * own int8 forward (`quantizeDynamic` on the same model). Both compute the same integers (the scheme of
 * src/nn/quantize.ts), so they agree to float32 rounding, a thousand times closer than either is to float32.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import * as ort from "onnxruntime-web";
import onnxProto from "onnx-proto";
import { ConfigError } from "../../src/errors.ts";
import { BertModel } from "../../src/models/bert.ts";
import { parseBertConfig } from "../../src/models/bert-config.ts";
import { EncoderClassifier } from "../../src/models/classifier.ts";
import { loadBert } from "../../src/models/load-bert.ts";
import { exportOnnx } from "../../src/models/onnx-export.ts";
import { maskFromLengths } from "../../src/nn/masks.ts";
import { type EncoderModelConfig, TransformerEncoderModel, encoderConfig } from "../../src/nn/model.ts";
import { dequantize, quantizeDynamic } from "../../src/nn/quantize.ts";
import { noGrad } from "../../src/tensor/autograd.ts";
import { Rng } from "../../src/tensor/random.ts";
import { indexTensor } from "../../src/tensor/tensor.ts";
import { cli } from "../cli/run-cli.ts";

// The integers are the same; ORT's float ops (LayerNorm, softmax, Erf) differ from tsformer's in the last bits
// (measured: at most 6e-7 on these cases), against 2e-2–6e-2 between int8 and float32. A last-bit difference could
// move an activation across a rounding boundary (an error of about one activation step): the seeds here do not.
const TOL = 1e-5;
const tmp = mkdtempSync(join(tmpdir(), "tsformer-onnx-int8-"));
ort.env.wasm.numThreads = 1; // no worker threads: the test process exits when it is done

const { TensorProto } = onnxProto.onnx;

/** Every parameter drawn from N(0, 0.3²), so biases and LayerNorm γ/β are exercised too. */
function randomize<M extends TransformerEncoderModel>(model: M, seed: number): M {
  const rng = new Rng(seed);
  for (const p of model.parameters()) for (let i = 0; i < p.data.length; i++) p.data[i] = 0.3 * rng.normal();
  return model;
}

const int64 = (values: ArrayLike<number>, shape: number[]): ort.Tensor => new ort.Tensor("int64", BigInt64Array.from(Array.from(values), (v) => BigInt(v)), shape);

type Outputs = Record<string, Float32Array>;

/** tsformer's forward (whatever its Linears hold) on random ids with the lengths' mask. */
function tsformerOutputs(model: TransformerEncoderModel, ids: number[], mask: Uint8Array, shape: number[]): Outputs {
  const out = noGrad(() => model.forward(indexTensor(ids, shape), { attentionMask: { shape, data: mask } })) as {
    lastHiddenState: { data: Float32Array }; logits?: { data: Float32Array } | null; poolerOutput?: { data: Float32Array };
  };
  const r: Outputs = { last_hidden_state: out.lastHiddenState.data };
  if (out.logits) r.logits = out.logits.data;
  if (out.poolerOutput) r.pooler_output = out.poolerOutput.data;
  return r;
}

const maxDiff = (a: Float32Array, b: Float32Array): number => {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
};

/**
 * Runs the int8 graph in onnxruntime-web and asserts every output within TOL of tsformer's int8 forward — and
 * farther from the float32 forward, so the comparison really is with the integers. Returns the worst difference.
 */
async function compareInt8(model: TransformerEncoderModel, bytes: Uint8Array, lengths: number[], n: number, seed: number): Promise<number> {
  const rng = new Rng(seed);
  const shape = [lengths.length, n];
  const ids = Array.from({ length: lengths.length * n }, () => rng.int(model.config.vocabSize));
  const mask = maskFromLengths(lengths, n).data;
  const fp32 = tsformerOutputs(model, ids, mask, shape);
  const session = await ort.InferenceSession.create(bytes);
  const got = await session.run({ input_ids: int64(ids, shape), attention_mask: int64(mask, shape) });
  const int8 = withQuantized(model, () => tsformerOutputs(model, ids, mask, shape));
  let worst = 0;
  for (const name of session.outputNames) {
    const a = got[name].data as Float32Array;
    assert.ok(int8[name], `unexpected output ${name}`);
    const d = maxDiff(a, int8[name]);
    assert.ok(d <= TOL, `${name}: max |onnx int8 − tsformer int8| = ${d} > ${TOL}`);
    const fromFp32 = maxDiff(a, fp32[name]);
    assert.ok(fromFp32 > 100 * TOL, `${name}: the int8 graph is within ${fromFp32} of float32: is it quantized at all?`);
    worst = Math.max(worst, d);
  }
  return worst;
}

/** Runs `f` with the model quantized, then puts the float32 weights back in use (the model is shared between calls). */
function withQuantized<T>(model: TransformerEncoderModel, f: () => T): T {
  quantizeDynamic(model);
  try {
    return f();
  } finally {
    dequantize(model);
  }
}

/** Node types and initializer data types of an exported graph. */
function graphSummary(bytes: Uint8Array): { ops: Map<string, number>; initializerTypes: Map<number, number>; int8Bytes: number; floatBytes: number } {
  const graph = onnxProto.onnx.ModelProto.decode(bytes).graph!;
  const ops = new Map<string, number>();
  for (const node of graph.node ?? []) ops.set(node.opType!, (ops.get(node.opType!) ?? 0) + 1);
  const initializerTypes = new Map<number, number>();
  let int8Bytes = 0;
  let floatBytes = 0;
  for (const t of graph.initializer ?? []) {
    initializerTypes.set(t.dataType!, (initializerTypes.get(t.dataType!) ?? 0) + 1);
    if (t.dataType === TensorProto.DataType.INT8) int8Bytes += t.rawData!.length;
    if (t.dataType === TensorProto.DataType.FLOAT) floatBytes += t.rawData!.length;
  }
  return { ops, initializerTypes, int8Bytes, floatBytes };
}

const small = (over: Partial<EncoderModelConfig> = {}): EncoderModelConfig =>
  encoderConfig({ vocabSize: 40, dModel: 32, heads: 4, dFF: 64, numLayers: 2, maxPositions: 12, dropout: 0, ...over });

test("int8 BertModel (GELU, pooler, classifier): one MatMulInteger per Linear, int8 weights, outputs match tsformer's int8", async () => {
  const config = parseBertConfig({
    model_type: "bert", vocab_size: 30, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 48,
    hidden_act: "gelu", max_position_embeddings: 10, type_vocab_size: 2, layer_norm_eps: 1e-12, id2label: { 0: "neg", 1: "pos" },
  });
  const model = randomize(new BertModel(config), 21);
  const e = exportOnnx(model, { quantize: "int8" });
  assert.deepEqual(e.outputs, ["last_hidden_state", "pooler_output", "logits"]);
  const g = graphSummary(e.bytes);
  // Per layer Q, K, V, W_O and the FFN's two; then the pooler and the classifier.
  assert.equal(g.ops.get("MatMulInteger"), 2 * 6 + 2);
  assert.equal(g.ops.get("MatMul"), 2 * 2, "the only float MatMuls left are attention's Q·Kᵀ and P·V");
  assert.equal(g.initializerTypes.get(TensorProto.DataType.INT8), 2 * 6 + 2);
  assert.equal(g.initializerTypes.get(TensorProto.DataType.INT32), 2 * 6 + 2, "one column-sum vector per Linear");
  // Q, K and V read the same input: quantized once per layer, so 4 row quantizations per layer plus the pooler's and the classifier's.
  assert.equal(g.ops.get("ReduceMin"), 2 * 4 + 2);
  await compareInt8(model, e.bytes, [8, 5, 0], 8, 22);
  await compareInt8(model, e.bytes, [10], 10, 23); // another batch and sequence length through the same graph
});

test("int8 classifier (post-LN, ReLU, shared W_Q = W_K, mean pooling); a model already quantized exports the same graph", async () => {
  const model = randomize(new EncoderClassifier({ encoder: small({ attention: { shareQK: true } }), pooling: "mean", labels: ["a", "b", "c"] }), 24);
  const e = exportOnnx(model, { quantize: "int8" });
  assert.equal(graphSummary(e.bytes).initializerTypes.get(TensorProto.DataType.INT8), 2 * 5 + 1, "W_Q serves as W_K: stored once");
  await compareInt8(model, e.bytes, [7, 4], 7, 25);
  const again = withQuantized(model, () => exportOnnx(model, { quantize: "int8" }));
  assert.deepEqual(again.bytes, e.bytes);
});

test("int8 graph: the Linear weights take a quarter of the float32 bytes; a bad quantize option is refused", () => {
  const model = randomize(new TransformerEncoderModel(small({ dModel: 64, dFF: 256 })), 26);
  const fp32 = graphSummary(exportOnnx(model).bytes);
  const int8 = exportOnnx(model, { quantize: "int8" });
  const q = graphSummary(int8.bytes);
  const linearWeights = 2 * (4 * 64 * 64 + 2 * 64 * 256);
  assert.equal(q.int8Bytes, linearWeights);
  // Float bytes left: everything but the Linear weights, plus one float scale per output channel and the two scalar
  // constants of the row quantization (127, and the scale 1 of an all-zero row; 0 is there already, for the mask).
  const scales = 2 * (4 * 64 + 256 + 64);
  assert.equal(q.floatBytes, fp32.floatBytes - 4 * linearWeights + 4 * scales + 2 * 4);
  assert.throws(() => exportOnnx(model, { quantize: "int4" as "int8" }), ConfigError);
});

test("tsformer export-onnx --quantize int8: a BERT folder, run by onnxruntime-web; a smaller file; other dtypes refused", async () => {
  const bertDir = "test/fixtures/bert_model/bert_model_l2_h32";
  const out = join(tmp, "bert-int8.onnx");
  const r = cli(["export-onnx", "--model", bertDir, "--out", out, "--quantize", "int8"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote .*bert-int8\.onnx.*int8 Linear layers.*outputs last_hidden_state, pooler_output/);
  const fp32Out = join(tmp, "bert.onnx");
  assert.equal(cli(["export-onnx", "--model", bertDir, "--out", fp32Out]).code, 0);
  assert.ok(readFileSync(out).length < readFileSync(fp32Out).length, "the int8 file is smaller");
  await compareInt8((await loadBert(bertDir)).model, readFileSync(out), [9, 4], 9, 27);

  const bad = cli(["export-onnx", "--model", bertDir, "--out", out, "--quantize", "fp16"]);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr.trim(), 'tsformer: --quantize "fp16" must be int8 (leave it out for float32)');
});
