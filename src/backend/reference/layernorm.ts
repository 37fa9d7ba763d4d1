/** Reference LayerNorm (Ba et al. 2016) over the last axis, with PyTorch's conventions. */

/**
 * y = (x − mean) / sqrt(var + eps) · gamma + beta. The variance is biased (÷ cols) and eps sits inside the
 * square root, as in PyTorch. Mean and variance take two passes in double precision: E[x²] − E[x]² in
 * float32 loses the digits of rows with a large offset. With `residual`, normalises x + residual (summed in float32).
 */
export function layerNorm(x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, out: Float32Array,
  mean: Float32Array, rstd: Float32Array, rows: number, cols: number, eps: number,
  residual: Float32Array | null = null): void {
  const input = residual ? Float32Array.from({ length: rows * cols }, (_, i) => x[i] + residual[i]) : x;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += input[o + j];
    const mu = sum / cols;
    let sq = 0;
    for (let j = 0; j < cols; j++) {
      const d = input[o + j] - mu;
      sq += d * d;
    }
    const rs = 1 / Math.sqrt(sq / cols + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (let j = 0; j < cols; j++) {
      const xhat = (input[o + j] - mu) * rs;
      out[o + j] = xhat * (gamma ? gamma[j] : 1) + (beta ? beta[j] : 0);
    }
  }
}

/**
 * With x̂ = (x − mean)·rstd and g = dy ⊙ gamma:
 * dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂)); dgamma += Σ_rows dy ⊙ x̂; dbeta += Σ_rows dy.
 */
export function layerNormBackward(x: Float32Array, gamma: Float32Array | null, mean: Float32Array, rstd: Float32Array,
  dy: Float32Array, dx: Float32Array | null, dgamma: Float32Array | null, dbeta: Float32Array | null,
  rows: number, cols: number): void {
  const dgammaAcc = dgamma ? new Float64Array(cols) : null;
  const dbetaAcc = dbeta ? new Float64Array(cols) : null;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const mu = mean[r];
    const rs = rstd[r];
    let gMean = 0;
    let gxMean = 0;
    for (let j = 0; j < cols; j++) {
      const xhat = (x[o + j] - mu) * rs;
      const g = dy[o + j] * (gamma ? gamma[j] : 1);
      gMean += g;
      gxMean += g * xhat;
      if (dgammaAcc) dgammaAcc[j] += dy[o + j] * xhat;
      if (dbetaAcc) dbetaAcc[j] += dy[o + j];
    }
    gMean /= cols;
    gxMean /= cols;
    if (dx) {
      for (let j = 0; j < cols; j++) {
        const xhat = (x[o + j] - mu) * rs;
        const g = dy[o + j] * (gamma ? gamma[j] : 1);
        dx[o + j] = rs * (g - gMean - xhat * gxMean);
      }
    }
  }
  if (dgamma && dgammaAcc) for (let j = 0; j < cols; j++) dgamma[j] += dgammaAcc[j];
  if (dbeta && dbetaAcc) for (let j = 0; j < cols; j++) dbeta[j] += dbetaAcc[j];
}
