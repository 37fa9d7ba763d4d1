/** Measurements for the lab: interleaved wall-clock medians (robust to other jobs on the machine), FLOP counts, memory held. */
import type { Tensor } from "../tensor/tensor.ts";
import { median } from "./metrics.ts";

/** Floating-point operations of one multi-head attention forward (multiply-add = 2): projections, scores, weighted sum. */
export function attentionFlops(o: { batch: number; n: number; dModel: number; heads: number; headDim: number; scoring?: "dot" | "additive" }): { projections: number; scores: number; weighted: number; total: number } {
  const inner = o.heads * o.headDim;
  const projections = 2 * o.batch * o.n * o.dModel * inner * 3 + 2 * o.batch * o.n * inner * o.dModel; // W_Q, W_K, W_V, W_O
  const pairs = o.batch * o.heads * o.n * o.n;
  // dot: one multiply-add per dimension; additive: add, tanh, multiply by v and sum (tanh counted as one operation)
  const scores = o.scoring === "additive" ? pairs * o.headDim * 4 : pairs * o.headDim * 2;
  const weighted = 2 * pairs * o.headDim;
  return { projections, scores, weighted, total: projections + scores + weighted };
}

/**
 * Median seconds of each function, timed round-robin (one call of each per round, after a warm-up round), so that a
 * change in the machine's load affects all of them alike; stops after `repeats` rounds or once `budgetS` is spent (≥ 3 rounds).
 */
export function timeInterleaved(fns: readonly (() => void)[], repeats: number, budgetS = 5): number[] {
  for (const fn of fns) fn();
  const times: number[][] = fns.map(() => []);
  const start = performance.now();
  for (let r = 0; r < repeats; r++) {
    fns.forEach((fn, i) => {
      const t0 = performance.now();
      fn();
      times[i].push((performance.now() - t0) / 1000);
    });
    if (r >= 2 && (performance.now() - start) / 1000 > budgetS) break;
  }
  return times.map(median);
}

/**
 * Bytes the autograd graph of `root` keeps alive for the backward pass: every intermediate tensor reachable from it
 * (shared buffers counted once; parameters and inputs, which exist anyway, left out), plus the attention
 * probabilities the fused attention op keeps inside its backward closure. Deterministic, unlike heap readings.
 */
export function graphBytes(root: Tensor): number {
  const buffers = new Set<ArrayBufferLike>();
  const visited = new Set<Tensor>();
  const stack = [root];
  let bytes = 0;
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (visited.has(t) || !t.node) continue;
    visited.add(t);
    if (!buffers.has(t.data.buffer)) {
      buffers.add(t.data.buffer);
      bytes += t.data.byteLength;
    }
    if (t.node.op === "attention") {
      const [batch, heads, nQ] = t.shape;
      bytes += batch * heads * nQ * t.node.inputs[1].shape[2] * 4; // probabilities (batch, h, nQ, nK), float32
    }
    stack.push(...t.node.inputs);
  }
  return bytes;
}
