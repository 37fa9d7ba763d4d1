/**
 * Losses: cross-entropy (label smoothing, ignore index), cross-entropy against soft targets (distillation) and mean
 * squared error, each one op with its own backward.
 */
import { ShapeError, formatShape } from "../errors.ts";
import { logSoftmax } from "../tensor/ops/nn.ts";
import { result } from "../tensor/ops/record.ts";
import { mean } from "../tensor/ops/reduce.ts";
import { mul, sub } from "../tensor/ops/elementwise.ts";
import type { IndexTensor, Tensor } from "../tensor/tensor.ts";

/** Options of `crossEntropy` (PyTorch's `F.cross_entropy` semantics). */
export interface CrossEntropyOptions {
  /** ε: the target distribution is (1 − ε)·one-hot + ε/C (Szegedy et al. 2016). Default 0. */
  labelSmoothing?: number;
  /** Rows whose target equals this are left out of the loss and the mean. Default −100 (PyTorch's). */
  ignoreIndex?: number;
}

/**
 * Mean cross-entropy of logits (N, C) against class ids (N): −Σ_c q_c · log softmax(logits)_c, averaged over
 * the rows not ignored. Returns a scalar; with every row ignored it is 0 (PyTorch gives NaN).
 */
export function crossEntropy(logits: Tensor, targets: IndexTensor, options: CrossEntropyOptions = {}): Tensor {
  if (logits.rank !== 2) throw new ShapeError(`crossEntropy: logits must be (N, C), got ${formatShape(logits.shape)}`);
  const [n, classes] = logits.shape;
  if (targets.data.length !== n) throw new ShapeError(`crossEntropy: ${targets.data.length} targets for ${n} rows of logits`);
  const eps = options.labelSmoothing ?? 0;
  const ignore = options.ignoreIndex ?? -100;
  const logp = logSoftmax(logits);
  let total = 0;
  let counted = 0;
  for (let r = 0; r < n; r++) {
    const t = targets.data[r];
    if (t === ignore) continue;
    if (t < 0 || t >= classes) throw new ShapeError(`crossEntropy: target ${t} of row ${r} is not a class in 0…${classes - 1}`);
    counted++;
    let smooth = 0;
    for (let c = 0; c < classes; c++) smooth += logp.data[r * classes + c];
    total += -(1 - eps) * logp.data[r * classes + t] - (eps / classes) * smooth;
  }
  const denom = Math.max(counted, 1);
  return result("crossEntropy", new Float32Array([total / denom]), [], [logp], (g) => {
    const glogp = new Float32Array(n * classes);
    for (let r = 0; r < n; r++) {
      const t = targets.data[r];
      if (t === ignore) continue;
      for (let c = 0; c < classes; c++) glogp[r * classes + c] = (-(eps / classes) * g[0]) / denom;
      glogp[r * classes + t] += (-(1 - eps) * g[0]) / denom;
    }
    return [glogp];
  });
}

/**
 * log softmax(z / T) of the `classes` logits from `offset` into `out`, in double precision with the maximum
 * subtracted first: the row computation of `softCrossEntropy`, shared with the teachers' targets (distill.ts).
 */
export function temperedLogSoftmaxRow(logits: Float32Array, offset: number, classes: number, temperature: number, out: Float64Array): void {
  let max = -Infinity;
  for (let c = 0; c < classes; c++) max = Math.max(max, logits[offset + c] / temperature);
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += Math.exp(logits[offset + c] / temperature - max);
  const logSum = max + Math.log(sum);
  for (let c = 0; c < classes; c++) out[c] = logits[offset + c] / temperature - logSum;
}

/**
 * Mean cross-entropy of logits z (N, C) against target distributions q (N, C) at temperature T:
 * T² · mean over rows of −Σ_c q_c · log softmax(z / T)_c, which is PyTorch's `F.cross_entropy(z / T, q) * T**2`.
 * The soft term of knowledge distillation (Hinton, Vinyals & Dean 2015): the T² keeps its gradient, T/N · (p − q)
 * with p = softmax(z / T), about as large as the hard loss's as T changes. q is a constant (no gradient).
 */
export function softCrossEntropy(logits: Tensor, targets: Tensor, temperature = 1): Tensor {
  if (logits.rank !== 2) throw new ShapeError(`softCrossEntropy: logits must be (N, C), got ${formatShape(logits.shape)}`);
  if (targets.shape.join() !== logits.shape.join()) {
    throw new ShapeError(`softCrossEntropy: targets ${formatShape(targets.shape)} must have the shape of logits ${formatShape(logits.shape)}`);
  }
  if (!(temperature > 0)) throw new RangeError(`softCrossEntropy: temperature must be > 0, got ${temperature}`);
  const [n, classes] = logits.shape;
  const p = new Float32Array(n * classes);
  const logp = new Float64Array(classes);
  let total = 0;
  for (let r = 0; r < n; r++) {
    const row = r * classes;
    temperedLogSoftmaxRow(logits.data, row, classes, temperature, logp);
    for (let c = 0; c < classes; c++) {
      total -= targets.data[row + c] * logp[c];
      p[row + c] = Math.exp(logp[c]);
    }
  }
  const rows = Math.max(n, 1);
  return result("softCrossEntropy", new Float32Array([(temperature * temperature * total) / rows]), [], [logits], (g) => {
    const gz = new Float32Array(n * classes);
    const k = (g[0] * temperature) / rows;
    for (let i = 0; i < gz.length; i++) gz[i] = k * (p[i] - targets.data[i]);
    return [gz];
  });
}

/** Mean squared error: mean((prediction − target)²). */
export function mseLoss(prediction: Tensor, target: Tensor): Tensor {
  const diff = sub(prediction, target);
  return mean(mul(diff, diff));
}
