/**
 * Element-wise kernels: binary ops on operands of the output's own shape (residual adds and their gradients) and
 * axis permutations that keep the last axis in place (splitting and merging attention heads), vectorised and split
 * over threads. Both produce exactly the reference backend's bits: float32 +, −, ×, ÷ round the same in JavaScript
 * (computed in double, then rounded) and here, and a permutation only moves values.
 * AssemblyScript source: compiled by scripts/build-wasm.mjs, not by tsc.
 */
import { shareStart, vectorShareStart } from "./simd";

/** Op codes of `binaryDense`, in the order of the JavaScript side's table. */
const ADD = 0;
const SUB = 1;
const MUL = 2;

/** One op on four lanes. */
// @ts-ignore: decorator
@inline function apply4(op: i32, a: v128, b: v128): v128 {
  if (op === ADD) return f32x4.add(a, b);
  if (op === SUB) return f32x4.sub(a, b);
  if (op === MUL) return f32x4.mul(a, b);
  return f32x4.div(a, b);
}

/** One op on one float. */
// @ts-ignore: decorator
@inline function apply1(op: i32, a: f32, b: f32): f32 {
  if (op === ADD) return a + b;
  if (op === SUB) return a - b;
  if (op === MUL) return a * b;
  return a / b;
}

/** out = a (op) b over tid's share of n elements, all three of one shape; op 0 add, 1 sub, 2 mul, 3 div. */
export function binaryDense(tid: i32, threads: i32, op: i32, a: usize, b: usize, out: usize, n: i32): void {
  const first = vectorShareStart(n, tid, threads);
  const last = vectorShareStart(n, tid + 1, threads);
  let i = first;
  for (; i + 4 <= last; i += 4) {
    const at = <usize>i << 2;
    v128.store(out + at, apply4(op, v128.load(a + at), v128.load(b + at)));
  }
  for (; i < last; i++) {
    const at = <usize>i << 2;
    store<f32>(out + at, apply1(op, load<f32>(a + at), load<f32>(b + at)));
  }
}

/** Copies `bytes` (a multiple of 4) from src to dst: 16 bytes at a time, as head rows are short (d_k floats). */
// @ts-ignore: decorator
@inline function copyRow(dst: usize, src: usize, bytes: usize): void {
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(dst + i, v128.load(src + i));
  for (; i < bytes; i += 4) store<f32>(dst + i, load<f32>(src + i));
}

/** Σ digit·stride of row r counted over the leading axes shape[0..rank) (i32 arrays): where that row starts. */
// @ts-ignore: decorator
@inline function rowOffset(r: i32, rank: i32, shape: usize, strides: usize): i32 {
  let offset: i32 = 0;
  let rest = r;
  for (let axis = rank - 1; axis >= 0; axis--) {
    const size = load<i32>(shape + (<usize>axis << 2));
    offset += (rest % size) * load<i32>(strides + (<usize>axis << 2));
    rest /= size;
  }
  return offset;
}

/**
 * out = x with its leading axes permuted, the last axis kept: out is `rows` rows of `inner` contiguous floats, and
 * row r starts in x at Σ counter[axis]·strides[axis] (element strides), counting r over the output's leading axes
 * `shape[0..rank)` (i32 arrays at `shape` and `strides`). tid takes a contiguous share of the rows.
 */
export function permuteRows(tid: i32, threads: i32, x: usize, out: usize, rank: i32, shape: usize, strides: usize,
  rows: i32, inner: i32): void {
  const first = shareStart(rows, tid, threads);
  const last = shareStart(rows, tid + 1, threads);
  if (first >= last) return;
  // The odometer starts at row `first`, at the input offset its digits give.
  let offset = rowOffset(first, rank, shape, strides);
  const rowBytes = <usize>inner << 2;
  let dst = out + <usize>first * rowBytes;
  for (let r = first; r < last; r++) {
    copyRow(dst, x + (<usize>offset << 2), rowBytes);
    dst += rowBytes;
    // next row: increment the last leading axis, carrying into the ones before it
    let carry = r + 1;
    for (let axis = rank - 1; axis >= 0; axis--) {
      const size = load<i32>(shape + (<usize>axis << 2));
      const stride = load<i32>(strides + (<usize>axis << 2));
      if (carry % size !== 0) {
        offset += stride;
        break;
      }
      offset -= stride * (size - 1);
      carry /= size;
    }
  }
}

/** Columns one `sumAxis` work unit sums: 16 floats are one 64-byte cache line, held in eight f64x2 accumulators. */
const SUM_COLUMNS = 16;

/**
 * out[o, i] = Σ_a x[o, a, i] over an (outer, axis, inner) view, each sum in double in the order a = 0, 1, … (so the
 * result is bit-identical to the reference kernel's). A work unit is one `o` and a block of 16 columns walked down
 * all `axis` rows in registers; tid takes a contiguous share of the units.
 */
export function sumAxis(tid: i32, threads: i32, x: usize, out: usize, outer: i32, axis: i32, inner: i32): void {
  const blocks = (inner + SUM_COLUMNS - 1) / SUM_COLUMNS;
  const first = shareStart(outer * blocks, tid, threads);
  const last = shareStart(outer * blocks, tid + 1, threads);
  const rowBytes = <usize>inner << 2;
  for (let unit = first; unit < last; unit++) {
    const o = unit / blocks;
    const i0 = (unit % blocks) * SUM_COLUMNS;
    const src = x + (<usize>o * <usize>axis * <usize>inner + <usize>i0 << 2);
    const dst = out + (<usize>o * <usize>inner + <usize>i0 << 2);
    if (i0 + SUM_COLUMNS <= inner) {
      let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
      let s4 = f64x2.splat(0), s5 = f64x2.splat(0), s6 = f64x2.splat(0), s7 = f64x2.splat(0);
      for (let a = 0; a < axis; a++) {
        const row = src + <usize>a * rowBytes;
        const v0 = v128.load(row), v1 = v128.load(row, 16), v2 = v128.load(row, 32), v3 = v128.load(row, 48);
        s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v0));
        s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(v0, v0, 2, 3, 0, 1)));
        s2 = f64x2.add(s2, f64x2.promote_low_f32x4(v1));
        s3 = f64x2.add(s3, f64x2.promote_low_f32x4(v128.shuffle<f32>(v1, v1, 2, 3, 0, 1)));
        s4 = f64x2.add(s4, f64x2.promote_low_f32x4(v2));
        s5 = f64x2.add(s5, f64x2.promote_low_f32x4(v128.shuffle<f32>(v2, v2, 2, 3, 0, 1)));
        s6 = f64x2.add(s6, f64x2.promote_low_f32x4(v3));
        s7 = f64x2.add(s7, f64x2.promote_low_f32x4(v128.shuffle<f32>(v3, v3, 2, 3, 0, 1)));
      }
      // demote_f64x2_zero rounds to nearest, as a Float32Array store of a double does
      v128.store(dst, v128.shuffle<f32>(f32x4.demote_f64x2_zero(s0), f32x4.demote_f64x2_zero(s1), 0, 1, 4, 5));
      v128.store(dst, v128.shuffle<f32>(f32x4.demote_f64x2_zero(s2), f32x4.demote_f64x2_zero(s3), 0, 1, 4, 5), 16);
      v128.store(dst, v128.shuffle<f32>(f32x4.demote_f64x2_zero(s4), f32x4.demote_f64x2_zero(s5), 0, 1, 4, 5), 32);
      v128.store(dst, v128.shuffle<f32>(f32x4.demote_f64x2_zero(s6), f32x4.demote_f64x2_zero(s7), 0, 1, 4, 5), 48);
    } else {
      for (let i = 0; i < inner - i0; i++) {
        let sum: f64 = 0;
        for (let a = 0; a < axis; a++) sum += <f64>load<f32>(src + <usize>a * rowBytes + (<usize>i << 2));
        store<f32>(dst + (<usize>i << 2), <f32>sum);
      }
    }
  }
}

/**
 * out = a (op) b with broadcasting: out is `rows` rows of `n` contiguous floats over the leading axes
 * shape[0..rank); each operand's row starts at its own strides (aStrides, bStrides: i32 arrays, 0 on a broadcast
 * axis) and steps through the row by its inner stride, 1 or 0 (aInner, bInner: a row of b, or one value of b per
 * row, as a bias or a mask column). Both 0 is the JavaScript side's. tid takes a contiguous share of the rows.
 */
export function binaryBroadcast(tid: i32, threads: i32, op: i32, a: usize, b: usize, out: usize, rank: i32, shape: usize,
  aStrides: usize, bStrides: usize, rows: i32, n: i32, aInner: i32, bInner: i32): void {
  const first = shareStart(rows, tid, threads);
  const last = shareStart(rows, tid + 1, threads);
  for (let r = first; r < last; r++) {
    const pa = a + (<usize>rowOffset(r, rank, shape, aStrides) << 2);
    const pb = b + (<usize>rowOffset(r, rank, shape, bStrides) << 2);
    const po = out + (<usize>r * <usize>n << 2);
    let j = 0;
    if (aInner === 1 && bInner === 1) {
      for (; j + 4 <= n; j += 4) {
        const at = <usize>j << 2;
        v128.store(po + at, apply4(op, v128.load(pa + at), v128.load(pb + at)));
      }
    } else if (aInner === 1) {
      const bv = v128.load32_splat(pb);
      for (; j + 4 <= n; j += 4) {
        const at = <usize>j << 2;
        v128.store(po + at, apply4(op, v128.load(pa + at), bv));
      }
    } else {
      const av = v128.load32_splat(pa);
      for (; j + 4 <= n; j += 4) {
        const at = <usize>j << 2;
        v128.store(po + at, apply4(op, av, v128.load(pb + at)));
      }
    }
    for (; j < n; j++) {
      store<f32>(po + (<usize>j << 2), apply1(op, load<f32>(pa + (<usize>(j * aInner) << 2)), load<f32>(pb + (<usize>(j * bInner) << 2))));
    }
  }
}

/** out = x·mul + add over tid's share of n floats, in double before one rounding to f32 (as the reference computes it). */
export function affine(tid: i32, threads: i32, x: usize, out: usize, n: i32, mul: f64, add: f64): void {
  const first = vectorShareStart(n, tid, threads);
  const last = vectorShareStart(n, tid + 1, threads);
  const m = f64x2.splat(mul);
  const a = f64x2.splat(add);
  let i = first;
  for (; i + 4 <= last; i += 4) {
    const at = <usize>i << 2;
    const v = v128.load(x + at);
    const lo = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(v), m), a);
    const hi = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)), m), a);
    v128.store(out + at, v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5));
  }
  for (; i < last; i++) {
    const at = <usize>i << 2;
    store<f32>(out + at, <f32>(<f64>load<f32>(x + at) * mul + add));
  }
}

/** Zeroes tid's share of n floats at `out`. */
export function fillZero(tid: i32, threads: i32, out: usize, n: i32): void {
  const first = vectorShareStart(n, tid, threads);
  const last = vectorShareStart(n, tid + 1, threads);
  memory.fill(out + (<usize>first << 2), 0, <usize>(last - first) << 2);
}

/** out[i, :] = table[ids[i], :] (rows of `cols` floats; ids an i32 array, each checked by the caller) for tid's share of the rows. */
export function gatherRows(tid: i32, threads: i32, table: usize, cols: i32, ids: usize, rows: i32, out: usize): void {
  const first = shareStart(rows, tid, threads);
  const last = shareStart(rows, tid + 1, threads);
  const rowBytes = <usize>cols << 2;
  for (let r = first; r < last; r++) {
    copyRow(out + <usize>r * rowBytes, table + <usize>load<i32>(ids + (<usize>r << 2)) * rowBytes, rowBytes);
  }
}

/**
 * dTable[ids[i], :] += dOut[i, :] for every row i in order. Threads split the columns, not the rows, so two
 * threads never add into the same element and each element's sum keeps the reference's order.
 */
export function scatterAddRows(tid: i32, threads: i32, dOut: usize, cols: i32, ids: usize, rows: i32, dTable: usize): void {
  const c0 = vectorShareStart(cols, tid, threads);
  const c1 = vectorShareStart(cols, tid + 1, threads);
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const src = dOut + <usize>r * rowBytes;
    const dst = dTable + <usize>load<i32>(ids + (<usize>r << 2)) * rowBytes;
    let c = c0;
    for (; c + 4 <= c1; c += 4) {
      const at = <usize>c << 2;
      v128.store(dst + at, f32x4.add(v128.load(dst + at), v128.load(src + at)));
    }
    for (; c < c1; c++) {
      const at = <usize>c << 2;
      store<f32>(dst + at, load<f32>(dst + at) + load<f32>(src + at));
    }
  }
}

/**
 * The index of the first NaN or ±∞ among n floats at x, or −1 (single-threaded; the load-time and layer-input
 * checks). x − x is 0 for every finite x and NaN otherwise; 16 floats are tested per step, and the step that holds
 * a bad value is then scanned one float at a time for its index.
 */
export function firstNonFinite(x: usize, n: i32): i32 {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const at = x + (<usize>i << 2);
    const a = v128.load(at, 0);
    const b = v128.load(at, 16);
    const c = v128.load(at, 32);
    const d = v128.load(at, 48);
    const bad = v128.or(
      v128.or(f32x4.ne(f32x4.sub(a, a), zero), f32x4.ne(f32x4.sub(b, b), zero)),
      v128.or(f32x4.ne(f32x4.sub(c, c), zero), f32x4.ne(f32x4.sub(d, d), zero)));
    if (v128.any_true(bad)) break;
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v - v != 0) return i;
  }
  return -1;
}
