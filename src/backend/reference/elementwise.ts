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

const binaryFns: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
};

/**
 * Visits every index of `shape` in row-major order, tracking the flat offsets into inputs with the given
 * strides; calls `visit(outIndex, offsets)`. The offsets array is reused between calls.
 */
function forEachStrided(shape: readonly number[], strides: readonly (readonly number[])[],
  visit: (outIndex: number, offsets: Int32Array) => void): void {
  const rank = shape.length;
  const total = shape.reduce((a, b) => a * b, 1);
  if (total === 0) return;
  const counter = new Int32Array(rank);
  const offsets = new Int32Array(strides.length);
  for (let i = 0; i < total; i++) {
    visit(i, offsets);
    for (let axis = rank - 1; axis >= 0; axis--) {
      counter[axis]++;
      for (let s = 0; s < strides.length; s++) offsets[s] += strides[s][axis];
      if (counter[axis] < shape[axis]) break;
      for (let s = 0; s < strides.length; s++) offsets[s] -= strides[s][axis] * shape[axis];
      counter[axis] = 0;
    }
  }
}

/** out = a ∘ b, broadcasting through strides. */
export function binary(op: BinaryOp, a: Float32Array, aStrides: readonly number[], b: Float32Array,
  bStrides: readonly number[], out: Float32Array, outShape: readonly number[]): void {
  const f = binaryFns[op];
  forEachStrided(outShape, [aStrides, bStrides], (i, o) => {
    out[i] = f(a[o[0]], b[o[1]]);
  });
}

/** out = value where the (broadcast) mask is 1, else x. */
export function maskedFill(x: Float32Array, mask: Uint8Array, maskStrides: readonly number[], value: number,
  out: Float32Array, shape: readonly number[]): void {
  forEachStrided(shape, [maskStrides], (i, o) => {
    out[i] = mask[o[0]] ? value : x[i];
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
  forEachStrided(xShape, [strides], (i, o) => {
    acc[o[0]] += x[i];
  });
  for (let i = 0; i < out.length; i++) out[i] = acc[i];
}

/** Sum or max over the middle axis of an (outer, axis, inner) view. */
export function reduce(op: "sum" | "max", x: Float32Array, outer: number, axis: number, inner: number,
  out: Float32Array, argmax: Int32Array | null): void {
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
  forEachStrided(outShape, [strides], (i, o) => {
    out[i] = x[o[0]];
  });
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
