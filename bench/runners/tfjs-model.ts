/**
 * The benchmark's encoder written with TensorFlow.js ops, on weights copied from a tsformer model: the same
 * computation as TransformerEncoderModel (embedding × √d, sinusoidal positions, post-LN layers, exact GELU) and,
 * for W3, EncoderClassifier's mean pooling and linear head, trained with tf.train.adam.
 */
import type * as TfNs from "@tensorflow/tfjs";
import type { TransformerEncoderModel } from "../../src/nn/model.ts";
import type { SinusoidalPositionalEncoding } from "../../src/nn/embedding.ts";

type Tf = typeof TfNs;
type T = TfNs.Tensor;

/** The encoder in tf ops, its parameters as tensors (or variables, to train) under tsformer's names. */
export class TfEncoder {
  readonly params = new Map<string, T>();
  private readonly positions: T;
  private readonly d: number;
  private readonly heads: number;
  private readonly eps: number;

  constructor(private readonly tf: Tf, model: TransformerEncoderModel, readonly trainable: boolean) {
    const cfg = model.config;
    if (cfg.positional !== "sinusoidal" || cfg.normFirst || cfg.activation !== "gelu" || !cfg.scaleEmbedding) {
      throw new Error("the tfjs encoder covers the benchmark's configuration only (sinusoidal, post-LN, GELU, scaled embeddings)");
    }
    this.d = cfg.dModel;
    this.heads = cfg.heads;
    this.eps = cfg.layerNormEps;
    for (const [name, p] of model.namedParameters()) {
      let t = tf.tensor(p.data, [...p.shape], "float32");
      // Dense weights stored (in, out), as tfjs's own Dense layer keeps them: tfjs-wasm 4.22's fused MatMul adds the
      // bias wrongly when B is read transposed (checked against tfjs-cpu), and an elementwise optimizer is unchanged.
      if (p.shape.length === 2 && name.endsWith(".weight") && name !== "embedding.weight") t = tf.transpose(t);
      this.params.set(name, trainable ? tf.variable(t, true, name) : t);
    }
    const table = (model.positions as SinusoidalPositionalEncoding).table;
    this.positions = tf.tensor(table.data, [...table.shape], "float32");
  }

  /** The trainable variables (W3). */
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
    let x = tf.mul(this.lookup(ids), Math.sqrt(d));
    x = tf.add(x, tf.slice(this.positions, [0, 0], [n, d]));
    x = tf.reshape(x, [batch * n, d]);
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
      const ctx = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), v), [0, 2, 1, 3]), [batch * n, d]);
      const h1 = this.layerNorm(tf.add(x, this.linear(ctx, `${pre}.self_attn.out_proj`)), `${pre}.norm1`);
      const ff = this.linear(this.gelu(this.linear(h1, `${pre}.ffn.linear1`)), `${pre}.ffn.linear2`);
      x = this.layerNorm(tf.add(h1, ff), `${pre}.norm2`);
    }
    return x;
  }

  /** EncoderClassifier's head: mean over real tokens, then the linear classifier → logits (batch, labels). */
  logits(hidden: T, mask: T): T {
    const tf = this.tf;
    const [batch, n] = mask.shape;
    const h3 = tf.reshape(hidden, [batch, n, this.d]);
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
