/** Test helpers: finite-difference gradient checks and closeness assertions. */
import assert from "node:assert/strict";
import { Rng, Tensor } from "../src/tensor/index.ts";

/** Asserts |a − b| ≤ atol + rtol·|b| element-wise, naming the first offending index. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-5, rtol = 1e-4, what = "value"): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const ok = Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]);
    if (!ok) assert.fail(`${what}[${i}]: ${actual[i]} vs expected ${expected[i]}`);
  }
}

/** A random tensor with values in N(0, 1) (scaled), optionally requiring a gradient. */
export function randomTensor(shape: number[], rng: Rng, scale = 1, requiresGrad = true): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = scale * rng.normal();
  return new Tensor(data, shape, requiresGrad);
}

/**
 * Checks autograd against central finite differences for L = Σ f(inputs) ⊙ R (R random), computing L in
 * double precision. float32 storage limits the numeric gradient to ~1e-3 relative, so the tolerance is
 * loose; a wrong formula is off by O(1).
 */
export function gradCheck(name: string, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: { eps?: number; tol?: number; seed?: number } = {}): void {
  const eps = options.eps ?? 1e-2;
  const tol = options.tol ?? 2e-2;
  const rng = new Rng(options.seed ?? 7);
  const out = f(...inputs);
  const r = new Float32Array(out.size).map(() => rng.normal());
  const loss = (): number => {
    const y = f(...inputs).data;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * r[i];
    return s;
  };
  for (const x of inputs) x.grad = null;
  out.backward(r);
  inputs.forEach((x, xi) => {
    if (!x.requiresGrad) return;
    const analytic = x.grad?.data ?? new Float32Array(x.size);
    let scale = 1;
    for (const v of analytic) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < x.size; i++) {
      const saved = x.data[i];
      x.data[i] = saved + eps;
      const up = loss();
      x.data[i] = saved - eps;
      const down = loss();
      x.data[i] = saved;
      const numeric = (up - down) / (2 * eps);
      if (Math.abs(numeric - analytic[i]) > tol * scale) {
        assert.fail(`${name}: d/d(input ${xi})[${i}] autograd ${analytic[i]} vs finite difference ${numeric}`);
      }
    }
  });
}
