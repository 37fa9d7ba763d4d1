/**
 * Row-wise kernels: LayerNorm and softmax / log-softmax with their backward passes, rows split over threads.
 * Long sums are taken in double (f64x2); LayerNorm subtracts its double-precision mean as a hi + lo pair of
 * floats, so rows with a large offset (1e3 ± 1) keep their digits.
 * AssemblyScript source: compiled by scripts/build-wasm.mjs, not by tsc.
 */
import { expShifted, rowMax, rowSum, scaleRow, softmaxBackwardRow } from "./rows";
import { addWide, exp4, hsum64, log64, shareStart } from "./simd";

/**
 * LayerNorm rows [share of tid]; gamma/beta are 0 when absent. Writes out, mean and rstd (see Backend.layerNorm).
 * With `residual` (0 when absent) each row is first summed with its residual row into `out`, in float32 as a
 * separate add would, and normalised from there while it is in cache: post-LN's LN(x + sublayer(x)) in one pass.
 */
export function layerNorm(tid: i32, threads: i32, x: usize, gamma: usize, beta: usize, out: usize, mean: usize,
  rstd: usize, rows: i32, cols: i32, eps: f64, residual: usize): void {
  const first = shareStart(rows, tid, threads);
  const last = shareStart(rows, tid + 1, threads);
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  for (let r = first; r < last; r++) {
    const dst = out + (<usize>r * <usize>cols << 2);
    let row = x + (<usize>r * <usize>cols << 2);
    if (residual) {
      const res = residual + (<usize>r * <usize>cols << 2);
      let j = 0;
      for (; j + 4 <= cols; j += 4) {
        const at = <usize>j << 2;
        v128.store(dst + at, f32x4.add(v128.load(row + at), v128.load(res + at)));
      }
      for (; j < cols; j++) store<f32>(dst + (<usize>j << 2), load<f32>(row + (<usize>j << 2)) + load<f32>(res + (<usize>j << 2)));
      row = dst;
    }
    const mu = rowSum(row, cols) / cols;
    const muHi = <f32>mu;
    const muLo = <f32>(mu - <f64>muHi);
    const vHi = f32x4.splat(muHi);
    const vLo = f32x4.splat(muLo);
    let sq = f64x2.splat(0);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const d = f32x4.sub(f32x4.sub(v128.load(row + (<usize>j << 2)), vHi), vLo);
      sq = addWide(sq, f32x4.mul(d, d));
    }
    let sqSum = hsum64(sq);
    for (; j < cols; j++) {
      const d = load<f32>(row + (<usize>j << 2)) - muHi - muLo;
      sqSum += <f64>(d * d);
    }
    const rs = 1 / Math.sqrt(sqSum / cols + eps);
    store<f32>(mean + (<usize>r << 2), <f32>mu);
    store<f32>(rstd + (<usize>r << 2), <f32>rs);
    const vRs = f32x4.splat(<f32>rs);
    j = 0;
    for (; j + 4 <= cols; j += 4) {
      const at = <usize>j << 2;
      const xhat = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(row + at), vHi), vLo), vRs);
      const g = gamma ? v128.load(gamma + at) : one;
      const bb = beta ? v128.load(beta + at) : zero;
      v128.store(dst + at, f32x4.add(f32x4.mul(xhat, g), bb));
    }
    for (; j < cols; j++) {
      const at = <usize>j << 2;
      const xhat = (load<f32>(row + at) - muHi - muLo) * <f32>rs;
      const g: f32 = gamma ? load<f32>(gamma + at) : 1;
      const bb: f32 = beta ? load<f32>(beta + at) : 0;
      store<f32>(dst + at, xhat * g + bb);
    }
  }
}

/**
 * LayerNorm backward over tid's rows: writes dx (when non-zero) and adds this thread's Σ dy ⊙ x̂ and Σ dy into its
 * double-precision partials at partial + tid·16·cols (dgamma then dbeta, cols doubles each), zeroed first;
 * the caller sums the partials of all threads.
 */
export function layerNormBackward(tid: i32, threads: i32, x: usize, gamma: usize, mean: usize, rstd: usize, dy: usize,
  dx: usize, partial: usize, rows: i32, cols: i32): void {
  const dgamma = partial + (<usize>tid * <usize>cols << 4);
  const dbeta = dgamma + (<usize>cols << 3);
  memory.fill(dgamma, 0, <usize>cols << 4);
  const first = shareStart(rows, tid, threads);
  const last = shareStart(rows, tid + 1, threads);
  const one = f32x4.splat(1);
  for (let r = first; r < last; r++) {
    const o = <usize>r * <usize>cols << 2;
    const mu = load<f32>(mean + (<usize>r << 2));
    const rs = load<f32>(rstd + (<usize>r << 2));
    const vMu = f32x4.splat(mu);
    const vRs = f32x4.splat(rs);
    let gAcc = f64x2.splat(0);
    let gxAcc = f64x2.splat(0);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const at = <usize>j << 2;
      const xhat = f32x4.mul(f32x4.sub(v128.load(x + o + at), vMu), vRs);
      const d = v128.load(dy + o + at);
      const g = f32x4.mul(d, gamma ? v128.load(gamma + at) : one);
      gAcc = addWide(gAcc, g);
      gxAcc = addWide(gxAcc, f32x4.mul(g, xhat));
      const dxh = f32x4.mul(d, xhat);
      const at64 = <usize>j << 3;
      v128.store(dgamma + at64, f64x2.add(v128.load(dgamma + at64), f64x2.promote_low_f32x4(dxh)));
      v128.store(dgamma + at64 + 16, f64x2.add(v128.load(dgamma + at64 + 16),
        f64x2.promote_low_f32x4(v128.shuffle<f32>(dxh, dxh, 2, 3, 0, 1))));
      v128.store(dbeta + at64, f64x2.add(v128.load(dbeta + at64), f64x2.promote_low_f32x4(d)));
      v128.store(dbeta + at64 + 16, f64x2.add(v128.load(dbeta + at64 + 16),
        f64x2.promote_low_f32x4(v128.shuffle<f32>(d, d, 2, 3, 0, 1))));
    }
    let gSum = hsum64(gAcc);
    let gxSum = hsum64(gxAcc);
    for (; j < cols; j++) {
      const at = <usize>j << 2;
      const xhat = (load<f32>(x + o + at) - mu) * rs;
      const d = load<f32>(dy + o + at);
      const g = d * (gamma ? load<f32>(gamma + at) : <f32>1);
      gSum += g;
      gxSum += g * xhat;
      const at64 = <usize>j << 3;
      store<f64>(dgamma + at64, load<f64>(dgamma + at64) + <f64>(d * xhat));
      store<f64>(dbeta + at64, load<f64>(dbeta + at64) + <f64>d);
    }
    if (!dx) continue;
    const gMean = <f32>(gSum / cols);
    const gxMean = <f32>(gxSum / cols);
    const vgMean = f32x4.splat(gMean);
    const vgxMean = f32x4.splat(gxMean);
    j = 0;
    for (; j + 4 <= cols; j += 4) {
      const at = <usize>j << 2;
      const xhat = f32x4.mul(f32x4.sub(v128.load(x + o + at), vMu), vRs);
      const g = f32x4.mul(v128.load(dy + o + at), gamma ? v128.load(gamma + at) : one);
      const t = f32x4.sub(f32x4.sub(g, vgMean), f32x4.mul(xhat, vgxMean));
      v128.store(dx + o + at, f32x4.mul(t, vRs));
    }
    for (; j < cols; j++) {
      const at = <usize>j << 2;
      const xhat = (load<f32>(x + o + at) - mu) * rs;
      const g = load<f32>(dy + o + at) * (gamma ? load<f32>(gamma + at) : <f32>1);
      store<f32>(dx + o + at, rs * (g - gMean - xhat * gxMean));
    }
  }
}

/** Softmax over tid's rows: max-subtracted; a row of all −∞ gives zeros, a row holding NaN gives NaN (reference/softmax.ts). */
export function softmax(tid: i32, threads: i32, x: usize, out: usize, rows: i32, cols: i32): void {
  const first = shareStart(rows, tid, threads);
  const last = shareStart(rows, tid + 1, threads);
  for (let r = first; r < last; r++) {
    const o = <usize>r * <usize>cols << 2;
    const mx = rowMax(x + o, cols);
    if (mx === -Infinity) {
      memory.fill(out + o, 0, <usize>cols << 2);
      continue;
    }
    const sum = expShifted(x + o, out + o, cols, mx);
    scaleRow(out + o, cols, <f32>(1 / sum));
  }
}

/** dx = y ⊙ (dy − Σ dy ⊙ y) over tid's rows. */
export function softmaxBackward(tid: i32, threads: i32, y: usize, dy: usize, dx: usize, rows: i32, cols: i32): void {
  const first = shareStart(rows, tid, threads);
  const last = shareStart(rows, tid + 1, threads);
  for (let r = first; r < last; r++) {
    const o = <usize>r * <usize>cols << 2;
    softmaxBackwardRow(y + o, dy + o, dx + o, cols);
  }
}

/** log-softmax over tid's rows: x − (max + log Σ exp(x − max)), the shift subtracted as hi + lo floats; all −∞ stays −∞; NaN gives NaN. */
export function logSoftmax(tid: i32, threads: i32, x: usize, out: usize, rows: i32, cols: i32): void {
  const first = shareStart(rows, tid, threads);
  const last = shareStart(rows, tid + 1, threads);
  for (let r = first; r < last; r++) {
    const o = <usize>r * <usize>cols << 2;
    const mx = rowMax(x + o, cols);
    if (mx === -Infinity) {
      for (let j = 0; j < cols; j++) store<f32>(out + o + (<usize>j << 2), -Infinity);
      continue;
    }
    const sum = expShifted(x + o, out + o, cols, mx); // out is scratch here, overwritten below
    const shift = <f64>mx + log64(sum);
    const hi = <f32>shift;
    const lo = <f32>(shift - <f64>hi);
    const vHi = f32x4.splat(hi);
    const vLo = f32x4.splat(lo);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const at = o + (<usize>j << 2);
      v128.store(out + at, f32x4.sub(f32x4.sub(v128.load(x + at), vHi), vLo));
    }
    for (; j < cols; j++) {
      const at = o + (<usize>j << 2);
      store<f32>(out + at, load<f32>(x + at) - hi - lo);
    }
  }
}

/** dx = dy − exp(y) Σ dy over tid's rows, y = log-softmax(x). */
export function logSoftmaxBackward(tid: i32, threads: i32, y: usize, dy: usize, dx: usize, rows: i32, cols: i32): void {
  const first = shareStart(rows, tid, threads);
  const last = shareStart(rows, tid + 1, threads);
  for (let r = first; r < last; r++) {
    const o = <usize>r * <usize>cols << 2;
    const sum = <f32>rowSum(dy + o, cols);
    const vSum = f32x4.splat(sum);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const at = o + (<usize>j << 2);
      v128.store(dx + at, f32x4.sub(v128.load(dy + at), f32x4.mul(exp4(v128.load(y + at)), vSum)));
    }
    for (; j < cols; j++) {
      const at = o + (<usize>j << 2);
      const e = f32x4.extract_lane(exp4(f32x4.splat(load<f32>(y + at))), 0);
      store<f32>(dx + at, load<f32>(dy + at) - e * sum);
    }
  }
}
