/**
 * Reference softmax and log-softmax over the last axis.
 *
 * The NaN rule (every backend, fused attention included): −∞ means "masked", NaN means "not a number".
 * A row whose entries are all −∞ (masked on purpose) gives zeros (log-softmax: −∞); a row holding any NaN
 * gives NaN, as in PyTorch, even when every other entry is −∞. So the row max must propagate NaN: a max taken
 * with `>` alone skips NaN, and an all-NaN row would then look fully masked and silently become zeros.
 */

/**
 * The largest entry of x[o, o + cols): −∞ for an empty or all −∞ row, NaN when any entry is NaN (the NaN rule above;
 * the reference attention takes its logits' max with it too).
 */
export function rowMax(x: Float32Array | Float64Array, o: number, cols: number): number {
  let max = -Infinity;
  for (let j = 0; j < cols; j++) {
    const v = x[o + j];
    if (Number.isNaN(v)) return v;
    if (v > max) max = v;
  }
  return max;
}

/**
 * softmax(x)_j = exp(x_j − max) / Σ exp(x_k − max). Subtracting the row max keeps exp from overflowing.
 * A row whose entries are all −∞ (every key masked) has no defined softmax (PyTorch returns NaN);
 * tsformer returns zeros there, so a fully masked query attends to nothing. A NaN anywhere makes the row NaN.
 */
export function softmax(x: Float32Array, out: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const max = rowMax(x, o, cols);
    if (max === -Infinity) {
      out.fill(0, o, o + cols);
      continue;
    }
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(x[o + j] - max);
    for (let j = 0; j < cols; j++) out[o + j] = Math.exp(x[o + j] - max) / sum;
  }
}

/** dx = y ⊙ (dy − Σ_j dy_j y_j). */
export function softmaxBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let dot = 0;
    for (let j = 0; j < cols; j++) dot += dy[o + j] * y[o + j];
    for (let j = 0; j < cols; j++) dx[o + j] = y[o + j] * (dy[o + j] - dot);
  }
}

/** log softmax(x)_j = x_j − max − log Σ exp(x_k − max); a row of all −∞ stays −∞, a row holding NaN is NaN. */
export function logSoftmax(x: Float32Array, out: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const max = rowMax(x, o, cols);
    if (max === -Infinity) {
      out.fill(-Infinity, o, o + cols);
      continue;
    }
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(x[o + j] - max);
    const logSum = max + Math.log(sum);
    for (let j = 0; j < cols; j++) out[o + j] = x[o + j] - logSum;
  }
}

/** dx = dy − exp(y) Σ dy, with y = log softmax(x). */
export function logSoftmaxBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += dy[o + j];
    for (let j = 0; j < cols; j++) dx[o + j] = dy[o + j] - Math.exp(y[o + j]) * sum;
  }
}
