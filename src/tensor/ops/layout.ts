/** Ops that move or pick elements: reshape (free), permute, transpose, slicing and concatenation. */
import { ShapeError, formatShape } from "../../errors.ts";
import { type Shape, normalizeAxis, sizeOf } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { kernels, result } from "./record.ts";
import { floats, floatsToOverwrite } from "../memory.ts";

/** The same data under another shape (one size may be -1: inferred). Free: no copy. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const known = shape.filter((d) => d !== -1);
  const inferred = shape.length - known.length;
  if (inferred > 1) throw new ShapeError(`reshape: at most one size may be -1, got ${formatShape(shape)}`);
  const resolved = inferred === 1 ? shape.map((d) => (d === -1 ? x.size / sizeOf(known) : d)) : [...shape];
  if (sizeOf(resolved) !== x.size || resolved.some((d) => !Number.isInteger(d))) {
    throw new ShapeError(`reshape: cannot view ${formatShape(x.shape)} (${x.size} values) as ${formatShape(shape)}`);
  }
  return result("reshape", x.data, resolved, [x], (g) => [g]);
}

/** Reorders the axes: output axis i is input axis perm[i] (PyTorch's `permute`). Copies. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const sorted = [...perm].sort((p, q) => p - q);
  if (perm.length !== x.rank || sorted.some((p, i) => p !== i)) {
    throw new ShapeError(`permute: [${perm.join(", ")}] is not a permutation of the ${x.rank} axes of ${formatShape(x.shape)}`);
  }
  const out = floatsToOverwrite(x.size);
  kernels().permute(x.data, x.shape, perm, out);
  const shape = perm.map((p) => x.shape[p]);
  return result("permute", out, shape, [x], (g) => {
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    const gx = floatsToOverwrite(g.length);
    kernels().permute(g, shape, inverse, gx);
    return [gx];
  });
}

/** Swaps two axes. */
export function transpose(x: Tensor, axis0: number, axis1: number): Tensor {
  const a = normalizeAxis(axis0, x.rank, "transpose");
  const b = normalizeAxis(axis1, x.rank, "transpose");
  const perm = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, perm);
}

/** Elements [start, start + length) along one axis (PyTorch's `narrow`). Copies. */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const ax = normalizeAxis(axis, x.rank, "narrow");
  const size = x.shape[ax];
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > size) {
    throw new ShapeError(`narrow: range [${start}, ${start + length}) is outside axis ${ax} of size ${size} in ${formatShape(x.shape)}`);
  }
  const outer = sizeOf(x.shape.slice(0, ax));
  const inner = sizeOf(x.shape.slice(ax + 1));
  const out = floatsToOverwrite(outer * length * inner);
  for (let o = 0; o < outer; o++) {
    out.set(x.data.subarray((o * size + start) * inner, (o * size + start + length) * inner), o * length * inner);
  }
  const shape = x.shape.map((d, i) => (i === ax ? length : d));
  return result("narrow", out, shape, [x], (g) => {
    const gx = floats(x.size);
    for (let o = 0; o < outer; o++) {
      gx.set(g.subarray(o * length * inner, (o + 1) * length * inner), (o * size + start) * inner);
    }
    return [gx];
  });
}

/** The slice at `index` along one axis, with that axis removed (e.g. the [CLS] row: select(h, 1, 0)). */
export function select(x: Tensor, axis: number, index: number): Tensor {
  const ax = normalizeAxis(axis, x.rank, "select");
  const picked = narrow(x, ax, index, 1);
  return reshape(picked, x.shape.filter((_, i) => i !== ax));
}

/** Joins tensors along an axis; all other sizes must agree. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new ShapeError("concat: no tensors given");
  const first = xs[0];
  const ax = normalizeAxis(axis, first.rank, "concat");
  for (const t of xs) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new ShapeError(`concat: ${formatShape(t.shape)} does not fit ${formatShape(first.shape)} along axis ${ax}`);
    }
  }
  const outer = sizeOf(first.shape.slice(0, ax));
  const inner = sizeOf(first.shape.slice(ax + 1));
  const total = xs.reduce((s, t) => s + t.shape[ax], 0);
  const out = floatsToOverwrite(outer * total * inner);
  let offset = 0;
  for (const t of xs) {
    const len = t.shape[ax];
    for (let o = 0; o < outer; o++) {
      out.set(t.data.subarray(o * len * inner, (o + 1) * len * inner), (o * total + offset) * inner);
    }
    offset += len;
  }
  const shape = first.shape.map((d, i) => (i === ax ? total : d));
  return result("concat", out, shape, xs, (g) => {
    let start = 0;
    return xs.map((t) => {
      const len = t.shape[ax];
      const gt = floatsToOverwrite(t.size);
      for (let o = 0; o < outer; o++) {
        gt.set(g.subarray((o * total + start) * inner, (o * total + start + len) * inner), o * len * inner);
      }
      start += len;
      return gt;
    });
  });
}
