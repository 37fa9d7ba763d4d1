/** Shapes: sizes, row-major strides and the broadcasting rules of NumPy/PyTorch. */
import { ShapeError, formatShape } from "../errors.ts";

/** A tensor's shape, outermost axis first. */
export type Shape = readonly number[];

/** Number of elements of a shape (1 for a scalar `[]`). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C order) strides in elements. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** True when both shapes have the same rank and sizes. */
export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Throws a ShapeError naming `what` unless `actual` equals `expected` (-1 in `expected` matches any size). */
export function assertShape(what: string, actual: Shape, expected: Shape): void {
  const ok = actual.length === expected.length && expected.every((d, i) => d === -1 || d === actual[i]);
  if (!ok) {
    const want = formatShape(expected).replaceAll("-1", "*");
    throw new ShapeError(`${what}: expected shape ${want}, got ${formatShape(actual)}`);
  }
}

/** Checks that a shape is a list of non-negative integers. */
export function assertValidShape(what: string, shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`${what}: invalid shape ${formatShape(shape)}`);
  }
}

/** The broadcast shape of two shapes (NumPy rules: align right; sizes equal or one of them 1). */
export function broadcastShapes(a: Shape, b: Shape, what: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${what}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides of `shape` when read as if it had `outShape` (broadcast axes get stride 0), so a kernel can
 * walk the output and find the input element with one dot product.
 */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const own = stridesOf(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((_, i) => {
    const j = i - offset;
    return j < 0 || shape[j] === 1 ? 0 : own[j];
  });
}

/** Resolves a possibly negative axis against a rank, with a clear error when out of range. */
export function normalizeAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new ShapeError(`${what}: axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return a;
}
