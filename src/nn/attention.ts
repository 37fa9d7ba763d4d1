/**
 * Multi-head attention (Vaswani et al. 2017, §3.2.2):
 *   MultiHead(Q, K, V) = Concat(head_1, …, head_h) · W_O,  head_i = Attention(Q·W_Q^i, K·W_K^i, V·W_V^i)
 * with Attention(Q, K, V) = softmax(Q·Kᵀ / √d_k) · V.
 */
import { ConfigError, ShapeError, formatShape } from "../errors.ts";
import { Rng } from "../tensor/random.ts";
import { checkInput } from "../tensor/checks.ts";
import { add, scale as scaleOp, mul, tanh } from "../tensor/ops/elementwise.ts";
import { matmul } from "../tensor/ops/linalg.ts";
import { permute, reshape } from "../tensor/ops/layout.ts";
import { sum } from "../tensor/ops/reduce.ts";
import { maskedFill, scaledDotProductAttention, softmax } from "../tensor/ops/nn.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { normal } from "./init.ts";
import { Dropout } from "./layernorm.ts";
import { Linear } from "./linear.ts";
import { type AttentionMask, combinedMask } from "./masks.ts";
import { Module } from "./module.ts";
import type { Trace } from "./trace.ts";

/** How a query and a key are compared. */
export type Scoring = "dot" | "additive";

/** Options of `MultiHeadAttention`. */
export interface MultiHeadAttentionOptions {
  /** Model width d_model (input and output size). */
  dModel: number;
  /** Number of heads h (Q01). */
  heads: number;
  /** Per-head width d_k = d_v. Default d_model / h (Q06); set d_model to give every head the full width. */
  headDim?: number;
  /** Biases on the four projections (default true). */
  bias?: boolean;
  /** Multiplies Q·Kᵀ. Default 1/√d_k (Q04); 1 turns scaling off. */
  scale?: number;
  /** Use one matrix for W_Q and W_K (Q02's "why not the same weights"; for the lab). Default false. */
  shareQK?: boolean;
  /** "dot" (the paper) or "additive" (Bahdanau: vᵀ·tanh(W_Q q + W_K k), Q03). Default "dot". */
  scoring?: Scoring;
  /** Dropout on the attention probabilities during training. */
  dropout?: number;
  rng?: Rng;
}

/** Inputs of one attention call besides the query. */
export interface AttentionCall {
  /** Keys and values come from here (cross-attention, n_k ≠ n_q allowed); default the query (self-attention). */
  memory?: Tensor;
  /** (batch, nKeys), 1 = attend (see masks.ts). */
  attentionMask?: AttentionMask | null;
  /** Hide keys after each query (decoder-style). */
  causal?: boolean;
  /** Float mask added to the scores, broadcast to (batch, heads, nQ, nK). */
  additiveMask?: Tensor | null;
  /** Return the per-head attention probabilities. */
  needWeights?: boolean;
  /** Records Q/K/V, scores, probabilities and the context, step by step. */
  trace?: Trace;
  /**
   * Multiplies each head's output (softmax(·)·V, before the heads are concatenated): (heads) or (batch, heads).
   * 0 removes a head, 1 keeps it (Hugging Face's `head_mask`); a gate that requires a gradient gives Michel et
   * al.'s head importance ∂L/∂ξ.
   */
  headGate?: Tensor | null;
}

/** The result of attention: the output (batch, nQ, dModel) and, when asked, probabilities (batch, h, nQ, nK). */
export interface AttentionOutput {
  output: Tensor;
  weights: Tensor | null;
}

/** Multi-head attention with separate W_Q, W_K, W_V (Q02), h heads of d_k (Q06) and the output projection W_O. */
export class MultiHeadAttention extends Module {
  readonly dModel: number;
  readonly heads: number;
  readonly headDim: number;
  readonly scale: number;
  readonly scoring: Scoring;
  readonly shareQK: boolean;
  /** W_Q: d_model → h·d_k. */
  readonly qProj: Linear;
  /** W_K: d_model → h·d_k. The same module as qProj when shareQK. */
  readonly kProj: Linear;
  /** W_V: d_model → h·d_v. */
  readonly vProj: Linear;
  /** W_O: h·d_v → d_model, mixing the concatenated heads back into one representation (Q06). */
  readonly outProj: Linear;
  /** The vector v of additive scoring, one per head: (h, d_k). Null for dot-product scoring. */
  readonly additiveV: Tensor | null;
  private readonly attnDropout: Dropout;

  constructor(options: MultiHeadAttentionOptions) {
    super();
    const { dModel, heads } = options;
    if (!Number.isInteger(heads) || heads < 1) throw new ConfigError(`attention: heads must be a positive integer, got ${heads}`);
    if (options.headDim === undefined && dModel % heads !== 0) {
      throw new ConfigError(`attention: d_model ${dModel} is not divisible by ${heads} heads (set headDim to choose d_k)`);
    }
    const rng = options.rng ?? new Rng(0);
    const bias = options.bias ?? true;
    this.dModel = dModel;
    this.heads = heads;
    // Q06: each head works in a d_k = d_model/h subspace, so h heads cost what one full-width head costs.
    this.headDim = options.headDim ?? dModel / heads;
    // Q04: q·k sums d_k products, so its variance grows with d_k; ÷√d_k keeps softmax out of saturation.
    this.scale = options.scale ?? 1 / Math.sqrt(this.headDim);
    this.scoring = options.scoring ?? "dot";
    this.shareQK = options.shareQK ?? false;
    const inner = heads * this.headDim;
    // Q02: separate projections let "what I look for" (Q) differ from "what I offer" (K); with one matrix
    // the score matrix x·W·Wᵀ·xᵀ is symmetric and favours each token's own position.
    this.qProj = this.registerModule("q_proj", new Linear(dModel, inner, { bias, init: "xavier", rng }));
    this.kProj = this.shareQK ? this.qProj : this.registerModule("k_proj", new Linear(dModel, inner, { bias, init: "xavier", rng }));
    this.vProj = this.registerModule("v_proj", new Linear(dModel, inner, { bias, init: "xavier", rng }));
    this.outProj = this.registerModule("out_proj", new Linear(inner, dModel, { bias, init: "xavier", rng }));
    this.additiveV = this.scoring === "additive"
      ? this.registerParameter("additive_v", normal([heads, this.headDim], this.headDim ** -0.5, rng))
      : null;
    this.attnDropout = this.registerModule("dropout", new Dropout(options.dropout ?? 0, rng));
  }

  /** (batch, n, h·d) → (batch, h, n, d): head j takes columns [j·d, (j+1)·d). */
  private splitHeads(x: Tensor): Tensor {
    const [batch, n] = x.shape;
    return permute(reshape(x, [batch, n, this.heads, this.headDim]), [0, 2, 1, 3]);
  }

  /** (batch, h, n, d) → (batch, n, h·d): the heads concatenated in order. */
  private mergeHeads(x: Tensor): Tensor {
    const [batch, , n] = x.shape;
    return reshape(permute(x, [0, 2, 1, 3]), [batch, n, this.heads * this.headDim]);
  }

  /** Attention of `query` (batch, nQ, dModel) over `call.memory` (batch, nK, dModel), default itself. */
  forward(query: Tensor, call: AttentionCall = {}): AttentionOutput {
    const memory = call.memory ?? query;
    if (query.rank !== 3 || query.shape[2] !== this.dModel) {
      throw new ShapeError(`attention: query must be (batch, n, ${this.dModel}), got ${formatShape(query.shape)}`);
    }
    if (memory.rank !== 3 || memory.shape[2] !== this.dModel || memory.shape[0] !== query.shape[0]) {
      throw new ShapeError(`attention: memory must be (${query.shape[0]}, n, ${this.dModel}), got ${formatShape(memory.shape)}`);
    }
    checkInput("attention: query", query.data, query.shape);
    if (memory !== query) checkInput("attention: memory", memory.data, memory.shape);
    const trace = call.trace;
    // Q02: three separate projections of the input.
    const qProj = this.qProj.forward(query);
    const kProj = this.kProj.forward(memory);
    const vProj = this.vProj.forward(memory);
    trace?.record("q_proj", qProj);
    trace?.record("k_proj", kProj);
    trace?.record("v_proj", vProj);
    const stepByStep = trace !== undefined || this.scoring === "additive" || (this.training && this.attnDropout.p > 0);
    if (!stepByStep) return this.attendInPlace(qProj, kProj, vProj, call);
    // Q01/Q06: h heads, each attending in its own d_k-wide subspace.
    const q = this.splitHeads(qProj);
    const k = this.splitHeads(kProj);
    const v = this.splitHeads(vProj);
    trace?.record("q", q);
    trace?.record("k", k);
    trace?.record("v", v);
    const { heads, weights } = this.attendStepByStep(q, k, v, call);
    const gated = call.headGate ? mul(heads, this.gateShape(call.headGate, q.shape[0], false)) : heads;
    trace?.record("head_outputs", gated);
    // Q06: concatenate the heads, then W_O projects h·d_v back to d_model.
    const context = this.mergeHeads(gated);
    trace?.record("context", context);
    const output = this.outProj.forward(context);
    trace?.record("output", output);
    return { output, weights: call.needWeights ? weights : null };
  }

  /**
   * A (heads) or (batch, heads) gate shaped to scale every row of a head's output: (1 or batch, heads, 1, 1), or
   * (1 or batch, 1, heads, 1) for outputs laid out (batch, n, heads, d) (`tokenMajor`).
   */
  private gateShape(gate: Tensor, batch: number, tokenMajor: boolean): Tensor {
    const rows = gate.rank === 1 ? 1 : gate.shape[0];
    if (gate.shape[gate.rank - 1] !== this.heads || gate.rank > 2 || (rows !== 1 && rows !== batch)) {
      throw new ShapeError(`attention: headGate must be (${this.heads}) or (${batch}, ${this.heads}), got ${formatShape(gate.shape)}`);
    }
    return reshape(gate, tokenMajor ? [rows, 1, this.heads, 1] : [rows, this.heads, 1, 1]);
  }

  /**
   * Nothing to trace or drop out, dot-product scores: one fused kernel (scores, scale, mask, softmax, ·V) reads each
   * head straight from the projections' (batch, n, h·d) layout and writes the concatenated heads, and its backward
   * pass writes dQ, dK, dV there too, so the heads are never split or merged by permutes (~5 % of a BERT forward
   * pass), in inference or in training. A head gate scales the output in that layout.
   */
  private attendInPlace(qProj: Tensor, kProj: Tensor, vProj: Tensor, call: AttentionCall): AttentionOutput {
    const [batch, nQ] = qProj.shape;
    const nK = kProj.shape[1];
    const perHead = (x: Tensor, n: number): Tensor => reshape(x, [batch, n, this.heads, this.headDim]);
    const r = scaledDotProductAttention(perHead(qProj, nQ), perHead(kProj, nK), perHead(vProj, nK), {
      scale: this.scale,
      keyMask: call.attentionMask ?? null,
      causal: call.causal ?? false,
      additiveMask: call.additiveMask ?? null,
      needWeights: call.needWeights ?? false,
      tokenMajor: true,
    });
    const heads = call.headGate ? mul(r.output, this.gateShape(call.headGate, batch, true)) : r.output;
    const output = this.outProj.forward(reshape(heads, [batch, nQ, this.heads * this.headDim]));
    return { output, weights: call.needWeights ? r.weights : null };
  }

  /** The same computation as separate ops, each step recorded: the formula of the paper, line by line. */
  private attendStepByStep(q: Tensor, k: Tensor, v: Tensor, call: AttentionCall): { heads: Tensor; weights: Tensor } {
    const trace = call.trace;
    const [batch, , nQ] = q.shape;
    const nK = k.shape[2];
    let scores: Tensor;
    if (this.scoring === "dot") {
      // Q04: QKᵀ is (n_q × n_k) per head — one score per query–key pair, not d × d.
      const raw = trace?.record("scores_raw", matmul(q, k, { transB: true })) ?? matmul(q, k, { transB: true });
      scores = scaleOp(raw, this.scale);
    } else {
      // Q03: additive scoring e_ij = vᵀ tanh(q_i + k_j) materialises a (n_q, n_k, d_k) tensor per head.
      const qi = reshape(q, [batch, this.heads, nQ, 1, this.headDim]);
      const kj = reshape(k, [batch, this.heads, 1, nK, this.headDim]);
      const vAdd = reshape(this.additiveV!, [1, this.heads, 1, 1, this.headDim]);
      scores = sum(mul(tanh(add(qi, kj)), vAdd), 4);
    }
    trace?.record("scores", scores);
    // Q05: hide padding (and future keys when causal) by setting their scores to -∞ before softmax.
    let masked = scores;
    if (call.additiveMask) masked = add(masked, call.additiveMask);
    if (call.attentionMask || call.causal) {
      masked = maskedFill(masked, combinedMask(call.attentionMask ?? null, nQ, nK, call.causal ?? false), -Infinity);
    }
    trace?.record("scores_masked", masked);
    const weights = softmax(masked);
    trace?.record("weights", weights);
    const heads = matmul(this.attnDropout.forward(weights), v);
    return { heads, weights };
  }
}
