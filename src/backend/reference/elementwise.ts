/** Reference element-wise, broadcasting, reduction and layout kernels: plain loops, written to be read. */
import type { BinaryOp, UnaryOp } from "../backend.ts";
import { gelu, geluDerivative, geluTanh, geluTanhDerivative } from "../math.ts";

const unaryFns: Record<UnaryOp, (x: number) => number> = {
  relu: (x) => (x > 0 ? x : 0),
  gelu,
  gelu_tanh: geluTanh,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  exp: Math.exp,
  log: Math.log,
  neg: (x) => -x,
  sqrt: Math.sqrt,
  abs: Math.abs,
};

/** f'(x), given x and y = f(x). */
const unaryDerivatives: Record<UnaryOp, (x: number, y: number) => number> = {
  relu: (x) => (x > 0 ? 1 : 0), // PyTorch's choice: derivative 0 at the kink
  gelu: geluDerivative,
  gelu_tanh: geluTanhDerivative,
  tanh: (_x, y) => 1 - y * y,
  sigmoid: (_x, y) => y * (1 - y),
  exp: (_x, y) => y,
  log: (x) => 1 / x,
  neg: () => -1,
  sqrt: (_x, y) => 0.5 / y,
  abs: (x) => Math.sign(x),
};

/** out = f(x). */
export function unary(op: UnaryOp, x: Float32Array, out: Float32Array): void {
  const f = unaryFns[op];
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
}

/** dx = dy · f'(x). */
export function unaryBackward(op: UnaryOp, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array): void {
  const df = unaryDerivatives[op];
  for (let i = 0; i < x.length; i++) dx[i] = dy[i] * df(x[i], y[i]);
}

/** out = x · mul + add. */
export function affine(x: Float32Array, mul: number, add: number, out: Float32Array): void {
  for (let i = 0; i < x.length; i++) out[i] = x[i] * mul + add;
}

/**
 * Visits the rows (last axis) of `shape` in row-major order, tracking the flat offset of each row's first element
 * in every input read through `strides`; calls `visit(outStart, offsets)` once per row (the caller loops over the
 * row itself, so there is no call per element). The offsets array is reused between calls.
 */
function forEachRow(shape: readonly number[], strides: readonly (readonly number[])[],
  visit: (outStart: number, offsets: Int32Array) => void): void {
  const rank = shape.length;
  const offsets = new Int32Array(strides.length);
  if (rank === 0) {
    visit(0, offsets);
    return;
  }
  const inner = shape[rank - 1];
  const rows = shape.reduce((a, b) => a * b, 1) / Math.max(inner, 1);
  if (inner === 0 || rows === 0) return;
  const counter = new Int32Array(rank);
  for (let r = 0; r < rows; r++) {
    visit(r * inner, offsets);
    for (let axis = rank - 2; axis >= 0; axis--) {
      counter[axis]++;
      for (let s = 0; s < strides.length; s++) offsets[s] += strides[s][axis];
      if (counter[axis] < shape[axis]) break;
      for (let s = 0; s < strides.length; s++) offsets[s] -= strides[s][axis] * shape[axis];
      counter[axis] = 0;
    }
  }
}

/** The last axis's length and each input's stride along it (1 and 0 for scalars). */
function rowOf(shape: readonly number[], strides: readonly (readonly number[])[]): { n: number; inner: number[] } {
  const rank = shape.length;
  return rank === 0 ? { n: 1, inner: strides.map(() => 0) } : { n: shape[rank - 1], inner: strides.map((st) => st[rank - 1]) };
}

/** Whether an operand with these element strides is laid out exactly like a contiguous tensor of `shape`. */
export function isDense(strides: readonly number[], shape: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (strides[i] !== expected && shape[i] !== 1) return false;
    expected *= shape[i];
  }
  return true;
}

/** out = a ∘ b, broadcasting through strides. */
export function binary(op: BinaryOp, a: Float32Array, aStrides: readonly number[], b: Float32Array,
  bStrides: readonly number[], out: Float32Array, outShape: readonly number[]): void {
  if (isDense(aStrides, outShape) && isDense(bStrides, outShape)) { // same shapes (residuals): one flat loop
    switch (op) {
      case "add": for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i]; return;
      case "sub": for (let i = 0; i < out.length; i++) out[i] = a[i] - b[i]; return;
      case "mul": for (let i = 0; i < out.length; i++) out[i] = a[i] * b[i]; return;
      case "div": for (let i = 0; i < out.length; i++) out[i] = a[i] / b[i]; return;
    }
  }
  const { n, inner: [sa, sb] } = rowOf(outShape, [aStrides, bStrides]);
  forEachRow(outShape, [aStrides, bStrides], (o, off) => {
    const oa = off[0];
    const ob = off[1];
    // one loop per op: a function call per element would dominate the cost
    switch (op) {
      case "add": for (let j = 0; j < n; j++) out[o + j] = a[oa + j * sa] + b[ob + j * sb]; break;
      case "sub": for (let j = 0; j < n; j++) out[o + j] = a[oa + j * sa] - b[ob + j * sb]; break;
      case "mul": for (let j = 0; j < n; j++) out[o + j] = a[oa + j * sa] * b[ob + j * sb]; break;
      case "div": for (let j = 0; j < n; j++) out[o + j] = a[oa + j * sa] / b[ob + j * sb]; break;
    }
  });
}

/** out = value where the (broadcast) mask is 1, else x. */
export function maskedFill(x: Float32Array, mask: Uint8Array, maskStrides: readonly number[], value: number,
  out: Float32Array, shape: readonly number[]): void {
  const { n, inner: [sm] } = rowOf(shape, [maskStrides]);
  forEachRow(shape, [maskStrides], (o, off) => {
    for (let j = 0; j < n; j++) out[o + j] = mask[off[0] + j * sm] ? value : x[o + j];
  });
}

/** Sums a broadcast result back to the shape it was broadcast from. */
export function sumTo(x: Float32Array, xShape: readonly number[], out: Float32Array, outShape: readonly number[]): void {
  const offset = xShape.length - outShape.length;
  const ownStrides: number[] = [];
  let s = 1;
  for (let i = outShape.length - 1; i >= 0; i--) {
    ownStrides[i] = s;
    s *= outShape[i];
  }
  const strides = xShape.map((_, i) => {
    const j = i - offset;
    return j < 0 || outShape[j] === 1 ? 0 : ownStrides[j];
  });
  const acc = new Float64Array(out.length); // sum in double: these are long sums of gradients
  const { n, inner: [so] } = rowOf(xShape, [strides]);
  forEachRow(xShape, [strides], (i, off) => {
    for (let j = 0; j < n; j++) acc[off[0] + j * so] += x[i + j];
  });
  for (let i = 0; i < out.length; i++) out[i] = acc[i];
}

/** Sum or max over the middle axis of an (outer, axis, inner) view. */
export function reduce(op: "sum" | "max", x: Float32Array, outer: number, axis: number, inner: number,
  out: Float32Array, argmax: Int32Array | null): void {
  if (op === "sum" && inner > 1) {
    // Row after row into double accumulators: each element still sums a = 0..axis-1 in order (bit-identical to the
    // strided loop below), but reads memory sequentially; a bias gradient's column sum was the slow case.
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      acc.fill(0);
      for (let a = 0; a < axis; a++) {
        const row = (o * axis + a) * inner;
        for (let i = 0; i < inner; i++) acc[i] += x[row + i];
      }
      for (let i = 0; i < inner; i++) out[o * inner + i] = acc[i];
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * axis * inner + i;
      if (op === "sum") {
        let sum = 0;
        for (let a = 0; a < axis; a++) sum += x[base + a * inner];
        out[o * inner + i] = sum;
      } else {
        let best = -Infinity;
        let bestAt = 0;
        for (let a = 0; a < axis; a++) {
          const v = x[base + a * inner];
          if (v > best || Number.isNaN(v)) {
            best = v;
            bestAt = a;
            if (Number.isNaN(v)) break; // NaN propagates, as in PyTorch
          }
        }
        out[o * inner + i] = best;
        if (argmax) argmax[o * inner + i] = bestAt;
      }
    }
  }
}

/** out = x with its axes permuted (out axis i = input axis perm[i]). */
export function permute(x: Float32Array, shape: readonly number[], perm: readonly number[], out: Float32Array): void {
  const inStrides: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i];
  }
  const outShape = perm.map((p) => shape[p]);
  const strides = perm.map((p) => inStrides[p]);
  const { n, inner: [si] } = rowOf(outShape, [strides]);
  forEachRow(outShape, [strides], (o, off) => {
    for (let j = 0; j < n; j++) out[o + j] = x[off[0] + j * si];
  });
}

/** The index of the first NaN or ±∞, or −1. */
export function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) return i; // NaN − NaN and ∞ − ∞ are NaN; every finite v gives 0
  }
  return -1;
}

/** out[i, :] = table[ids[i], :]. */
export function gather(table: Float32Array, cols: number, ids: Int32Array, out: Float32Array): void {
  for (let i = 0; i < ids.length; i++) out.set(table.subarray(ids[i] * cols, ids[i] * cols + cols), i * cols);
}

/** dTable[ids[i], :] += dOut[i, :]. */
export function scatterAdd(dOut: Float32Array, cols: number, ids: Int32Array, dTable: Float32Array): void {
  for (let i = 0; i < ids.length; i++) {
    const row = ids[i] * cols;
    for (let c = 0; c < cols; c++) dTable[row + c] += dOut[i * cols + c];
  }
}
