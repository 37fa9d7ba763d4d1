/**
 * Attributions on the word-embedding lookup E (the token vectors before positions, token types and LayerNorm):
 * - input × gradient: ‖E_j ⊙ ∂Y/∂E_j‖₂ per token, and the signed Σ_k E_jk·∂Y/∂E_jk;
 * - integrated gradients (Sundararajan et al. 2017) from the zero baseline: IG_j = Σ_k E_jk · mean_s ∂Y/∂E_jk(α_s E)
 *   with m midpoint steps α_s = (s − ½)/m. Completeness: Σ_j IG_j ≈ Y(E) − Y(0), and the gap is reported.
 * Y is the logit of each row's target class; rows are independent.
 */
import { type ExplainableModel, type ExplainBatch, type GradientPass, gradientPass } from "./backprop.ts";

/** Per-token scores: `batch` rows of `n` values. */
export interface TokenScores {
  batch: number;
  n: number;
  data: Float64Array;
}

/** Input × gradient as Kobayashi and others use it: the L2 norm per token, and the signed sum per token. */
export interface InputTimesGradient {
  norm: TokenScores;
  signed: TokenScores;
}

/** ‖E_j ⊙ g_j‖ and Σ_k E_jk g_jk from a lookup and its gradient, both (batch, n, dModel). */
export function inputTimesGradient(lookup: Float32Array, grad: Float32Array, batch: number, n: number): InputTimesGradient {
  const d = lookup.length / (batch * n);
  const norm = new Float64Array(batch * n);
  const signed = new Float64Array(batch * n);
  for (let t = 0; t < batch * n; t++) {
    let sq = 0;
    let s = 0;
    for (let k = t * d; k < (t + 1) * d; k++) {
      const p = lookup[k] * grad[k];
      sq += p * p;
      s += p;
    }
    norm[t] = Math.sqrt(sq);
    signed[t] = s;
  }
  return { norm: { batch, n, data: norm }, signed: { batch, n, data: signed } };
}

/** Integrated gradients with what completeness needs to be checked. */
export interface IntegratedGradients extends TokenScores {
  steps: number;
  /** Per row, Y at the input (α = 1). */
  target: Float64Array;
  /** Per row, Y at the zero baseline (α = 0). */
  baseline: Float64Array;
  /** Per row, |Σ_j IG_j − (target − baseline)| / |target − baseline|: the midpoint rule's error. */
  completenessGap: Float64Array;
}

/** Y_b = logits[b, target_b] from a pass's logits. */
function targetLogits(logits: Float32Array, classes: number, targets: Int32Array): Float64Array {
  return Float64Array.from(targets, (t, b) => logits[b * classes + t]);
}

/** What `integratedGradients` may be given besides the batch. */
export interface IntegratedGradientsOptions {
  /** Midpoint steps (default 32). */
  steps?: number;
  /** Masked heads, as `gradientPass` takes them: every step runs on the same masked model. */
  headMask?: readonly Float32Array[] | null;
  /** The α = 1 pass (the input itself) when the caller already ran it with the same batch and mask. */
  full?: GradientPass;
}

/** Integrated gradients from the zero baseline with `steps` midpoint steps, one pass per step. */
export function integratedGradients(model: ExplainableModel, batch: ExplainBatch, options: IntegratedGradientsOptions = {}): IntegratedGradients {
  const { steps = 32, headMask = null } = options;
  if (!(Number.isInteger(steps) && steps >= 1)) throw new RangeError(`integrated gradients: steps must be a positive integer, got ${steps}`);
  const [rows, n] = batch.ids.shape;
  const full = options.full ?? gradientPass(model, batch, { headMask });
  const zero = gradientPass(model, batch, { alpha: 0, headMask });
  const lookup = full.wordEmbeddings;
  const meanGrad = new Float64Array(lookup.length);
  for (let s = 1; s <= steps; s++) {
    const g = gradientPass(model, batch, { alpha: (s - 0.5) / steps, headMask }).wordEmbeddingGrads;
    for (let k = 0; k < g.length; k++) meanGrad[k] += g[k] / steps;
  }
  const d = lookup.length / (rows * n);
  const data = new Float64Array(rows * n);
  for (let t = 0; t < rows * n; t++) {
    let s = 0;
    for (let k = t * d; k < (t + 1) * d; k++) s += lookup[k] * meanGrad[k];
    data[t] = s;
  }
  const target = targetLogits(full.logits, full.classes, batch.targets);
  const baseline = targetLogits(zero.logits, zero.classes, batch.targets);
  const completenessGap = Float64Array.from(target, (y, b) => {
    let total = 0;
    for (let j = 0; j < n; j++) total += data[b * n + j];
    const delta = y - baseline[b];
    return Math.abs(total - delta) / Math.max(Math.abs(delta), 1e-12);
  });
  return { batch: rows, n, data, steps, target, baseline, completenessGap };
}
