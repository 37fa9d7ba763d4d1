/** Losses: cross-entropy (label smoothing, ignore index) and mean squared error, each one op with its own backward. */
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

/** Mean squared error: mean((prediction − target)²). */
export function mseLoss(prediction: Tensor, target: Tensor): Tensor {
  const diff = sub(prediction, target);
  return mean(mul(diff, diff));
}
