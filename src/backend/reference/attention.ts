/**
 * Reference scaled dot-product attention, one (batch, head, query) row at a time:
 * Attention(Q, K, V) = softmax(Q·Kᵀ / √d_k) · V   (Vaswani et al. 2017, eq. 1), with masks.
 */
import type { AttentionParams } from "../backend.ts";
import { rowMax } from "./softmax.ts";

/** Whether key j is hidden from query i of batch row b. */
function isMasked(p: AttentionParams, b: number, i: number, j: number): boolean {
  return (p.causal && j > i) || (p.keyMask !== null && p.keyMask[b * p.nK + j] === 0);
}

/** The additive mask's value for one score, or 0. */
function additiveAt(p: AttentionParams, b: number, h: number, i: number, j: number): number {
  if (!p.additiveMask) return 0;
  const [sb, sh, si, sj] = p.additiveStrides;
  return p.additiveMask[b * sb + h * sh + i * si + j * sj];
}

/** Row r (query or key, of n) of head h in batch row b: (b, h, r) in the usual layout, (b, r, h) when token-major. */
function rowOf(p: AttentionParams, b: number, h: number, r: number, n: number): number {
  return p.tokenMajor ? (b * n + r) * p.heads + h : (b * p.heads + h) * n + r;
}

/** Forward pass; see Backend.attention. `scores` receives Q·Kᵀ × scale before any mask. */
export function attention(q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, p: AttentionParams,
  probs: Float32Array | null, scores: Float32Array | null): void {
  const { batch, heads, nQ, nK, dK, dV, scale } = p;
  const logits = new Float64Array(nK);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const bh = b * heads + h;
      for (let i = 0; i < nQ; i++) {
        const qRow = rowOf(p, b, h, i, nQ) * dK;
        for (let j = 0; j < nK; j++) {
          const kRow = rowOf(p, b, h, j, nK) * dK;
          let dot = 0;
          for (let c = 0; c < dK; c++) dot += q[qRow + c] * k[kRow + c];
          const s = dot * scale;
          if (scores) scores[(bh * nQ + i) * nK + j] = s;
          const logit = isMasked(p, b, i, j) ? -Infinity : s + additiveAt(p, b, h, i, j);
          logits[j] = logit;
        }
        const max = rowMax(logits, 0, nK); // a NaN propagates, not read as "all masked"
        // softmax over keys; a fully masked row attends to nothing (zeros, not NaN)
        let sum = 0;
        for (let j = 0; j < nK; j++) {
          logits[j] = max === -Infinity ? 0 : Math.exp(logits[j] - max);
          sum += logits[j];
        }
        const outRow = rowOf(p, b, h, i, nQ) * dV;
        for (let c = 0; c < dV; c++) out[outRow + c] = 0;
        const acc = new Float64Array(dV);
        for (let j = 0; j < nK; j++) {
          const pj = sum === 0 ? 0 : logits[j] / sum; // 0 only when every key is masked; a NaN stays NaN
          if (probs) probs[(bh * nQ + i) * nK + j] = pj;
          if (pj === 0) continue;
          const vRow = rowOf(p, b, h, j, nK) * dV;
          for (let c = 0; c < dV; c++) acc[c] += pj * v[vRow + c];
        }
        for (let c = 0; c < dV; c++) out[outRow + c] = acc[c];
      }
    }
  }
}

/**
 * Backward pass from the saved probabilities P:
 * dV = Pᵀ·dO; dP = dO·Vᵀ; dS = P ⊙ (dP − rowsum(P ⊙ dP)); dQ = scale·dS·K; dK = scale·dSᵀ·Q.
 * `dScores` (optional) receives dS, the gradient of the pre-softmax logits (that of an additive mask).
 */
export function attentionBackward(q: Float32Array, k: Float32Array, v: Float32Array, probs: Float32Array,
  dOut: Float32Array, dq: Float32Array | null, dk: Float32Array | null, dv: Float32Array | null, p: AttentionParams,
  dScores: Float32Array | null): void {
  const { batch, heads, nQ, nK, dK, dV, scale } = p;
  const dkAcc = dk ? new Float64Array(dk.length) : null;
  const dvAcc = dv ? new Float64Array(dv.length) : null;
  const dS = new Float64Array(nK);
  for (let bh = 0; bh < batch * heads; bh++) {
    const [b, h] = [Math.floor(bh / heads), bh % heads];
    for (let i = 0; i < nQ; i++) {
      const pRow = (bh * nQ + i) * nK;
      const oRow = rowOf(p, b, h, i, nQ) * dV;
      let rowDot = 0;
      for (let j = 0; j < nK; j++) {
        const vRow = rowOf(p, b, h, j, nK) * dV;
        let dP = 0;
        for (let c = 0; c < dV; c++) dP += dOut[oRow + c] * v[vRow + c];
        dS[j] = dP;
        rowDot += dP * probs[pRow + j];
        if (dvAcc) for (let c = 0; c < dV; c++) dvAcc[vRow + c] += probs[pRow + j] * dOut[oRow + c];
      }
      const qRow = rowOf(p, b, h, i, nQ) * dK;
      const dqRow = new Float64Array(dK);
      for (let j = 0; j < nK; j++) {
        const ds = probs[pRow + j] * (dS[j] - rowDot);
        if (dScores) dScores[pRow + j] = ds;
        if (ds === 0) continue;
        const kRow = rowOf(p, b, h, j, nK) * dK;
        for (let c = 0; c < dK; c++) dqRow[c] += ds * k[kRow + c];
        if (dkAcc) for (let c = 0; c < dK; c++) dkAcc[kRow + c] += ds * q[qRow + c] * scale;
      }
      if (dq) for (let c = 0; c < dK; c++) dq[qRow + c] = dqRow[c] * scale;
    }
  }
  if (dk && dkAcc) for (let i = 0; i < dk.length; i++) dk[i] = dkAcc[i];
  if (dv && dvAcc) for (let i = 0; i < dv.length; i++) dv[i] = dvAcc[i];
}
