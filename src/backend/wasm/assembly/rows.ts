/**
 * Loops over one row of floats shared by the row-wise kernels (norm.ts) and attention (attention.ts): sums and
 * dot products in double, the row maximum, exp(x − max) with its sum, scaling, and the softmax backward step.
 * AssemblyScript source: compiled by scripts/build-wasm.mjs, not by tsc.
 */
import { addWide, exp4, hmaxOrNaN, hsum64 } from "./simd";

/** Σ row[j] in double. */
export function rowSum(row: usize, len: i32): f64 {
  let acc = f64x2.splat(0);
  let j = 0;
  for (; j + 4 <= len; j += 4) acc = addWide(acc, v128.load(row + (<usize>j << 2)));
  let sum = hsum64(acc);
  for (; j < len; j++) sum += load<f32>(row + (<usize>j << 2));
  return sum;
}

/** Σ a[j]·b[j] over a row, products in f32 and the sum in double. */
export function rowDot(a: usize, b: usize, len: i32): f64 {
  let acc = f64x2.splat(0);
  let j = 0;
  for (; j + 4 <= len; j += 4) {
    const at = <usize>j << 2;
    acc = addWide(acc, f32x4.mul(v128.load(a + at), v128.load(b + at)));
  }
  let sum = hsum64(acc);
  for (; j < len; j++) sum += load<f32>(a + (<usize>j << 2)) * load<f32>(b + (<usize>j << 2));
  return sum;
}

/** max over a row: −∞ for an empty or all −∞ row, NaN when any entry is NaN (see hmaxOrNaN). */
export function rowMax(row: usize, len: i32): f32 {
  let vMax = f32x4.splat(-Infinity);
  let vNaN = i32x4.splat(0);
  let j = 0;
  // pmax (one maxps, but it skips NaN) plus a NaN flag is cheaper than max (NaN-propagating, several instructions)
  for (; j + 4 <= len; j += 4) {
    const v = v128.load(row + (<usize>j << 2));
    vMax = f32x4.pmax(vMax, v);
    vNaN = v128.or(vNaN, f32x4.ne(v, v));
  }
  let mx = hmaxOrNaN(vMax, vNaN);
  for (; j < len; j++) mx = max(mx, load<f32>(row + (<usize>j << 2))); // scalar max propagates NaN
  return mx;
}

/** dst[j] = exp(src[j] − mx) (dst may be src); returns Σ dst[j] in double. */
export function expShifted(src: usize, dst: usize, len: i32, mx: f32): f64 {
  const vm = f32x4.splat(mx);
  let acc = f64x2.splat(0);
  let j = 0;
  while (j + 4 <= len) {
    // float partial sums over ≤ 128 terms, widened to double between chunks: cheap and still accurate
    let part = f32x4.splat(0);
    const chunkEnd = min(len, j + 128);
    for (; j + 4 <= chunkEnd; j += 4) {
      const e = exp4(f32x4.sub(v128.load(src + (<usize>j << 2)), vm));
      v128.store(dst + (<usize>j << 2), e);
      part = f32x4.add(part, e);
    }
    acc = addWide(acc, part);
  }
  let sum = hsum64(acc);
  for (; j < len; j++) {
    const e = f32x4.extract_lane(exp4(f32x4.splat(load<f32>(src + (<usize>j << 2)) - mx)), 0);
    store<f32>(dst + (<usize>j << 2), e);
    sum += e;
  }
  return sum;
}

/** row[j] ×= factor. */
export function scaleRow(row: usize, len: i32, factor: f32): void {
  const vf = f32x4.splat(factor);
  let j = 0;
  for (; j + 4 <= len; j += 4) {
    const at = row + (<usize>j << 2);
    v128.store(at, f32x4.mul(v128.load(at), vf));
  }
  for (; j < len; j++) {
    const at = row + (<usize>j << 2);
    store<f32>(at, load<f32>(at) * factor);
  }
}

/** dx[j] = y[j]·(dy[j] − Σ dy ⊙ y), the softmax backward of one row (dx may be dy). */
export function softmaxBackwardRow(y: usize, dy: usize, dx: usize, len: i32): void {
  const dot = <f32>rowDot(dy, y, len);
  const vDot = f32x4.splat(dot);
  let j = 0;
  for (; j + 4 <= len; j += 4) {
    const at = <usize>j << 2;
    v128.store(dx + at, f32x4.mul(v128.load(y + at), f32x4.sub(v128.load(dy + at), vDot)));
  }
  for (; j < len; j++) {
    const at = <usize>j << 2;
    store<f32>(dx + at, load<f32>(y + at) * (load<f32>(dy + at) - dot));
  }
}
