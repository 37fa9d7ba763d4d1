/** Reductions over one axis or the whole tensor: sum, mean, max. */
import { normalizeAxis, sizeOf } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { kernels, result } from "./record.ts";
import { floats, floatsToOverwrite } from "../memory.ts";

function split(x: Tensor, axis: number): { outer: number; len: number; inner: number; ax: number } {
  const ax = normalizeAxis(axis, x.rank, "reduce");
  return { ax, outer: sizeOf(x.shape.slice(0, ax)), len: x.shape[ax], inner: sizeOf(x.shape.slice(ax + 1)) };
}

function reducedShape(x: Tensor, ax: number, keepDim: boolean): number[] {
  return keepDim ? x.shape.map((d, i) => (i === ax ? 1 : d)) : x.shape.filter((_, i) => i !== ax);
}

/** Σ over `axis` (all elements when omitted, giving a scalar of shape []). */
export function sum(x: Tensor, axis?: number, keepDim = false): Tensor {
  if (axis === undefined) {
    let s = 0;
    for (let i = 0; i < x.size; i++) s += x.data[i];
    return result("sum", new Float32Array([s]), [], [x], (g) => [floatsToOverwrite(x.size).fill(g[0])]);
  }
  const { ax, outer, len, inner } = split(x, axis);
  const out = floatsToOverwrite(outer * inner);
  kernels().reduce("sum", x.data, outer, len, inner, out, null);
  return result("sum", out, reducedShape(x, ax, keepDim), [x], (g) => {
    const gx = floatsToOverwrite(x.size); // every element is written below
    for (let o = 0; o < outer; o++)
      for (let a = 0; a < len; a++)
        for (let i = 0; i < inner; i++) gx[(o * len + a) * inner + i] = g[o * inner + i];
    return [gx];
  });
}

/** Mean over `axis` (all elements when omitted). */
export function mean(x: Tensor, axis?: number, keepDim = false): Tensor {
  const n = axis === undefined ? x.size : x.shape[normalizeAxis(axis, x.rank, "mean")];
  const s = sum(x, axis, keepDim);
  const out = floatsToOverwrite(s.size);
  kernels().affine(s.data, 1 / n, 0, out);
  return result("mean", out, s.shape, [s], (g) => {
    const gs = floatsToOverwrite(g.length);
    kernels().affine(g, 1 / n, 0, gs);
    return [gs];
  });
}

/** Max over `axis`; the gradient flows to the (first) arg-max. */
export function max(x: Tensor, axis: number, keepDim = false): Tensor {
  const { ax, outer, len, inner } = split(x, axis);
  const out = floatsToOverwrite(outer * inner);
  const argmax = new Int32Array(outer * inner);
  kernels().reduce("max", x.data, outer, len, inner, out, argmax);
  return result("max", out, reducedShape(x, ax, keepDim), [x], (g) => {
    const gx = floats(x.size);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) gx[(o * len + argmax[o * inner + i]) * inner + i] = g[o * inner + i];
    return [gx];
  });
}
