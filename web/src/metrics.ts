/**
 * Measures of a run's attention and of how a what-if changed it. All are averages over real query tokens (rows of
 * [PAD] tokens are left out), so runs with and without padding compare directly.
 */
import { entropy } from "../../src/lab/metrics.ts";
import type { RunResult, TensorData } from "./engine/protocol.ts";

/** Which head: an index, or the mean over the heads. */
export type HeadChoice = number | "mean";

/** A layer's attention for one head (or the mean of the heads): n × n, row = query. */
export function attentionMatrix(r: RunResult, layer: number, head: HeadChoice): { values: Float32Array; n: number } {
  const a: TensorData = r.attentions[layer];
  const [, heads, n] = a.shape;
  if (head !== "mean") return { values: a.data.subarray(head * n * n, (head + 1) * n * n), n };
  const values = new Float32Array(n * n);
  for (let h = 0; h < heads; h++) for (let i = 0; i < n * n; i++) values[i] += a.data[h * n * n + i] / heads;
  return { values, n };
}

/** Calls `row(values, offset, n, i)` for each real query row i of each head of each layer; returns the row count. */
function forEachRealRow(r: RunResult, row: (values: Float32Array, offset: number, n: number, i: number) => void): number {
  let count = 0;
  for (const a of r.attentions) {
    const [, heads, n] = a.shape;
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < r.realLength; i++) {
        row(a.data, (h * n + i) * n, n, i);
        count++;
      }
    }
  }
  return count;
}

/** Mean entropy −Σ p log p of the attention rows, in nats (Q04: without scaling, rows get sharper). */
export function meanEntropy(r: RunResult): number {
  let total = 0;
  const count = forEachRealRow(r, (v, o, n) => (total += entropy(v.subarray(o, o + n))));
  return count ? total / count : 0;
}

/** Mean weight a token gives to itself (Q01, Q02: the notes claim a single head or W_Q = W_K favours it). */
export function meanSelfAttention(r: RunResult): number {
  let total = 0;
  const count = forEachRealRow(r, (v, o, _n, i) => (total += v[o + i]));
  return count ? total / count : 0;
}

/** Mean total weight a real token gives to [PAD] keys (Q05: exactly 0 with the mask). */
export function meanPaddingAttention(r: RunResult): number {
  let total = 0;
  const count = forEachRealRow(r, (v, o, n) => {
    for (let j = r.realLength; j < n; j++) total += v[o + j];
  });
  return count ? total / count : 0;
}

/**
 * Mean total variation ½·Σ_j |p_j − q_j| between the attention rows of two runs of the same sentence (keys one run
 * lacks count as weight 0). When the head counts differ (merged heads), each layer's mean over heads is compared.
 */
export function attentionChange(before: RunResult, after: RunResult): number {
  let total = 0;
  let count = 0;
  const rows = Math.min(before.realLength, after.realLength);
  before.attentions.forEach((_, layer) => {
    const sameHeads = before.heads === after.heads;
    const heads = sameHeads ? Array.from({ length: before.heads }, (_, h) => h as HeadChoice) : ["mean" as const];
    for (const head of heads) {
      const p = attentionMatrix(before, layer, head);
      const q = attentionMatrix(after, layer, head);
      const keys = Math.max(p.n, q.n);
      for (let i = 0; i < rows; i++) {
        let tv = 0;
        for (let j = 0; j < keys; j++) {
          const pj = j < p.n ? p.values[i * p.n + j] : 0;
          const qj = j < q.n ? q.values[i * q.n + j] : 0;
          tv += Math.abs(pj - qj);
        }
        total += tv / 2;
        count++;
      }
    }
  });
  return count ? total / count : 0;
}

/** Largest |Δ| between the final vectors of the real tokens of two runs. */
export function outputChange(before: RunResult, after: RunResult): number {
  const a = before.steps.last_hidden_state;
  const b = after.steps.last_hidden_state;
  const d = a.shape[2];
  const rows = Math.min(before.realLength, after.realLength);
  let worst = 0;
  for (let i = 0; i < rows * d; i++) worst = Math.max(worst, Math.abs(a.data[i] - b.data[i]));
  return worst;
}

/** Index of the most probable label, or −1 without a classifier. */
export function predictedIndex(r: RunResult): number {
  if (!r.probs) return -1;
  return r.probs.indexOf(Math.max(...r.probs));
}
