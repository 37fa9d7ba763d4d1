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
  // The odometer starts at row `first`: its digits, and the input offset they give.
  let offset: i32 = 0;
  let rest = first;
  for (let axis = rank - 1; axis >= 0; axis--) {
    const size = load<i32>(shape + (<usize>axis << 2));
    offset += (rest % size) * load<i32>(strides + (<usize>axis << 2));
    rest /= size;
  }
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
