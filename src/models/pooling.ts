/**
 * Sentence embeddings from token vectors, with sentence-transformers' semantics: pool over real tokens only
 * (the attention mask), then optionally L2-normalise. Built from ops, so they are differentiable.
 */
import { ShapeError, formatShape } from "../errors.ts";
import type { AttentionMask } from "../nn/masks.ts";
import { clampMin, div, mul, sqrt } from "../tensor/ops/elementwise.ts";
import { select } from "../tensor/ops/layout.ts";
import { max, sum } from "../tensor/ops/reduce.ts";
import { maskedFill } from "../tensor/ops/nn.ts";
import { Tensor } from "../tensor/tensor.ts";

/** How token vectors become one vector per sequence. */
export type Pooling = "mean" | "cls" | "max";

function checkMask(hidden: Tensor, mask: AttentionMask): void {
  if (hidden.rank !== 3 || mask.shape[0] !== hidden.shape[0] || mask.shape[1] !== hidden.shape[1]) {
    throw new ShapeError(`pooling: mask ${formatShape(mask.shape)} does not match hidden states ${formatShape(hidden.shape)}`);
  }
}

/** Σ_j mask_j·h_j / max(Σ_j mask_j, 1e-9) per sequence: (batch, n, d) → (batch, d). */
export function meanPool(hidden: Tensor, mask: AttentionMask): Tensor {
  checkMask(hidden, mask);
  const [batch, n] = mask.shape;
  const weights = new Tensor(Float32Array.from(mask.data), [batch, n, 1]);
  const counts = new Float32Array(batch);
  for (let b = 0; b < batch; b++) {
    let c = 0;
    for (let j = 0; j < n; j++) c += mask.data[b * n + j];
    counts[b] = Math.max(c, 1e-9); // sentence-transformers' clamp: an all-padding row gives zeros, not NaN
  }
  return div(sum(mul(hidden, weights), 1), new Tensor(counts, [batch, 1]));
}

/** The first token's vector ([CLS] in BERT): (batch, n, d) → (batch, d). */
export function clsPool(hidden: Tensor): Tensor {
  return select(hidden, 1, 0);
}

/** Element-wise max over real tokens (padding set to -1e9 first, as sentence-transformers does). */
export function maxPool(hidden: Tensor, mask: AttentionMask): Tensor {
  checkMask(hidden, mask);
  const padding = { shape: [mask.shape[0], mask.shape[1], 1], data: mask.data.map((v) => 1 - v) };
  return max(maskedFill(hidden, padding, -1e9), 1);
}

/** Pools by name. */
export function pool(kind: Pooling, hidden: Tensor, mask: AttentionMask): Tensor {
  if (kind === "cls") return clsPool(hidden);
  return kind === "mean" ? meanPool(hidden, mask) : maxPool(hidden, mask);
}

/** x / max(‖x‖₂, 1e-12) along the last axis (torch.nn.functional.normalize). */
export function l2Normalize(x: Tensor): Tensor {
  return div(x, clampMin(sqrt(sum(mul(x, x), x.rank - 1, true)), 1e-12));
}

/** Cosine similarity of two vectors. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.max(Math.sqrt(na) * Math.sqrt(nb), 1e-12);
}
