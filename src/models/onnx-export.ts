/**
 * ONNX export: a TransformerEncoderModel (or a subclass: EncoderClassifier, BertModel) as an ONNX graph of
 * standard opset-17 ops that onnxruntime (native or web) runs.
 *
 *   inputs   input_ids (int64 [batch, sequence]), attention_mask (int64, 1 = real token)
 *            and, with `tokenTypeIds`, token_type_ids (int64) for models with token types
 *   outputs  last_hidden_state (float [batch, sequence, d_model]), plus pooler_output (a BertModel with a pooler)
 *            and logits (models with a classifier head)
 *
 * The graph computes what `model.forward` computes in inference mode (dropout off), with tsformer's mask semantics:
 * masked keys get probability exactly 0 (the lowest float32 is added before softmax, which exp sends to 0), and a
 * row whose every key is masked gets a context of zeros (the context is multiplied by "the row has a real key").
 * Linear weights are stored transposed (in × out) so that each projection is one MatMul.
 *
 * With `quantize: "int8"` every Linear becomes the integer graph of tsformer's int8 scheme (src/nn/quantize.ts),
 * so onnxruntime computes the very integers `quantizeDynamic` does: see `EncoderExporter.int8Linear`.
 */
import { ConfigError, ShapeError } from "../errors.ts";
import { BertModel } from "./bert.ts";
import { EncoderClassifier } from "./classifier.ts";
import type { Pooling } from "./pooling.ts";
import type { MultiHeadAttention } from "../nn/attention.ts";
import type { EncoderLayer } from "../nn/encoder.ts";
import { LearnedPositionalEmbedding } from "../nn/embedding.ts";
import type { LayerNorm } from "../nn/layernorm.ts";
import type { Linear } from "../nn/linear.ts";
import type { TransformerEncoderModel } from "../nn/model.ts";
import { type QuantizedWeight, quantizeWeight } from "../nn/quantize.ts";
import { noGrad } from "../tensor/autograd.ts";
import type { Activation } from "../tensor/ops/elementwise.ts";
import { transpose } from "../tensor/ops/layout.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { type OnnxDim, OnnxGraphBuilder, OnnxType } from "../io/onnx-graph.ts";

/** The opset of the exported graphs (17: the first with LayerNormalization). */
export const ONNX_OPSET = 17;

/** Options of `exportOnnx`. */
export interface OnnxExportOptions {
  /** A fixed batch size; default a dynamic `batch` axis. */
  batch?: number;
  /** A fixed sequence length (≤ the model's maxPositions); default a dynamic `sequence` axis. */
  seqLen?: number;
  /** Add a `token_type_ids` input (models with token types only); without it every token has type 0, as in `forward`. */
  tokenTypeIds?: boolean;
  /** Written into the model's metadata (e.g. the source folder). */
  metadata?: Record<string, string>;
  /** "int8": every Linear as int8 weights per output channel with activations quantized per row (default: float32). */
  quantize?: "int8";
}

/** An exported model: the serialized bytes and what the graph takes and gives. */
export interface OnnxExport {
  bytes: Uint8Array;
  inputs: string[];
  outputs: string[];
  /** Number of graph nodes. */
  nodes: number;
}

// The lowest float32: added to masked scores it leaves them finite, so a fully masked row stays NaN-free.
const LOWEST_F32 = -3.4028234663852886e38;
// Exact GELU in the form ORT's Gelu fusion matches: Div by √2, Erf, Add 1, Mul x, Mul 0.5.
const SQRT2 = Math.SQRT2;
// protobuf messages are limited to 2 GiB; larger models would need ONNX's external-data format, which this writer lacks.
const MAX_PROTO_BYTES = 2 ** 31 - 2 ** 24;

// What an int8 graph records about its numbers, for whoever reads the file's metadata.
const INT8_METADATA = "tsformer int8: Linear weights int8 per output channel (symmetric), activations uint8 [0, 127] per row (asymmetric), int32 accumulation; embeddings, LayerNorm, softmax and attention in float32";

/** Checks an optional fixed size. */
function checkSize(what: string, v: number | undefined, max = Number.MAX_SAFE_INTEGER): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 1 && v <= max)) {
    throw new ConfigError(`onnx export: ${what} must be an integer from 1 to ${max}, got ${v}`);
  }
}

/** The initializers of a Linear in the graph: float Wᵀ, or int8 Wᵀ with its scales and column sums. */
type LinearParams = { w: string; b: string | null } | { wq: string; wScale: string; columnSums: string; b: string | null };

/** A value quantized per row: uint8 values in [0, 127], the zero points as int32 and the scales (…, 1). */
interface QuantizedActivation {
  values: string;
  zeroPoints: string;
  scales: string;
}

/** Walks a model and emits its graph. */
class EncoderExporter {
  readonly g = new OnnxGraphBuilder();
  private readonly names = new Map<Tensor, string>();
  private readonly linears = new Map<Linear, LinearParams>();
  // Q, K and V read the same input: it is quantized once.
  private readonly quantizedInputs = new Map<string, QuantizedActivation>();

  constructor(private readonly model: TransformerEncoderModel, private readonly int8: boolean) {
    // Initializers carry the parameters' own names; a shared tensor (shareQK) keeps its first name.
    for (const [name, t] of model.namedParameters()) if (!this.names.has(t)) this.names.set(t, name);
  }

  private nameOf(t: Tensor, fallback: string): string {
    return this.names.get(t) ?? fallback;
  }

  /** y = x·Wᵀ + b as MatMul (Wᵀ stored, named `<weight>.T`) and Add; a module used twice stores its weights once. */
  linear(scope: string, x: string, lin: Linear, name: string): string {
    let p = this.linears.get(lin);
    if (!p) {
      const b = lin.bias ? this.g.floatTensor(this.nameOf(lin.bias, `${name}.bias`), lin.bias.data, [lin.outFeatures]) : null;
      p = this.int8 ? this.int8Params(lin, name, b)
        : { w: this.g.floatTensor(`${this.nameOf(lin.weight, `${name}.weight`)}.T`, noGrad(() => transpose(lin.weight, 0, 1)).data, [lin.inFeatures, lin.outFeatures]), b };
      this.linears.set(lin, p);
    }
    const y = "w" in p ? this.g.op(scope, "MatMul", [x, p.w]) : this.int8Linear(scope, x, p);
    return p.b ? this.g.op(scope, "Add", [y, p.b]) : y;
  }

  /** The int8 initializers of a Linear: wqᵀ (in × out, int8), its per-output scales (float) and column sums (int32). */
  private int8Params(lin: Linear, name: string, b: string | null): LinearParams {
    const q: QuantizedWeight = lin.quantized ?? quantizeWeight(lin.weight);
    const { inFeatures: k, outFeatures: n } = q;
    const transposed = new Int8Array(k * n);
    for (let j = 0; j < n; j++) for (let i = 0; i < k; i++) transposed[i * n + j] = q.values[j * k + i];
    const base = this.nameOf(lin.weight, `${name}.weight`);
    return {
      wq: this.g.int8Tensor(`${base}.int8.T`, transposed, [k, n]),
      wScale: this.g.floatTensor(`${base}.scale`, q.scales, [n]),
      columnSums: this.g.int32Tensor(`${base}.column_sums`, q.columnSums, [n]),
      b,
    };
  }

  /**
   * x (…, k) quantized per row as the scheme says, from ONNX primitives in float32: lo = min(0, min x), hi = max(0, max x),
   * scale = (hi − lo)/127 (1 if 0), zp = clip(round(−lo/scale), 0, 127), q = clip(round(x/scale) + zp, 0, 127) as uint8.
   * Round is ONNX's round-half-to-even, as the scheme's.
   */
  private quantizeRows(scope: string, x: string): QuantizedActivation {
    const cached = this.quantizedInputs.get(x);
    if (cached) return cached;
    const g = this.g;
    const s = `${scope}/quantize`;
    const zero = g.constFloat([0]);
    const top = g.constFloat([127]);
    const lo = g.op(s, "Min", [g.op(s, "ReduceMin", [x], { axes: { ints: [-1] }, keepdims: { i: 1 } }), zero]);
    const hi = g.op(s, "Max", [g.op(s, "ReduceMax", [x], { axes: { ints: [-1] }, keepdims: { i: 1 } }), zero]);
    const range = g.op(s, "Sub", [hi, lo]);
    const scales = g.op(s, "Where", [g.op(s, "Equal", [range, zero]), g.constFloat([1]), g.op(s, "Div", [range, top])]);
    const zp = g.op(s, "Clip", [g.op(s, "Round", [g.op(s, "Div", [g.op(s, "Neg", [lo]), scales])]), zero, top]);
    const q = g.op(s, "Clip", [g.op(s, "Add", [g.op(s, "Round", [g.op(s, "Div", [x, scales])]), zp]), zero, top]);
    const result = {
      values: g.op(s, "Cast", [q], { to: { i: OnnxType.uint8 } }),
      zeroPoints: g.op(s, "Cast", [zp], { to: { i: OnnxType.int32 } }),
      scales,
    };
    this.quantizedInputs.set(x, result);
    return result;
  }

  /**
   * x·Wᵀ in int8: acc = MatMulInteger(q, wqᵀ) − zp·columnSums (int32, exact), then ((float(acc) × aScale) × wScale)
   * in the scheme's order. The zero point is subtracted with int32 ops rather than as MatMulInteger's a_zero_point
   * because onnxruntime's kernel accepts only a scalar there, and each row has its own.
   */
  private int8Linear(scope: string, x: string, p: Extract<LinearParams, { wq: string }>): string {
    const g = this.g;
    const a = this.quantizeRows(scope, x);
    const product = g.op(scope, "MatMulInteger", [a.values, p.wq]);
    const acc = g.op(scope, "Sub", [product, g.op(scope, "Mul", [a.zeroPoints, p.columnSums])]);
    const rows = g.op(scope, "Mul", [g.op(scope, "Cast", [acc], { to: { i: OnnxType.float } }), a.scales]);
    return g.op(scope, "Mul", [rows, p.wScale]);
  }

  /** LayerNormalization over the last axis with the module's γ, β and ε. */
  layerNorm(scope: string, x: string, ln: LayerNorm, name: string): string {
    const w = this.g.floatTensor(this.nameOf(ln.weight, `${name}.weight`), ln.weight.data, [ln.size]);
    const b = this.g.floatTensor(this.nameOf(ln.bias, `${name}.bias`), ln.bias.data, [ln.size]);
    return this.g.op(scope, "LayerNormalization", [x, w, b], { axis: { i: -1 }, epsilon: { f: ln.eps } });
  }

  /** The activation as standard ops: exact GELU through Erf, the tanh form through Tanh. */
  activation(scope: string, x: string, act: Activation): string {
    const g = this.g;
    if (act === "relu") return g.op(scope, "Relu", [x]);
    if (act === "tanh") return g.op(scope, "Tanh", [x]);
    if (act === "gelu") {
      const e = g.op(scope, "Erf", [g.op(scope, "Div", [x, g.constFloat([SQRT2])])]);
      return g.op(scope, "Mul", [g.op(scope, "Mul", [x, g.op(scope, "Add", [e, g.constFloat([1])])]), g.constFloat([0.5])]);
    }
    // gelu_tanh: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
    const x3 = g.op(scope, "Mul", [g.op(scope, "Mul", [x, x]), x]);
    const inner = g.op(scope, "Mul", [g.op(scope, "Add", [x, g.op(scope, "Mul", [x3, g.constFloat([0.044715])])]), g.constFloat([Math.sqrt(2 / Math.PI)])]);
    const t = g.op(scope, "Tanh", [inner]);
    return g.op(scope, "Mul", [g.op(scope, "Mul", [x, g.op(scope, "Add", [t, g.constFloat([1])])]), g.constFloat([0.5])]);
  }

  /** (batch, n, h·d) → (batch, h, n, d), or (batch, h, d, n) for keys of dot scoring. */
  private splitHeads(scope: string, x: string, heads: number, headDim: number, keys = false): string {
    const r = this.g.op(scope, "Reshape", [x, this.g.constInt64([0, 0, heads, headDim])]);
    return this.g.op(scope, "Transpose", [r], { perm: { ints: keys ? [0, 2, 3, 1] : [0, 2, 1, 3] } });
  }

  /** Multi-head self-attention; `maskBias` is (batch, 1, 1, n), `hasKeys` (batch, 1, 1). */
  attention(prefix: string, x: string, a: MultiHeadAttention, maskBias: string, hasKeys: string): string {
    const g = this.g;
    const s = `${prefix}.self_attn`;
    const q = this.linear(s, x, a.qProj, `${s}.q_proj`);
    const k = a.shareQK ? q : this.linear(s, x, a.kProj, `${s}.k_proj`);
    const v = this.linear(s, x, a.vProj, `${s}.v_proj`);
    const qh = this.splitHeads(s, q, a.heads, a.headDim);
    const vh = this.splitHeads(s, v, a.heads, a.headDim);
    let scores: string;
    if (a.scoring === "dot") {
      const kt = this.splitHeads(s, k, a.heads, a.headDim, true);
      scores = g.op(s, "Mul", [g.op(s, "MatMul", [qh, kt]), g.constFloat([a.scale])]);
    } else {
      // Additive (Bahdanau) scoring, unscaled as in MultiHeadAttention: vᵀ·tanh(q_i + k_j) per head.
      const kh = this.splitHeads(s, k, a.heads, a.headDim);
      const qi = g.op(s, "Unsqueeze", [qh, g.constInt64([3])]);
      const kj = g.op(s, "Unsqueeze", [kh, g.constInt64([2])]);
      const vAdd = g.floatTensor(this.nameOf(a.additiveV!, `${s}.additive_v`), a.additiveV!.data, [1, a.heads, 1, 1, a.headDim]);
      const t = g.op(s, "Mul", [g.op(s, "Tanh", [g.op(s, "Add", [qi, kj])]), vAdd]);
      scores = g.op(s, "ReduceSum", [t, g.constInt64([4])], { keepdims: { i: 0 } });
    }
    const probs = g.op(s, "Softmax", [g.op(s, "Add", [scores, maskBias])], { axis: { i: -1 } });
    const ctx = g.op(s, "Transpose", [g.op(s, "MatMul", [probs, vh])], { perm: { ints: [0, 2, 1, 3] } });
    const merged = g.op(s, "Reshape", [ctx, g.constInt64([0, 0, a.heads * a.headDim])]);
    return this.linear(s, g.op(s, "Mul", [merged, hasKeys]), a.outProj, `${s}.out_proj`);
  }

  /** One encoder layer, post-LN or pre-LN, with the lab switches (residual, LayerNorm) honoured. */
  layer(prefix: string, x: string, layer: EncoderLayer, act: Activation, maskBias: string, hasKeys: string): string {
    const g = this.g;
    const norm = (ln: LayerNorm | null, t: string, name: string): string => (ln ? this.layerNorm(prefix, t, ln, `${prefix}.${name}`) : t);
    const residual = (input: string, out: string): string => (layer.residual ? g.op(prefix, "Add", [input, out]) : out);
    const ffn = (t: string): string => {
      const f = `${prefix}.ffn`;
      const hidden = this.activation(f, this.linear(f, t, layer.ffn.linear1, `${f}.linear1`), act);
      return this.linear(f, hidden, layer.ffn.linear2, `${f}.linear2`);
    };
    if (layer.normFirst) {
      const h1 = residual(x, this.attention(prefix, norm(layer.norm1, x, "norm1"), layer.selfAttn, maskBias, hasKeys));
      return residual(h1, ffn(norm(layer.norm2, h1, "norm2")));
    }
    const h1 = norm(layer.norm1, residual(x, this.attention(prefix, x, layer.selfAttn, maskBias, hasKeys)), "norm1");
    return norm(layer.norm2, residual(h1, ffn(h1)), "norm2");
  }

  /** Embedding lookup (× √d_model), positions sliced to the sequence, token types, embedding LayerNorm. */
  embed(ids: string, tokenTypes: string | null): string {
    const g = this.g;
    const m = this.model;
    const s = "embedding";
    const d = m.config.dModel;
    const table = g.floatTensor(this.nameOf(m.embedding.weight, "embedding.weight"), m.embedding.weight.data, [m.embedding.vocabSize, d]);
    let x = g.op(s, "Gather", [table, ids], { axis: { i: 0 } });
    if (m.embedding.scaleBySqrtDModel) x = g.op(s, "Mul", [x, g.constFloat([Math.sqrt(d)])]);
    if (m.positions) {
      const p = m.positions;
      const posTable = p instanceof LearnedPositionalEmbedding
        ? g.floatTensor(this.nameOf(p.weight, "positions.weight"), p.weight.data, [p.maxLen, d])
        : g.floatTensor("positions.sinusoidal", p.table.data, [p.maxLen, d]);
      const n = g.op("positions", "Slice", [g.op("positions", "Shape", [ids]), g.constInt64([1]), g.constInt64([2])]);
      x = g.op("positions", "Add", [x, g.op("positions", "Slice", [posTable, g.constInt64([0]), n, g.constInt64([0])])]);
    }
    if (m.tokenTypes) {
      const types = m.config.typeVocabSize;
      if (tokenTypes) {
        const tt = g.floatTensor(this.nameOf(m.tokenTypes, "token_types.weight"), m.tokenTypes.data, [types, d]);
        x = g.op("token_types", "Add", [x, g.op("token_types", "Gather", [tt, tokenTypes], { axis: { i: 0 } })]);
      } else {
        // forward() without tokenTypeIds uses type 0 everywhere: add that one row.
        x = g.op("token_types", "Add", [x, g.floatTensor("token_types.row0", m.tokenTypes.data.slice(0, d), [d])]);
      }
    }
    if (m.embeddingNorm) x = this.layerNorm("embedding_norm", x, m.embeddingNorm, "embedding_norm");
    return x;
  }

  /** tsformer's pooling over real tokens: mean (clamped count), the first token, or max with padding at −1e9. */
  pool(kind: Pooling, h: string, maskBool: string, maskF: string): string {
    const g = this.g;
    const s = "pool";
    if (kind === "cls") return g.op(s, "Gather", [h, g.constInt64([0], [])], { axis: { i: 1 } });
    if (kind === "max") {
      const m3 = g.op(s, "Unsqueeze", [maskBool, g.constInt64([2])]);
      return g.op(s, "ReduceMax", [g.op(s, "Where", [m3, h, g.constFloat([-1e9])])], { axes: { ints: [1] }, keepdims: { i: 0 } });
    }
    const summed = g.op(s, "ReduceSum", [g.op(s, "Mul", [h, g.op(s, "Unsqueeze", [maskF, g.constInt64([2])])]), g.constInt64([1])], { keepdims: { i: 0 } });
    const count = g.op(s, "Max", [g.op(s, "ReduceSum", [maskF, g.constInt64([1])], { keepdims: { i: 1 } }), g.constFloat([1e-9])]);
    return g.op(s, "Div", [summed, count]);
  }
}

/**
 * Exports `model` as an ONNX graph (opset 17) with dynamic batch and sequence axes unless fixed by the options.
 * EncoderClassifier adds `logits`; BertModel adds `pooler_output` (with a pooler) and `logits` (with a classifier);
 * any other subclass exports the encoder's `last_hidden_state`.
 */
export function exportOnnx(model: TransformerEncoderModel, options: OnnxExportOptions = {}): OnnxExport {
  const cfg = model.config;
  checkSize("batch", options.batch);
  checkSize("sequence length", options.seqLen, model.positions ? model.positions.maxLen : Number.MAX_SAFE_INTEGER);
  if (model.parameterCount() * 4 > MAX_PROTO_BYTES) {
    throw new ShapeError(`onnx export: ${model.parameterCount()} parameters need over 2 GiB, ONNX's protobuf limit (external data is not supported)`);
  }
  if (options.tokenTypeIds && !model.tokenTypes) throw new ConfigError("onnx export: token_type_ids asked for, but the model has no token types (typeVocabSize 0)");
  if (options.quantize !== undefined && options.quantize !== "int8") {
    throw new ConfigError(`onnx export: quantize must be "int8", got ${JSON.stringify(options.quantize)}`);
  }
  const x = new EncoderExporter(model, options.quantize === "int8");
  const g = x.g;
  const batch: OnnxDim = options.batch ?? "batch";
  const seq: OnnxDim = options.seqLen ?? "sequence";
  const ids = g.input("input_ids", OnnxType.int64, [batch, seq]);
  const mask = g.input("attention_mask", OnnxType.int64, [batch, seq]);
  const types = options.tokenTypeIds ? g.input("token_type_ids", OnnxType.int64, [batch, seq]) : null;

  // The mask in the forms the graph needs: boolean, float, the additive bias (batch, 1, 1, n) and "row has a real key".
  const maskBool = g.op("mask", "Cast", [mask], { to: { i: OnnxType.bool } });
  const maskF = g.op("mask", "Cast", [maskBool], { to: { i: OnnxType.float } });
  const bias2 = g.op("mask", "Where", [maskBool, g.constFloat([0]), g.constFloat([LOWEST_F32])]);
  const maskBias = g.op("mask", "Unsqueeze", [bias2, g.constInt64([1, 2])]);
  const hasKeys = g.op("mask", "Unsqueeze", [g.op("mask", "ReduceMax", [maskF], { axes: { ints: [1] }, keepdims: { i: 1 } }), g.constInt64([2])]);

  let h = x.embed(ids, types);
  const act = cfg.activation;
  model.encoder.layers.items.forEach((layer, i) => {
    h = x.layer(`encoder.layers.${i}`, h, layer, act, maskBias, hasKeys);
  });
  if (model.encoder.norm) h = x.layerNorm("encoder.norm", h, model.encoder.norm, "encoder.norm");

  const outputs = ["last_hidden_state"];
  g.output("last_hidden_state", h, OnnxType.float, [batch, seq, cfg.dModel]);
  const head = (pooled: string, classifier: Linear | null): void => {
    if (!classifier) return;
    g.output("logits", x.linear("classifier", pooled, classifier, "classifier"), OnnxType.float, [batch, classifier.outFeatures]);
    outputs.push("logits");
  };
  if (model instanceof EncoderClassifier) {
    head(x.pool(model.classifierConfig.pooling, h, maskBool, maskF), model.classifier);
  } else if (model instanceof BertModel) {
    let pooled: string;
    if (model.pooler) {
      const cls = x.pool("cls", h, maskBool, maskF);
      pooled = g.op("pooler", "Tanh", [x.linear("pooler", cls, model.pooler.dense, "pooler.dense")]);
      g.output("pooler_output", pooled, OnnxType.float, [batch, cfg.dModel]);
      outputs.push("pooler_output");
    } else {
      const kind = model.bertConfig.tsformer?.pooling ?? "pooler";
      pooled = x.pool(kind === "pooler" ? "cls" : kind, h, maskBool, maskF);
    }
    head(pooled, model.classifier);
  }
  const inputs = types ? ["input_ids", "attention_mask", "token_type_ids"] : ["input_ids", "attention_mask"];
  const bytes = g.encode({
    opset: ONNX_OPSET, producerName: "tsformer", producerVersion: "0.1.0", graphName: model.constructor.name,
    docString: `tsformer ${model.constructor.name}: ${cfg.numLayers} layers, d_model ${cfg.dModel}, ${cfg.heads} heads, d_ff ${cfg.dFF}${options.quantize ? `, ${options.quantize} Linear layers` : ""}`,
    metadata: options.quantize ? { ...options.metadata, quantization: INT8_METADATA } : options.metadata,
  });
  return { bytes, inputs, outputs, nodes: g.nodeCount };
}

/** Exports `model` and writes the file atomically (a crash leaves the old file or the new one). */
export async function writeOnnx(model: TransformerEncoderModel, path: string, options: OnnxExportOptions = {}): Promise<OnnxExport> {
  const result = exportOnnx(model, options);
  await writeFileAtomic(path, result.bytes);
  return result;
}
