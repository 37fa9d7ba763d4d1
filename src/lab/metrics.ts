/** Small numeric helpers of the lab: attention entropy, diagonal mass, symmetry, power-law fits, summary statistics. */
import type { Tensor } from "../tensor/tensor.ts";

/** Arithmetic mean (NaN for an empty list). */
export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

/** Population variance. */
export function variance(xs: ArrayLike<number>): number {
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i] - m) ** 2;
  return s / xs.length;
}

/** Population standard deviation. */
export function std(xs: ArrayLike<number>): number {
  return Math.sqrt(variance(xs));
}

/** The median (mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Shannon entropy in nats of a probability vector, −Σ p·ln p, with 0·ln 0 = 0. */
export function entropy(p: ArrayLike<number>): number {
  let h = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) h -= p[i] * Math.log(p[i]);
  return h;
}

/** Which queries and keys of attention weights count: (batch, n) real-token flags, or all when null. */
export type RealTokens = { shape: readonly number[]; data: Uint8Array } | null;

function perHead(weights: Tensor, real: RealTokens, f: (row: Float32Array, i: number, n: number) => number): number[] {
  const [batch, heads, nQ, nK] = weights.shape;
  const out: number[] = [];
  for (let h = 0; h < heads; h++) {
    let s = 0;
    let count = 0;
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < nQ; i++) {
        if (real && real.data[b * nQ + i] === 0) continue; // padding queries do not count
        const off = ((b * heads + h) * nQ + i) * nK;
        s += f(weights.data.subarray(off, off + nK), i, nK);
        count++;
      }
    }
    out.push(s / Math.max(count, 1));
  }
  return out;
}

/** Mean entropy (nats) of each head's attention rows, over real queries: weights (batch, heads, nQ, nK). */
export function headEntropies(weights: Tensor, real: RealTokens = null): number[] {
  return perHead(weights, real, (row) => entropy(row));
}

/** Mean attention a query puts on its own position (the diagonal a_ii), per head. Uniform attention over n keys gives 1/n. */
export function diagonalMass(weights: Tensor, real: RealTokens = null): number[] {
  return perHead(weights, real, (row, i) => row[i]);
}

/** Mean attention a query puts on the key at `target(i, n)`, per head (e.g. the previous position). */
export function targetMass(weights: Tensor, target: (i: number, n: number) => number, real: RealTokens = null): number[] {
  return perHead(weights, real, (row, i, n) => row[target(i, n)]);
}

/** One head's attention map averaged over the first `sequences` of a (batch, heads, n, n) tensor: n·n values, row = query. */
export function meanAttentionMap(weights: Tensor, head: number, sequences: number): number[] {
  const [, heads, n] = weights.shape;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let b = 0; b < sequences; b++) s += weights.data[((b * heads + head) * n + i) * n + j];
      out.push(s / sequences);
    }
  }
  return out;
}

/** Mean over the rows (last axis) of each row's largest value, e.g. the top probability of softmax rows. */
export function meanRowMax(t: Tensor): number {
  const cols = t.shape[t.rank - 1];
  const rows = t.size / cols;
  let s = 0;
  for (let r = 0; r < rows; r++) s += Math.max(...t.data.subarray(r * cols, (r + 1) * cols));
  return s / rows;
}

/**
 * Symmetry of a square matrix S (n × n, row-major): ⟨S, Sᵀ⟩ / ⟨S, S⟩, the cosine between S and its transpose.
 * 1 = symmetric, −1 = antisymmetric, about 0 for an unstructured matrix.
 */
export function symmetry(s: ArrayLike<number>, n: number): number {
  if (s.length !== n * n) throw new Error(`symmetry: ${s.length} values are not a ${n}×${n} matrix`);
  let cross = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      cross += s[i * n + j] * s[j * n + i];
      norm += s[i * n + j] ** 2;
    }
  }
  return norm === 0 ? 1 : cross / norm;
}

/** Mean symmetry of every (batch, head) score matrix of a (batch, heads, n, n) tensor. */
export function scoreSymmetry(scores: Tensor): number {
  const n = scores.shape[scores.rank - 1];
  const count = scores.size / (n * n);
  let s = 0;
  for (let m = 0; m < count; m++) s += symmetry(scores.data.subarray(m * n * n, (m + 1) * n * n), n);
  return s / count;
}

/** A fitted power law y = c·x^k. */
export interface PowerFit {
  exponent: number;
  coefficient: number;
  /** Coefficient of determination of the log-log fit. */
  r2: number;
}

/** Least-squares line through (ln x, ln y): the exponent k and coefficient c of y ≈ c·x^k. Needs ≥ 2 positive points. */
export function fitPowerLaw(xs: readonly number[], ys: readonly number[]): PowerFit {
  if (xs.length !== ys.length || xs.length < 2) throw new Error("fitPowerLaw: need at least two (x, y) pairs");
  if (xs.some((x) => !(x > 0)) || ys.some((y) => !(y > 0))) throw new Error("fitPowerLaw: x and y must be positive");
  const lx = xs.map(Math.log);
  const ly = ys.map(Math.log);
  const mx = mean(lx);
  const my = mean(ly);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < lx.length; i++) {
    sxy += (lx[i] - mx) * (ly[i] - my);
    sxx += (lx[i] - mx) ** 2;
    syy += (ly[i] - my) ** 2;
  }
  if (sxx === 0) throw new Error("fitPowerLaw: all x are equal");
  const k = sxy / sxx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { exponent: k, coefficient: Math.exp(my - k * mx), r2 };
}

/** Mean and population std of a tensor's values. */
export function tensorStats(t: Tensor): { mean: number; std: number } {
  return { mean: mean(t.data), std: std(t.data) };
}

/** Per-row (last axis) mean and std of a tensor: the statistics LayerNorm controls. */
export function rowStats(t: Tensor): { means: number[]; stds: number[] } {
  const cols = t.shape[t.rank - 1];
  const rows = t.size / cols;
  const means: number[] = [];
  const stds: number[] = [];
  for (let r = 0; r < rows; r++) {
    const row = t.data.subarray(r * cols, (r + 1) * cols);
    means.push(mean(row));
    stds.push(std(row));
  }
  return { means, stds };
}

/** L2 norm of the gradients of some tensors (0 for those without one). */
export function gradNorm(params: readonly Tensor[]): number {
  let s = 0;
  for (const p of params) if (p.grad) for (const g of p.grad.data) s += g * g;
  return Math.sqrt(s);
}

/** Rounds to `digits` significant digits (for metrics that must be stable and readable). */
export function sig(x: number, digits = 4): number {
  if (!Number.isFinite(x) || x === 0) return x;
  return Number(x.toPrecision(digits));
}

/** A number as text with `digits` significant digits, scientific outside [1e-3, 1e5). */
export function fmt(x: number, digits = 3): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+∞" : "−∞";
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a < 1e-3 || a >= 1e5) return x.toExponential(digits - 1).replace("e", "e");
  return String(Number(x.toPrecision(digits)));
}

/** A fraction as a percentage with one decimal. */
export function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}
