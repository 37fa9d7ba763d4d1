/**
 * Explanations that follow attention through the layers, each a (batch, n, n) or (batch, heads, n, n) map:
 * - attention rollout (Abnar & Zuidema 2020): M_l = ½·mean_h A_l + ½·I (the residual), rollout = M_{L−1}···M_0;
 * - norm-based contributions (Kobayashi et al. 2020): α_ij·‖f^h(x_j)‖, the size of what a key actually adds,
 *   not just how much it is attended to; per head and summed over heads;
 * - gradient × attention relevance (Chefer et al. 2021): Ā_l = mean_h max(∂Y/∂A_l ⊙ A_l, 0), R ← R + Ā_l·R.
 * Row i of a map says how much of position i's output comes from each input position; row 0 ([CLS]) is the
 * usual token relevance. Sums run in double precision.
 */
import type { Tensor } from "../tensor/tensor.ts";

/** A stack of square maps: `data` holds `batch` row-major n×n matrices. */
export interface TokenMaps {
  batch: number;
  n: number;
  data: Float64Array;
}

/** C = A·B for n×n row-major matrices. */
function matmulSquare(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
    }
  }
  return c;
}

/** mean over heads of f(A, G) for row b of a (batch, heads, n, n) tensor: an n×n matrix. */
function headMean(attn: Tensor, b: number, f: (a: number, i: number) => number): Float64Array {
  const [, heads, n] = attn.shape;
  const out = new Float64Array(n * n);
  for (let h = 0; h < heads; h++) {
    const base = (b * heads + h) * n * n;
    for (let k = 0; k < n * n; k++) out[k] += f(attn.data[base + k], base + k);
  }
  for (let k = 0; k < n * n; k++) out[k] /= heads;
  return out;
}

/** Attention rollout over every layer (the last layer's matrix leftmost). `attentions`: per layer (batch, heads, n, n). */
export function attentionRollout(attentions: readonly Tensor[]): TokenMaps {
  const [batch, , n] = attentions[0].shape;
  const data = new Float64Array(batch * n * n);
  for (let b = 0; b < batch; b++) {
    let rollout: Float64Array | null = null;
    for (const a of attentions) {
      // The residual connection carries each token's own vector forward: half the flow stays in place.
      const m = headMean(a, b, (v) => 0.5 * v);
      for (let i = 0; i < n; i++) m[i * n + i] += 0.5;
      rollout = rollout ? matmulSquare(m, rollout, n) : m;
    }
    data.set(rollout!, b * n * n);
  }
  return { batch, n, data };
}

/** Norm-based contributions of one layer: per head (batch, heads, n, n) and summed over heads (batch, n, n). */
export interface NormContributions {
  perHead: Float64Array;
  summed: Float64Array;
  batch: number;
  heads: number;
  n: number;
}

/**
 * Kobayashi et al.'s ‖α f(x)‖ for one layer: with v^h_j the head's value of token j (bias included) and W_O^h the
 * columns of W_O that read head h, f^h(x_j) = v^h_j·(W_O^h)ᵀ (no output bias); per head α_ij·‖f^h(x_j)‖, and
 * ‖Σ_h α^h_ij f^h(x_j)‖ for the layer. `values` (batch, heads, n, d_k); `outWeight` W_O (dModel, heads·d_k).
 */
export function normContributions(attention: Tensor, values: Tensor, outWeight: Tensor): NormContributions {
  const [batch, heads, n, headDim] = values.shape;
  const dModel = outWeight.shape[0];
  const inner = outWeight.shape[1];
  const w = outWeight.data;
  // f[b, h, j, :] (dModel) for every token and head.
  const f = new Float64Array(batch * heads * n * dModel);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let j = 0; j < n; j++) {
        const v = (b * heads * n + h * n + j) * headDim;
        const o = ((b * heads + h) * n + j) * dModel;
        for (let r = 0; r < dModel; r++) {
          let s = 0;
          for (let k = 0; k < headDim; k++) s += values.data[v + k] * w[r * inner + h * headDim + k];
          f[o + r] = s;
        }
      }
    }
  }
  const fNorm = new Float64Array(batch * heads * n);
  for (let t = 0; t < fNorm.length; t++) {
    let s = 0;
    for (let r = 0; r < dModel; r++) s += f[t * dModel + r] ** 2;
    fNorm[t] = Math.sqrt(s);
  }
  const perHead = new Float64Array(batch * heads * n * n);
  const summed = new Float64Array(batch * n * n);
  const acc = new Float64Array(dModel);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        acc.fill(0);
        for (let h = 0; h < heads; h++) {
          const alpha = attention.data[((b * heads + h) * n + i) * n + j];
          perHead[((b * heads + h) * n + i) * n + j] = alpha * fNorm[(b * heads + h) * n + j];
          const o = ((b * heads + h) * n + j) * dModel;
          for (let r = 0; r < dModel; r++) acc[r] += alpha * f[o + r];
        }
        let s = 0;
        for (let r = 0; r < dModel; r++) s += acc[r] ** 2;
        summed[(b * n + i) * n + j] = Math.sqrt(s);
      }
    }
  }
  return { perHead, summed, batch, heads, n };
}

/**
 * Chefer et al.'s relevance: R = I, then for each layer from the first, R ← R + Ā_l·R with
 * Ā_l = mean_h max(G_l ⊙ A_l, 0) and G_l = ∂Y/∂A_l. `attentions`, `gradients`: per layer, (batch, heads, n, n).
 */
export function gradientAttentionRelevance(attentions: readonly Tensor[], gradients: readonly Float32Array[]): TokenMaps {
  const [batch, , n] = attentions[0].shape;
  const data = new Float64Array(batch * n * n);
  for (let b = 0; b < batch; b++) {
    let r = new Float64Array(n * n);
    for (let i = 0; i < n; i++) r[i * n + i] = 1;
    attentions.forEach((a, l) => {
      const g = gradients[l];
      const abar = headMean(a, b, (v, at) => Math.max(g[at] * v, 0));
      const update = matmulSquare(abar, r, n);
      r = r.map((x, k) => x + update[k]);
    });
    data.set(r, b * n * n);
  }
  return { batch, n, data };
}
