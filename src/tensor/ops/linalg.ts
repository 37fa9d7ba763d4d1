/** Matrix products: batched matmul and the Linear layer's y = x·Wᵀ + b. */
import type { MatmulParams } from "../../backend/backend.ts";
import { ShapeError, formatShape } from "../../errors.ts";
import { needsGrad } from "../autograd.ts";
import { sizeOf } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { type Activation, activation } from "./elementwise.ts";
import { kernels, result } from "./record.ts";
import { floats, floatsToOverwrite } from "../memory.ts";

/** Options of `matmul`: read either operand's last two axes transposed. */
export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

function params(batch: number, m: number, n: number, k: number, transA: boolean, transB: boolean,
  strideA: number, strideB: number, accumulate = false): MatmulParams {
  return { batch, m, n, k, transA, transB, strideA, strideB, accumulate };
}

/**
 * Batched matrix product over the last two axes: (…, m, k) · (…, k, n) → (…, m, n), with either operand
 * read transposed. The leading (batch) axes must be equal, or one operand must be a single matrix
 * (rank 2), which is then used for every batch entry.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError(`matmul: operands need at least 2 axes, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  }
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const m = transA ? ac : ar;
  const k = transA ? ar : ac;
  const kB = transB ? bc : br;
  const n = transB ? br : bc;
  if (k !== kB) {
    throw new ShapeError(`matmul: inner sizes differ (${k} vs ${kB}) for ${formatShape(a.shape)}${transA ? "ᵀ" : ""} · ${formatShape(b.shape)}${transB ? "ᵀ" : ""}`);
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  let batchShape: readonly number[];
  if (aBatch.length === bBatch.length && aBatch.every((d, i) => d === bBatch[i])) batchShape = aBatch;
  else if (bBatch.length === 0) batchShape = aBatch;
  else if (aBatch.length === 0) batchShape = bBatch;
  else {
    throw new ShapeError(`matmul: batch axes ${formatShape(aBatch)} and ${formatShape(bBatch)} differ (one side must match or be a single matrix)`);
  }
  const batch = sizeOf(batchShape);
  const strideA = aBatch.length === 0 ? 0 : m * k;
  const strideB = bBatch.length === 0 ? 0 : k * n;
  const out = floatsToOverwrite(batch * m * n);
  kernels().matmul(a.data, b.data, out, params(batch, m, n, k, transA, transB, strideA, strideB));
  const shape = [...batchShape, m, n];
  return result("matmul", out, shape, [a, b], (g) => {
    const kn = kernels();
    let ga: Float32Array | null = null;
    let gb: Float32Array | null = null;
    // C = op(A)·op(B): dop(A) = dC·op(B)ᵀ and dop(B) = op(A)ᵀ·dC, written out for each transpose case.
    // A broadcast operand (stride 0) accumulates its gradient over the batch.
    if (a.requiresGrad) {
      ga = floats(a.size);
      for (let bi = 0; bi < (strideA === 0 ? batch : 1); bi++) {
        const gSlice = strideA === 0 ? g.subarray(bi * m * n, (bi + 1) * m * n) : g;
        const bSlice = strideA === 0 ? b.data.subarray(bi * strideB, bi * strideB + k * n) : b.data;
        const nb = strideA === 0 ? 1 : batch;
        const acc = strideA === 0;
        if (!transA) {
          // dA (m×k) = dC (m×n) · op(B)ᵀ
          kn.matmul(gSlice, bSlice, ga, params(nb, m, k, n, false, !transB, m * n, strideB, acc));
        } else {
          // dA (k×m) = op(B) (k×n) · dCᵀ
          kn.matmul(bSlice, gSlice, ga, params(nb, k, m, n, transB, true, strideB, m * n, acc));
        }
      }
    }
    if (b.requiresGrad) {
      gb = floats(b.size);
      for (let bi = 0; bi < (strideB === 0 ? batch : 1); bi++) {
        const gSlice = strideB === 0 ? g.subarray(bi * m * n, (bi + 1) * m * n) : g;
        const aSlice = strideB === 0 ? a.data.subarray(bi * strideA, bi * strideA + m * k) : a.data;
        const nb = strideB === 0 ? 1 : batch;
        const acc = strideB === 0;
        if (!transB) {
          // dB (k×n) = op(A)ᵀ (k×m) · dC (m×n)
          kn.matmul(aSlice, gSlice, gb, params(nb, k, n, m, !transA, false, strideA, m * n, acc));
        } else {
          // dB (n×k) = dCᵀ (n×m) · op(A) (m×k)
          kn.matmul(gSlice, aSlice, gb, params(nb, n, k, m, true, transA, m * n, strideA, acc));
        }
      }
    }
    return [ga, gb];
  });
}

/** The activations a product's epilogue applies (GELU, both forms): `act` itself, or null for the others. */
export function fusableActivation(act: Activation | null): "gelu" | "gelu_tanh" | null {
  return act === "gelu" || act === "gelu_tanh" ? act : null;
}

/**
 * act(x·Wᵀ + b): a feed-forward layer's first half. At inference a GELU runs inside the product's own pass (the
 * backend's fused epilogue: one pass over the d_ff-wide activations instead of two, with the same values);
 * when gradients are recorded, or for other activations, it is `linear` followed by `activation`.
 */
export function linearActivation(x: Tensor, weight: Tensor, bias: Tensor | null, act: Activation): Tensor {
  const inputs = bias ? [x, weight, bias] : [x, weight];
  const fused = fusableActivation(act);
  if (fused && !needsGrad(inputs)) return linearForward(x, weight, bias, fused);
  return activation(act, linear(x, weight, bias));
}

/**
 * y = x·Wᵀ + b over the last axis of x (PyTorch's `F.linear`): x (…, in), weight (out, in), bias (out).
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const out = linearForward(x, weight, bias, null);
  const [outFeatures, inFeatures] = weight.shape;
  const rows = x.size / inFeatures;
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return result("linear", out.data, out.shape, inputs, (g) => {
    const kn = kernels();
    let gx: Float32Array | null = null;
    let gw: Float32Array | null = null;
    let gbias: Float32Array | null = null;
    if (x.requiresGrad) {
      gx = floatsToOverwrite(x.size); // dx (rows×in) = dy (rows×out) · W (out×in)
      kn.matmul(g, weight.data, gx, params(1, rows, inFeatures, outFeatures, false, false, 0, 0));
    }
    if (weight.requiresGrad) {
      gw = floatsToOverwrite(weight.size); // dW (out×in) = dyᵀ (out×rows) · x (rows×in)
      kn.matmul(g, x.data, gw, params(1, outFeatures, inFeatures, rows, true, false, 0, 0));
    }
    if (bias?.requiresGrad) {
      gbias = floatsToOverwrite(outFeatures); // db = Σ_rows dy
      kn.reduce("sum", g, 1, rows, outFeatures, gbias, null);
    }
    return bias ? [gx, gw, gbias] : [gx, gw];
  });
}

/** The product of `linear` (shapes checked), with an optional fused GELU; records nothing. */
function linearForward(x: Tensor, weight: Tensor, bias: Tensor | null, act: "gelu" | "gelu_tanh" | null): Tensor {
  if (weight.rank !== 2) throw new ShapeError(`linear: weight must be (out, in), got ${formatShape(weight.shape)}`);
  const [outFeatures, inFeatures] = weight.shape;
  if (x.shape[x.rank - 1] !== inFeatures) {
    throw new ShapeError(`linear: input ${formatShape(x.shape)} has last axis ${x.shape[x.rank - 1]}, weight ${formatShape(weight.shape)} expects ${inFeatures}`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outFeatures)) {
    throw new ShapeError(`linear: bias must be [${outFeatures}], got ${formatShape(bias.shape)}`);
  }
  const rows = x.size / inFeatures;
  const out = floatsToOverwrite(rows * outFeatures);
  kernels().matmul(x.data, weight.data, out, { ...params(1, rows, outFeatures, inFeatures, false, true, 0, 0), bias: bias?.data ?? null, activation: act });
  return new Tensor(out, [...x.shape.slice(0, -1), outFeatures]);
}
