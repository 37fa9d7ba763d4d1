/** Element-wise ops: arithmetic with broadcasting, scalar affine maps and activations. */
import type { BinaryOp, UnaryOp } from "../../backend/backend.ts";
import { type Shape, broadcastShapes, broadcastStrides, sameShape, sizeOf } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { kernels, result } from "./record.ts";
import { floatsToOverwrite } from "../memory.ts";

/** Gradient of a broadcast input: sum the output gradient back down to the input's shape. */
function unbroadcast(grad: Float32Array, outShape: Shape, inShape: Shape): Float32Array {
  if (sameShape(outShape, inShape)) return grad;
  const out = floatsToOverwrite(sizeOf(inShape));
  kernels().sumTo(grad, outShape, out, inShape);
  return out;
}

function binaryOp(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, op);
  const aStrides = broadcastStrides(a.shape, shape);
  const bStrides = broadcastStrides(b.shape, shape);
  const out = floatsToOverwrite(sizeOf(shape));
  kernels().binary(op, a.data, aStrides, b.data, bStrides, out, shape);
  return result(op, out, shape, [a, b], (g) => {
    const k = kernels();
    const dense = broadcastStrides(shape, shape);
    // g ∘ y for y read with `yStrides` over the output shape
    const apply = (f: BinaryOp, x: Float32Array, y: Float32Array, yStrides: readonly number[]): Float32Array => {
      const m = floatsToOverwrite(g.length);
      k.binary(f, x, dense, y, yStrides, m, shape);
      return m;
    };
    let ga: Float32Array | null = null;
    let gb: Float32Array | null = null;
    if (op === "add" || op === "sub") {
      if (a.requiresGrad) ga = unbroadcast(g, shape, a.shape);
      if (b.requiresGrad) {
        let gFull = g;
        if (op === "sub") {
          gFull = floatsToOverwrite(g.length);
          k.affine(g, -1, 0, gFull);
        }
        gb = unbroadcast(gFull, shape, b.shape);
      }
    } else if (op === "mul") {
      if (a.requiresGrad) ga = unbroadcast(apply("mul", g, b.data, bStrides), shape, a.shape);
      if (b.requiresGrad) gb = unbroadcast(apply("mul", g, a.data, aStrides), shape, b.shape);
    } else {
      // d(a/b)/da = 1/b;  d(a/b)/db = −a/b² = −(a/b)/b
      if (a.requiresGrad) ga = unbroadcast(apply("div", g, b.data, bStrides), shape, a.shape);
      if (b.requiresGrad) {
        const m = apply("div", apply("mul", g, out, dense), b.data, bStrides);
        k.affine(m, -1, 0, m);
        gb = unbroadcast(m, shape, b.shape);
      }
    }
    return [ga, gb];
  });
}

/** a + b, broadcasting. */
export function add(a: Tensor, b: Tensor): Tensor {
  return binaryOp("add", a, b);
}

/** a − b, broadcasting. */
export function sub(a: Tensor, b: Tensor): Tensor {
  return binaryOp("sub", a, b);
}

/** a ⊙ b (element-wise product), broadcasting. */
export function mul(a: Tensor, b: Tensor): Tensor {
  return binaryOp("mul", a, b);
}

/** a / b, broadcasting. */
export function div(a: Tensor, b: Tensor): Tensor {
  return binaryOp("div", a, b);
}

/** x · s + c for numbers s and c. */
export function affine(x: Tensor, s: number, c = 0): Tensor {
  const out = floatsToOverwrite(x.size);
  kernels().affine(x.data, s, c, out);
  return result("affine", out, x.shape, [x], (g) => {
    if (s === 1) return [g];
    const gx = floatsToOverwrite(g.length);
    kernels().affine(g, s, 0, gx);
    return [gx];
  });
}

/** x · s for a number s (e.g. × √d_model, ÷ √d_k). */
export function scale(x: Tensor, s: number): Tensor {
  return affine(x, s, 0);
}

/** max(x, min) element-wise; the gradient flows where x > min. */
export function clampMin(x: Tensor, min: number): Tensor {
  const out = floatsToOverwrite(x.size);
  for (let i = 0; i < out.length; i++) out[i] = x.data[i] > min ? x.data[i] : min;
  return result("clampMin", out, x.shape, [x], (g) => [g.map((v, i) => (x.data[i] > min ? v : 0))]);
}

function unaryOp(op: UnaryOp, x: Tensor): Tensor {
  const out = floatsToOverwrite(x.size);
  kernels().unary(op, x.data, out);
  return result(op, out, x.shape, [x], (g) => {
    const gx = floatsToOverwrite(g.length);
    kernels().unaryBackward(op, x.data, out, g, gx);
    return [gx];
  });
}

/** max(x, 0). */
export const relu = (x: Tensor): Tensor => unaryOp("relu", x);
/** GELU, exact erf form (PyTorch `gelu`, Hugging Face `"gelu"`). */
export const gelu = (x: Tensor): Tensor => unaryOp("gelu", x);
/** GELU, tanh approximation (PyTorch `approximate="tanh"`, Hugging Face `"gelu_new"`). */
export const geluTanh = (x: Tensor): Tensor => unaryOp("gelu_tanh", x);
/** tanh(x). */
export const tanh = (x: Tensor): Tensor => unaryOp("tanh", x);
/** 1 / (1 + e^−x). */
export const sigmoid = (x: Tensor): Tensor => unaryOp("sigmoid", x);
/** e^x. */
export const exp = (x: Tensor): Tensor => unaryOp("exp", x);
/** Natural logarithm. */
export const log = (x: Tensor): Tensor => unaryOp("log", x);
/** −x. */
export const neg = (x: Tensor): Tensor => unaryOp("neg", x);
/** √x. */
export const sqrt = (x: Tensor): Tensor => unaryOp("sqrt", x);

/** The activations a feed-forward block can use, by their PyTorch / Hugging Face names. */
export type Activation = "relu" | "gelu" | "gelu_tanh" | "tanh";

/** Applies an activation by name. */
export function activation(name: Activation, x: Tensor): Tensor {
  return unaryOp(name, x);
}
