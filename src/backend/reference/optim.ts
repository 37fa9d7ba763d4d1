/** The optimizer kernels in plain TypeScript: an Adam / AdamW update and a weight average's, in double precision, stored as float32. */
import type { AdamStepParams } from "../backend.ts";

/**
 * w, m, v updated in place from g (PyTorch's Adam and AdamW):
 * g' = g + l2·w;  m = β1·m + (1−β1)·g';  v = β2·v + (1−β2)·g'²;  w = w·shrink − stepSize·m / (√v / √c2 + ε).
 * The update of w reads m and v before they are rounded to float32, as PyTorch's fused kernels do.
 */
export function adamStep(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, p: AdamStepParams): void {
  const { beta1, beta2, eps, l2, shrink, stepSize, rootC2 } = p;
  const oneMinusBeta1 = 1 - beta1;
  const oneMinusBeta2 = 1 - beta2;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i] + l2 * w[i];
    const mi = beta1 * m[i] + oneMinusBeta1 * gi;
    const vi = beta2 * v[i] + oneMinusBeta2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i] * shrink - (stepSize * mi) / (Math.sqrt(vi) / rootC2 + eps);
  }
}

/** shadow ← decay·shadow + (1 − decay)·w in place (an exponential moving average of weights), in double precision. */
export function averageStep(shadow: Float32Array, w: Float32Array, decay: number): void {
  const keep = 1 - decay;
  for (let i = 0; i < shadow.length; i++) shadow[i] = decay * shadow[i] + keep * w[i];
}

/** Long-lived storage: ordinary memory for this backend. */
export function allocate(length: number): Float32Array {
  return new Float32Array(length);
}

/** Step memory: none in this backend (ordinary arrays are its working memory), so every request falls back. */
export const stepMemory = {
  openStepMemory(): void {},
  stepArray(): Float32Array | null {
    return null;
  },
  closeStepMemory(): void {},
};
