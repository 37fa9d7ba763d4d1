/**
 * The benchmark's encoder written with TensorFlow.js ops, on weights copied from a tsformer model: the same
 * computation as TransformerEncoderModel (embedding, × √d when configured, sinusoidal or learned positions, token
 * type 0, the embedding LayerNorm, post-LN layers with exact GELU, dropout where tsformer puts it) and the heads of
 * W3 (EncoderClassifier's mean pooling and linear layer) and W4 (BertModel's tanh pooler on [CLS] and classifier).
 */
import type * as TfNs from "@tensorflow/tfjs";
import { BertModel } from "../../src/models/bert.ts";
import type { TransformerEncoderModel } from "../../src/nn/model.ts";
import { SinusoidalPositionalEncoding } from "../../src/nn/embedding.ts";

type Tf = typeof TfNs;
type T = TfNs.Tensor;

/** Lookup tables, kept as stored; every other 2-D `.weight` is a dense layer's. */
const TABLES = new Set(["embedding.weight", "positions.weight", "token_types.weight"]);

/** The encoder in tf ops, its parameters as tensors (or variables, to train) under tsformer's names. */
export class TfEncoder {
  readonly params = new Map<string, T>();
  private readonly sinusoids: T | null;
  private readonly d: number;
  private readonly heads: number;
  private readonly eps: number;
  private readonly scale: boolean;
  private readonly bert: boolean;
  /** Dropout rate while `training`; 0 when the model has none. */
  private readonly dropoutRate: number;
  /** Dropout on (W4's timed steps) or off (inference, W3, the agreement check). */
  training = false;

  constructor(private readonly tf: Tf, model: TransformerEncoderModel, readonly trainable: boolean) {
    const cfg = model.config;
    if (cfg.positional === "none" || cfg.normFirst || cfg.finalNorm || cfg.activation !== "gelu") {
      throw new Error("the tfjs encoder covers the benchmark's configurations only (sinusoidal or learned positions, post-LN, GELU)");
    }
    this.d = cfg.dModel;
    this.heads = cfg.heads;
    this.eps = cfg.layerNormEps;
    this.scale = cfg.scaleEmbedding;
    this.bert = model instanceof BertModel;
    this.dropoutRate = cfg.dropout;
    for (const [name, p] of model.namedParameters()) {
      let t = tf.tensor(p.data, [...p.shape], "float32");
      // Dense weights stored (in, out), as tfjs's own Dense layer keeps them: tfjs-wasm 4.22's fused MatMul adds the
      // bias wrongly when B is read transposed (checked against tfjs-cpu), and an elementwise optimizer is unchanged.
      if (p.shape.length === 2 && name.endsWith(".weight") && !TABLES.has(name)) t = tf.transpose(t);
      // Variables keep tfjs's own unique names: a --quick child builds W3's and W4's models in one process.
      this.params.set(name, trainable ? tf.variable(t, true) : t);
    }
    this.sinusoids = model.positions instanceof SinusoidalPositionalEncoding
      ? tf.tensor(model.positions.table.data, [...model.positions.table.shape], "float32") : null;
  }

  /** The trainable variables (W3, W4). */
  variables(): TfNs.Variable[] {
    return [...this.params.values()] as TfNs.Variable[];
  }

  private p(name: string): T {
    const t = this.params.get(name);
    if (!t) throw new Error(`tfjs encoder: no parameter ${name}`);
    return t;
  }

  /** x·Wᵀ + b as one fused MatMul with Wᵀ stored (tfjs's own form of a dense layer). */
  linear(x: T, name: string): T {
    return this.tf.fused.matMul({ a: x as TfNs.Tensor2D, b: this.p(`${name}.weight`) as TfNs.Tensor2D, bias: this.p(`${name}.bias`) });
  }

  private layerNorm(x: T, name: string): T {
    const tf = this.tf;
    const { mean, variance } = tf.moments(x, -1, true);
    const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps)));
    return tf.add(tf.mul(normed, this.p(`${name}.weight`)), this.p(`${name}.bias`));
  }

  private dropout(x: T): T {
    return this.training && this.dropoutRate > 0 ? this.tf.dropout(x, this.dropoutRate) : x;
  }

  private gelu(x: T): T {
    const tf = this.tf;
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.div(x, Math.SQRT2)), 1));
  }

  /** Embedding lookup; when training, its gradient is a scatter-add (tfjs-wasm lacks the UnsortedSegmentSum kernel of gather's own gradient). */
  private lookup(ids: T): T {
    const tf = this.tf;
    const table = this.p("embedding.weight");
    if (!this.trainable) return tf.gather(table, ids);
    const flat = tf.reshape(ids, [-1, 1]);
    const f = tf.customGrad((...args: (T | TfNs.GradSaveFunc)[]) => {
      const tableIn = args[0] as T;
      return { value: tf.gather(tableIn, ids), gradFunc: (dy: T) => [tf.scatterND(flat, tf.reshape(dy, [-1, this.d]), tableIn.shape)] };
    });
    return f(table);
  }

  /** ids (batch, n) int32, mask (batch, n) float 1/0 → hidden states (batch·n, d). */
  forward(ids: T, mask: T): T {
    const tf = this.tf;
    const [batch, n] = ids.shape;
    const d = this.d;
    const h = this.heads;
    const dk = d / h;
    let x = this.lookup(ids);
    if (this.scale) x = tf.mul(x, Math.sqrt(d));
    x = tf.add(x, tf.slice(this.sinusoids ?? this.p("positions.weight"), [0, 0], [n, d]));
    // Every token has type 0 (tsformer's default when no tokenTypeIds are given): row 0 of the table.
    if (this.params.has("token_types.weight")) x = tf.add(x, tf.slice(this.p("token_types.weight"), [0, 0], [1, d]));
    x = tf.reshape(x, [batch * n, d]);
    if (this.params.has("embedding_norm.weight")) x = this.layerNorm(x, "embedding_norm");
    x = this.dropout(x);
    // Masked keys: a large negative score, so exp gives 0 (every benchmark row has real tokens).
    const bias = tf.reshape(tf.mul(tf.sub(mask, 1), 1e9), [batch, 1, 1, n]);
    const split = (t: T): T => tf.transpose(tf.reshape(t, [batch, n, h, dk]), [0, 2, 1, 3]);
    for (let i = 0; ; i++) {
      const pre = `encoder.layers.${i}`;
      if (!this.params.has(`${pre}.norm1.weight`)) break;
      const q = split(this.linear(x, `${pre}.self_attn.q_proj`));
      const k = split(this.linear(x, `${pre}.self_attn.k_proj`));
      const v = split(this.linear(x, `${pre}.self_attn.v_proj`));
      const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dk)), bias);
      const ctx = tf.reshape(tf.transpose(tf.matMul(this.dropout(tf.softmax(scores)), v), [0, 2, 1, 3]), [batch * n, d]);
      const h1 = this.layerNorm(tf.add(x, this.dropout(this.linear(ctx, `${pre}.self_attn.out_proj`))), `${pre}.norm1`);
      const ff = this.linear(this.dropout(this.gelu(this.linear(h1, `${pre}.ffn.linear1`))), `${pre}.ffn.linear2`);
      x = this.layerNorm(tf.add(h1, this.dropout(ff)), `${pre}.norm2`);
    }
    return x;
  }

  /**
   * The head → logits (batch, labels): BertModel's tanh pooler on the first token ([CLS]) then the classifier, or
   * EncoderClassifier's mean over real tokens then the classifier.
   */
  logits(hidden: T, mask: T): T {
    const tf = this.tf;
    const [batch, n] = mask.shape;
    const h3 = tf.reshape(hidden, [batch, n, this.d]);
    if (this.bert) {
      const cls = tf.reshape(tf.slice(h3, [0, 0, 0], [batch, 1, this.d]), [batch, this.d]);
      return this.linear(tf.tanh(this.linear(cls, "pooler.dense")), "classifier");
    }
    const summed = tf.sum(tf.mul(h3, tf.reshape(mask, [batch, n, 1])), 1);
    const pooled = tf.div(summed, tf.maximum(tf.sum(mask, 1, true), 1e-9));
    return this.linear(pooled, "classifier");
  }

  /** Mean cross-entropy of logits against one-hot targets. */
  loss(logits: T, oneHot: T): TfNs.Scalar {
    const tf = this.tf;
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), -1))) as TfNs.Scalar;
  }
}
