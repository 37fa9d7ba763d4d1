/** The neural-network ops: softmax, LayerNorm, embedding lookup, masking, dropout and attention. */
import type { AttentionParams } from "../../backend/backend.ts";
import { needsGrad } from "../autograd.ts";
import { ShapeError, formatShape } from "../../errors.ts";
import type { Rng } from "../random.ts";
import { type Shape, broadcastShapes, broadcastStrides, sameShape, sizeOf } from "../shape.ts";
import { type IndexTensor, Tensor } from "../tensor.ts";
import { add } from "./elementwise.ts";
import { kernels, result } from "./record.ts";
import { floats, floatsToOverwrite } from "../memory.ts";

/** A boolean tensor (masks): a shape and a Uint8Array of 0 and 1. What 1 means is up to the op taking it. */
export interface BoolTensor {
  readonly shape: Shape;
  readonly data: Uint8Array;
}

/** Softmax over the last axis. A row of all -∞ (fully masked) gives zeros; a row holding NaN gives NaN. */
export function softmax(x: Tensor): Tensor {
  const cols = x.shape[x.rank - 1] ?? 1;
  const rows = x.size / Math.max(cols, 1);
  const out = floatsToOverwrite(x.size);
  kernels().softmax(x.data, out, rows, cols);
  return result("softmax", out, x.shape, [x], (g) => {
    const gx = floatsToOverwrite(g.length);
    kernels().softmaxBackward(out, g, gx, rows, cols);
    return [gx];
  });
}

/** log(softmax(x)) over the last axis, computed stably. */
export function logSoftmax(x: Tensor): Tensor {
  const cols = x.shape[x.rank - 1] ?? 1;
  const rows = x.size / Math.max(cols, 1);
  const out = floatsToOverwrite(x.size);
  kernels().logSoftmax(x.data, out, rows, cols);
  return result("logSoftmax", out, x.shape, [x], (g) => {
    const gx = floatsToOverwrite(g.length);
    kernels().logSoftmaxBackward(out, g, gx, rows, cols);
    return [gx];
  });
}

/**
 * The LayerNorm kernel over the rows of x (of x + residual, summed in float32, when `residual` is given): checks
 * gamma and beta, then returns the output with each row's mean and rstd (into `stats`' arrays when given).
 */
function normalizeRows(x: Tensor, gamma: Tensor | null, beta: Tensor | null, eps: number, residual: Float32Array | null,
  stats?: { mean?: Float32Array; rstd?: Float32Array }): { out: Float32Array; mean: Float32Array; rstd: Float32Array } {
  const cols = x.shape[x.rank - 1];
  for (const [name, p] of [["gamma", gamma], ["beta", beta]] as const) {
    if (p && (p.rank !== 1 || p.shape[0] !== cols)) {
      throw new ShapeError(`layerNorm: ${name} must be [${cols}] for input ${formatShape(x.shape)}, got ${formatShape(p.shape)}`);
    }
  }
  const rows = x.size / cols;
  const out = floatsToOverwrite(x.size);
  const mean = stats?.mean ?? floatsToOverwrite(rows); // the kernel writes every row's statistics
  const rstd = stats?.rstd ?? floatsToOverwrite(rows);
  kernels().layerNorm(x.data, gamma?.data ?? null, beta?.data ?? null, out, mean, rstd, rows, cols, eps, residual);
  return { out, mean, rstd };
}

/**
 * LayerNorm over the last axis: (x − mean)/sqrt(var + eps) · gamma + beta, biased variance, eps inside the
 * square root (PyTorch). `stats`, when given, receives each row's mean and rstd = 1/sqrt(var + eps).
 */
export function layerNorm(x: Tensor, gamma: Tensor | null, beta: Tensor | null, eps: number,
  stats?: { mean?: Float32Array; rstd?: Float32Array }): Tensor {
  const { out, mean, rstd } = normalizeRows(x, gamma, beta, eps, null, stats);
  const cols = x.shape[x.rank - 1];
  const rows = x.size / cols;
  const inputs = [x, gamma, beta].filter((t): t is Tensor => t !== null);
  return result("layerNorm", out, x.shape, inputs, (g) => {
    const dx = x.requiresGrad ? floatsToOverwrite(x.size) : null;
    const dgamma = gamma?.requiresGrad ? floats(cols) : null;
    const dbeta = beta?.requiresGrad ? floats(cols) : null;
    kernels().layerNormBackward(x.data, gamma?.data ?? null, mean, rstd, g, dx, dgamma, dbeta, rows, cols);
    const grads: (Float32Array | null)[] = [dx];
    if (gamma) grads.push(dgamma);
    if (beta) grads.push(dbeta);
    return grads;
  });
}

/**
 * layerNorm(x + residual): post-LN's "Add & Norm" (Q07 steps 4–5 and 7). Where no gradient is recorded, one row
 * pass sums each row in float32 and normalises it while it is in cache (the same bits as the two ops); otherwise,
 * or when the shapes differ (a broadcast sum), the two ops, since the backward pass needs the sum.
 */
export function addLayerNorm(x: Tensor, residual: Tensor, gamma: Tensor | null, beta: Tensor | null, eps: number): Tensor {
  const params = [gamma, beta].filter((t): t is Tensor => t !== null);
  if (!sameShape(x.shape, residual.shape) || needsGrad([x, residual, ...params])) {
    return layerNorm(add(x, residual), gamma, beta, eps);
  }
  return new Tensor(normalizeRows(x, gamma, beta, eps, residual.data).out, x.shape);
}

/** Rows of `table` (vocab, d) picked by integer ids: output shape ids.shape + [d]. */
export function embedding(table: Tensor, ids: IndexTensor): Tensor {
  if (table.rank !== 2) throw new ShapeError(`embedding: table must be (vocab, d), got ${formatShape(table.shape)}`);
  const [vocab, cols] = table.shape;
  for (let i = 0; i < ids.data.length; i++) {
    const id = ids.data[i];
    if (id < 0 || id >= vocab) throw new ShapeError(`embedding: id ${id} at position ${i} is outside the vocabulary of ${vocab}`);
  }
  const out = floats(ids.data.length * cols);
  kernels().gather(table.data, cols, ids.data, out);
  return result("embedding", out, [...ids.shape, cols], [table], (g) => {
    const gt = floats(table.size);
    kernels().scatterAdd(g, cols, ids.data, gt);
    return [gt];
  });
}

/** x with `value` where the (broadcast) mask is 1 (PyTorch's `masked_fill`). The gradient is 0 there. */
export function maskedFill(x: Tensor, mask: BoolTensor, value: number): Tensor {
  const shape = broadcastShapes(x.shape, mask.shape, "maskedFill");
  if (!sameShape(shape, x.shape)) {
    throw new ShapeError(`maskedFill: mask ${formatShape(mask.shape)} must broadcast to the input ${formatShape(x.shape)}`);
  }
  const strides = broadcastStrides(mask.shape, shape);
  const out = floatsToOverwrite(x.size);
  kernels().maskedFill(x.data, mask.data, strides, value, out, shape);
  return result("maskedFill", out, shape, [x], (g) => {
    const gx = floatsToOverwrite(g.length);
    kernels().maskedFill(g, mask.data, strides, 0, gx, shape);
    return [gx];
  });
}

/**
 * Inverted dropout: each element is zeroed with probability p and the rest scaled by 1/(1 − p), so the
 * expectation is unchanged and inference needs no rescaling. p = 0 returns x itself.
 */
export function dropout(x: Tensor, p: number, rng: Rng): Tensor {
  if (!(p >= 0 && p < 1)) throw new ShapeError(`dropout: probability must be in [0, 1), got ${p}`);
  if (p === 0) return x;
  const keep = floatsToOverwrite(x.size);
  const s = 1 / (1 - p);
  const threshold = p * 4294967296; // compare raw 32-bit draws: uniform() < p without a division per element
  for (let i = 0; i < keep.length; i++) keep[i] = rng.nextUint32() < threshold ? 0 : s;
  const out = floatsToOverwrite(x.size);
  for (let i = 0; i < out.length; i++) out[i] = x.data[i] * keep[i];
  return result("dropout", out, x.shape, [x], (g) => {
    const gx = floatsToOverwrite(g.length);
    for (let i = 0; i < gx.length; i++) gx[i] = g[i] * keep[i];
    return [gx];
  });
}

/** Options of `scaledDotProductAttention`. */
export interface AttentionOptions {
  /** Multiplies Q·Kᵀ; default 1/√d_k (Q04). */
  scale?: number;
  /** (batch, nK): 1 = attend this key, 0 = padding (the library's mask convention). */
  keyMask?: BoolTensor | null;
  /** Query i sees keys j ≤ i only. */
  causal?: boolean;
  /** Added to the scaled scores; broadcast to (batch, heads, nQ, nK). */
  additiveMask?: Tensor | null;
  /** Also return the attention probabilities (batch, heads, nQ, nK). */
  needWeights?: boolean;
  /** Also return the scaled scores before masking (batch, heads, nQ, nK). */
  needScores?: boolean;
  /**
   * Q, K, V and the output are (batch, n, heads, d), the layout of the Q/K/V projections reshaped, rather than
   * (batch, heads, n, d): the kernel reads each head in place, and the backward pass writes dQ, dK, dV in place,
   * so the caller needs no permutes. Weights and scores stay (batch, heads, nQ, nK).
   */
  tokenMajor?: boolean;
}

/** What `scaledDotProductAttention` returns: the output and, when asked, probabilities and scores. */
export interface AttentionResult {
  output: Tensor;
  /** softmax over keys; not differentiable (a view for inspection). */
  weights: Tensor | null;
  /** Q·Kᵀ × scale before masking; not differentiable. */
  scores: Tensor | null;
}

/**
 * softmax(Q·Kᵀ × scale + mask) · V for Q (B, h, nQ, d_k), K (B, h, nK, d_k), V (B, h, nK, d_v).
 * Masked keys get probability exactly 0; a query whose every key is masked gets an output of zeros.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): AttentionResult {
  const tokenMajor = options.tokenMajor ?? false;
  const layout = tokenMajor ? "(batch, n, heads, d)" : "(batch, heads, n, d)";
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new ShapeError(`attention: Q, K, V must be ${layout}, got ${formatShape(q.shape)}, ${formatShape(k.shape)}, ${formatShape(v.shape)}`);
  }
  // (batch, heads, n, d) indexes, in either layout
  const [b, h, n, d] = tokenMajor ? [0, 2, 1, 3] : [0, 1, 2, 3];
  const [batch, heads, nQ, dK] = [q.shape[b], q.shape[h], q.shape[n], q.shape[d]];
  const [nK, dV] = [v.shape[n], v.shape[d]];
  if (k.shape[b] !== batch || k.shape[h] !== heads || k.shape[d] !== dK) {
    throw new ShapeError(`attention: K ${formatShape(k.shape)} does not match Q ${formatShape(q.shape)}`);
  }
  if (v.shape[b] !== batch || v.shape[h] !== heads || v.shape[n] !== k.shape[n]) {
    throw new ShapeError(`attention: V ${formatShape(v.shape)} does not match K ${formatShape(k.shape)}`);
  }
  const keyMask = options.keyMask ?? null;
  if (keyMask && (keyMask.shape.length !== 2 || keyMask.shape[0] !== batch || keyMask.shape[1] !== nK)) {
    throw new ShapeError(`attention: key mask must be [${batch}, ${nK}], got ${formatShape(keyMask.shape)}`);
  }
  const additive = options.additiveMask ?? null;
  const fullShape = [batch, heads, nQ, nK];
  let additiveStrides: [number, number, number, number] = [0, 0, 0, 0];
  if (additive) {
    if (additive.rank > 4 || !sameShape(broadcastShapes(additive.shape, fullShape, "attention mask"), fullShape)) {
      throw new ShapeError(`attention: additive mask ${formatShape(additive.shape)} does not broadcast to ${formatShape(fullShape)}`);
    }
    additiveStrides = broadcastStrides(additive.shape, fullShape) as [number, number, number, number];
  }
  const params: AttentionParams = {
    batch, heads, nQ, nK, dK, dV,
    scale: options.scale ?? 1 / Math.sqrt(dK),
    causal: options.causal ?? false,
    keyMask: keyMask?.data ?? null,
    additiveMask: additive?.data ?? null,
    additiveStrides,
    tokenMajor,
  };
  const inputs = additive ? [q, k, v, additive] : [q, k, v];
  const recording = needsGrad(inputs);
  const out = floatsToOverwrite(batch * heads * nQ * dV);
  const probs = options.needWeights || recording ? floatsToOverwrite(batch * heads * nQ * nK) : null;
  const scores = options.needScores ? floatsToOverwrite(batch * heads * nQ * nK) : null;
  kernels().attention(q.data, k.data, v.data, out, params, probs, scores);
  const output = result("attention", out, tokenMajor ? [batch, nQ, heads, dV] : [batch, heads, nQ, dV], inputs, (g) => {
    const dq = q.requiresGrad ? floatsToOverwrite(q.size) : null;
    const dk = k.requiresGrad ? floatsToOverwrite(k.size) : null;
    const dv = v.requiresGrad ? floatsToOverwrite(v.size) : null;
    const dScores = additive?.requiresGrad ? floats(sizeOf(fullShape)) : null;
    kernels().attentionBackward(q.data, k.data, v.data, probs!, g, dq, dk, dv, params, dScores);
    const grads: (Float32Array | null)[] = [dq, dk, dv];
    if (additive) {
      let dMask: Float32Array | null = null;
      if (dScores) {
        dMask = floats(additive.size);
        kernels().sumTo(dScores, fullShape, dMask, additive.shape);
      }
      grads.push(dMask);
    }
    return grads;
  });
  return {
    output,
    weights: options.needWeights && probs ? new Tensor(probs, fullShape) : null,
    scores: scores ? new Tensor(scores, fullShape) : null,
  };
}
