/**
 * Fused scaled dot-product attention per (batch, head), the threads claiming the batch·heads pairs one at a time.
 * Without probabilities: flash-attention style, query blocks × key blocks with an online softmax (running
 * max and sum, the output rescaled when the max grows), so memory is O(block² + n·d), never O(n²).
 * With probabilities (or scores) asked: S = Q·Kᵀ straight into the probabilities buffer, softmax in place,
 * then P·V. Masked logits become −∞ (exp gives exactly 0); a row with every key masked gives zeros.
 * AssemblyScript source: compiled by scripts/build-wasm.mjs, not by tsc.
 */
import { gemm, gemmWorkBytes } from "./gemm";
import { expShifted, scaleRow, softmaxBackwardRow } from "./rows";
import { exp4, hmaxOrNaN, nextUnit } from "./simd";

const BQ = 128; // queries per flash block
const BK = 128; // keys per flash block

/** Per-thread scratch bytes of `attention`: gemm scratch, the key-mask lanes, one score block, the output accumulator and row stats. */
export function attentionWorkBytes(nK: i32, dV: i32): i32 {
  return gemmWorkBytes() + align16(nK * 4) + BQ * BK * 4 + align16(BQ * dV * 4) + 2 * BQ * 4;
}

/** Per-thread scratch bytes of `attentionBackward`: gemm scratch and, unless dScores is written, an nQ×nK dS buffer. */
export function attentionBackwardWorkBytes(nQ: i32, nK: i32, withDScores: bool): i32 {
  return gemmWorkBytes() + (withDScores ? 0 : align16(nQ * nK * 4));
}

// @ts-ignore: decorator
@inline function align16(bytes: i32): i32 {
  return (bytes + 15) & ~15;
}

/**
 * Byte address of head h's first row (of n rows, d floats each) in batch row b, in the layout (batch, heads, n, d),
 * or (batch, n, heads, d) when `tokenMajor` (the projections' own layout); rows are `rowStride` floats apart.
 */
// @ts-ignore: decorator
@inline function headStart(base: usize, tokenMajor: bool, b: i32, h: i32, heads: i32, n: i32, d: i32): usize {
  const row = tokenMajor ? <usize>(b * n * heads + h) : <usize>(b * heads + h) * <usize>n;
  return base + (row * <usize>d << 2);
}

/** Floats between consecutive rows of one head: d, or heads·d when token-major. */
// @ts-ignore: decorator
@inline function rowStride(tokenMajor: bool, heads: i32, d: i32): i32 {
  return tokenMajor ? heads * d : d;
}

/**
 * Scales one row of raw scores in place, writes them to `scoresRow` when non-zero, adds the additive mask
 * (row pointer, element step `addStep`), sets masked entries to −∞ and returns the row maximum.
 * `j0` is the row's first key index; `keep` holds −1 / 0 per key (0 when there is no key mask).
 */
function prepareRow(row: usize, len: i32, j0: i32, i: i32, scale: f32, keep: usize, addRow: usize, addStep: i32,
  causal: bool, scoresRow: usize): f32 {
  const vScale = f32x4.splat(scale);
  const negInf = f32x4.splat(-Infinity);
  const lanes = i32x4(0, 1, 2, 3);
  const vi = i32x4.splat(i);
  let vMax = negInf;
  let vNaN = i32x4.splat(0);
  let j = 0;
  for (; j + 4 <= len; j += 4) {
    const at = <usize>j << 2;
    let s = f32x4.mul(v128.load(row + at), vScale);
    if (scoresRow) v128.store(scoresRow + at, s);
    if (addRow) {
      if (addStep === 1) {
        s = f32x4.add(s, v128.load(addRow + at));
      } else {
        const step = <usize>addStep << 2;
        const base = addRow + <usize>j * step;
        let m = f32x4.splat(load<f32>(base));
        m = f32x4.replace_lane(m, 1, load<f32>(base + step));
        m = f32x4.replace_lane(m, 2, load<f32>(base + 2 * step));
        m = f32x4.replace_lane(m, 3, load<f32>(base + 3 * step));
        s = f32x4.add(s, m);
      }
    }
    let keepLanes = keep ? v128.load(keep + (<usize>(j0 + j) << 2)) : i32x4.splat(-1);
    if (causal) keepLanes = v128.and(keepLanes, i32x4.le_s(i32x4.add(i32x4.splat(j0 + j), lanes), vi));
    s = v128.bitselect(s, negInf, keepLanes);
    v128.store(row + at, s);
    vMax = f32x4.pmax(vMax, s); // pmax (vMax < s ? s : vMax) is one maxps, but it skips NaN: tracked separately
    vNaN = v128.or(vNaN, f32x4.ne(s, s));
  }
  let mx = hmaxOrNaN(vMax, vNaN); // a NaN score makes the row NaN (as in PyTorch), never a "fully masked" row of zeros
  for (; j < len; j++) {
    const at = <usize>j << 2;
    let s = load<f32>(row + at) * scale;
    if (scoresRow) store<f32>(scoresRow + at, s);
    if (addRow) s += load<f32>(addRow + <usize>j * (<usize>addStep << 2));
    const masked = (keep && load<i32>(keep + (<usize>(j0 + j) << 2)) === 0) || (causal && j0 + j > i);
    if (masked) s = -Infinity;
    store<f32>(row + at, s);
    mx = max(mx, s); // scalar max propagates NaN
  }
  return mx;
}

/**
 * Thread `tid`'s share of attention over (batch, heads): the pairs it claims from `counter` (see `nextUnit`). Pointers are byte offsets; keyMask (batch × nK bytes,
 * 1 = attended), additive mask (strides as0..as3 over batch, heads, nQ, nK), probs and scores are 0 when absent.
 * When `scores` is set, `probs` must be too (the caller provides a buffer). q, k, v and out are (batch, heads, n, d),
 * or (batch, n, heads, d) when `tokenMajor` (the projections' own layout, so the caller needs no permutes).
 */
export function attention(tid: i32, threads: i32, batch: i32, heads: i32, nQ: i32, nK: i32, dK: i32, dV: i32,
  scale: f32, causal: bool, q: usize, k: usize, v: usize, out: usize, keyMask: usize, add: usize,
  as0: i32, as1: i32, as2: i32, as3: i32, probs: usize, scores: usize, work: usize, workStride: i32, tokenMajor: bool,
  counter: usize): void {
  const myWork = work + <usize>tid * <usize>workStride;
  const keep = myWork + <usize>gemmWorkBytes();
  const sBlock = keep + <usize>align16(nK * 4);
  const oAcc = sBlock + BQ * BK * 4;
  const rowMax = oAcc + <usize>align16(BQ * dV * 4);
  const rowSum = rowMax + BQ * 4;
  const pairs = batch * heads;
  const ldqk = rowStride(tokenMajor, heads, dK); // Q and K
  const ldv = rowStride(tokenMajor, heads, dV); // V and the output
  let keepBatch = -1;
  for (let bh = nextUnit(counter, threads, -1); bh < pairs; bh = nextUnit(counter, threads, bh)) {
    const b = bh / heads;
    const h = bh % heads;
    if (keyMask && b !== keepBatch) {
      for (let j = 0; j < nK; j++) store<i32>(keep + (<usize>j << 2), load<u8>(keyMask + <usize>(b * nK + j)) ? -1 : 0);
      keepBatch = b;
    }
    const keepPtr = keyMask ? keep : 0;
    const qBh = headStart(q, tokenMajor, b, h, heads, nQ, dK);
    const kBh = headStart(k, tokenMajor, b, h, heads, nK, dK);
    const vBh = headStart(v, tokenMajor, b, h, heads, nK, dV);
    const oBh = headStart(out, tokenMajor, b, h, heads, nQ, dV);
    const addBh = add ? add + (<usize>(b * as0 + h * as1) << 2) : 0;
    if (probs) {
      const pBh = probs + (<usize>bh * <usize>nQ * <usize>nK << 2);
      const sBh = scores ? scores + (<usize>bh * <usize>nQ * <usize>nK << 2) : 0;
      gemm(nQ, nK, dK, qBh, ldqk, 1, kBh, 1, ldqk, pBh, nK, false, myWork);
      for (let i = 0; i < nQ; i++) {
        const row = pBh + (<usize>i * <usize>nK << 2);
        const addRow = add ? addBh + (<usize>(i * as2) << 2) : 0;
        const mx = prepareRow(row, nK, 0, i, scale, keepPtr, addRow, as3, causal, sBh ? sBh + (<usize>i * <usize>nK << 2) : 0);
        if (mx === -Infinity) {
          memory.fill(row, 0, <usize>nK << 2);
          continue;
        }
        const sum = expShifted(row, row, nK, mx);
        scaleRow(row, nK, <f32>(1 / sum));
      }
      gemm(nQ, dV, nK, pBh, nK, 1, vBh, ldv, 1, oBh, ldv, false, myWork);
      continue;
    }
    for (let i0 = 0; i0 < nQ; i0 += BQ) {
      const bq = min(BQ, nQ - i0);
      memory.fill(oAcc, 0, <usize>(bq * dV) << 2);
      for (let r = 0; r < bq; r++) {
        store<f32>(rowMax + (<usize>r << 2), -Infinity);
        store<f32>(rowSum + (<usize>r << 2), 0);
      }
      const kEnd = causal ? min(nK, i0 + bq) : nK; // causal: later key blocks are masked for every row
      for (let j0 = 0; j0 < kEnd; j0 += BK) {
        const bk = min(BK, kEnd - j0);
        gemm(bq, bk, dK, qBh + (<usize>i0 * <usize>ldqk << 2), ldqk, 1, kBh + (<usize>j0 * <usize>ldqk << 2), 1, ldqk,
          sBlock, BK, false, myWork);
        for (let r = 0; r < bq; r++) {
          const i = i0 + r;
          const row = sBlock + (<usize>(r * BK) << 2);
          const addRow = add ? addBh + (<usize>(i * as2 + j0 * as3) << 2) : 0;
          const mx = prepareRow(row, bk, j0, i, scale, keepPtr, addRow, as3, causal, 0);
          const mOld = load<f32>(rowMax + (<usize>r << 2));
          const mNew = max(mOld, mx);
          if (mNew === -Infinity) { // nothing attended yet: this block contributes nothing
            memory.fill(row, 0, <usize>bk << 2);
            continue;
          }
          const sum = expShifted(row, row, bk, mNew);
          const correction: f32 = mOld === -Infinity ? 0 : f32x4.extract_lane(exp4(f32x4.splat(mOld - mNew)), 0);
          store<f32>(rowSum + (<usize>r << 2), <f32>(<f64>load<f32>(rowSum + (<usize>r << 2)) * correction + sum));
          store<f32>(rowMax + (<usize>r << 2), mNew);
          if (correction !== 1) scaleRow(oAcc + (<usize>(r * dV) << 2), dV, correction);
        }
        gemm(bq, dV, bk, sBlock, BK, 1, vBh + (<usize>j0 * <usize>ldv << 2), ldv, 1, oAcc, dV, true, myWork);
      }
      for (let r = 0; r < bq; r++) {
        const l = load<f32>(rowSum + (<usize>r << 2));
        const dst = oBh + (<usize>((i0 + r) * ldv) << 2);
        if (l > 0 || isNaN(l)) { // l = 0: every key masked (zeros); NaN: a NaN score, propagated
          memory.copy(dst, oAcc + (<usize>(r * dV) << 2), <usize>dV << 2);
          scaleRow(dst, dV, 1 / l);
        } else {
          memory.fill(dst, 0, <usize>dV << 2);
        }
      }
    }
  }
}

/**
 * Thread `tid`'s share of the attention backward pass from the saved probabilities P, per (batch, head) it claims:
 * dV = Pᵀ·dO; dP = dO·Vᵀ; dS = P ⊙ (dP − rowsum(P ⊙ dP)); dQ = scale·dS·K; dK = scale·dSᵀ·Q.
 * dq, dk, dv, dScores are 0 when not wanted; dS goes to dScores when given, else to per-thread scratch.
 * q, k, v, dOut and the gradients are laid out as in `attention` (`tokenMajor` or not); P and dScores are
 * (batch, heads, nQ, nK). The products read and write through strides, so both layouts give the same bits.
 */
export function attentionBackward(tid: i32, threads: i32, batch: i32, heads: i32, nQ: i32, nK: i32, dK: i32, dV: i32,
  scale: f32, q: usize, k: usize, v: usize, probs: usize, dOut: usize, dq: usize, dk: usize, dv: usize,
  dScores: usize, work: usize, workStride: i32, tokenMajor: bool, counter: usize): void {
  const myWork = work + <usize>tid * <usize>workStride;
  const dsScratch = myWork + <usize>gemmWorkBytes();
  const pairs = batch * heads;
  const ldqk = rowStride(tokenMajor, heads, dK); // Q, K and their gradients
  const ldv = rowStride(tokenMajor, heads, dV); // V, dO and dV
  for (let bh = nextUnit(counter, threads, -1); bh < pairs; bh = nextUnit(counter, threads, bh)) {
    const b = bh / heads;
    const h = bh % heads;
    const pBh = probs + (<usize>bh * <usize>nQ * <usize>nK << 2);
    const dOBh = headStart(dOut, tokenMajor, b, h, heads, nQ, dV);
    if (dv) gemm(nK, dV, nQ, pBh, 1, nK, dOBh, ldv, 1, headStart(dv, tokenMajor, b, h, heads, nK, dV), ldv, false, myWork);
    if (!dq && !dk && !dScores) continue;
    const dS = dScores ? dScores + (<usize>bh * <usize>nQ * <usize>nK << 2) : dsScratch;
    gemm(nQ, nK, dV, dOBh, ldv, 1, headStart(v, tokenMajor, b, h, heads, nK, dV), 1, ldv, dS, nK, false, myWork);
    for (let i = 0; i < nQ; i++) {
      const dRow = dS + (<usize>i * <usize>nK << 2);
      softmaxBackwardRow(pBh + (<usize>i * <usize>nK << 2), dRow, dRow, nK);
    }
    if (dq) {
      const dqBh = headStart(dq, tokenMajor, b, h, heads, nQ, dK);
      gemm(nQ, dK, nK, dS, nK, 1, headStart(k, tokenMajor, b, h, heads, nK, dK), ldqk, 1, dqBh, ldqk, false, myWork);
      scaleRows(dqBh, nQ, dK, ldqk, scale);
    }
    if (dk) {
      const dkBh = headStart(dk, tokenMajor, b, h, heads, nK, dK);
      gemm(nK, dK, nQ, dS, 1, nK, headStart(q, tokenMajor, b, h, heads, nQ, dK), ldqk, 1, dkBh, ldqk, false, myWork);
      scaleRows(dkBh, nK, dK, ldqk, scale);
    }
  }
}

/** Scales `rows` rows of `width` floats, `stride` floats apart, by `scale` (one call when they are contiguous). */
function scaleRows(at: usize, rows: i32, width: i32, stride: i32, scale: f32): void {
  if (stride === width) {
    scaleRow(at, rows * width, scale);
    return;
  }
  for (let i = 0; i < rows; i++) scaleRow(at + (<usize>i * <usize>stride << 2), width, scale);
}
