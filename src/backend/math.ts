/** Scalar special functions shared by the kernels, in double precision. */

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const ONE_OVER_SQRT_PI = 0.5641895835477563;

/**
 * The error function to about 1e-15 relative. JavaScript has no Math.erf, and GELU must use the exact
 * erf form (the tanh form is off by up to 4.7e-4, far outside PyTorch parity).
 * |x| < 2.5: erf x = 2/√π · e^{−x²} · Σ 2ⁿ x^{2n+1} / (1·3···(2n+1)), a series of positive terms (no cancellation);
 * |x| ≥ 2.5: erfc x = e^{−x²}/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + …)))), a continued fraction (Lentz's method).
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax >= 6) return x > 0 ? 1 : -1; // erfc(6) ≈ 2e-17: below double precision
  if (ax < 2.5) {
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 0; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 3);
      sum += term;
      if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
    }
    return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  }
  const erfc = erfcContinuedFraction(ax);
  return x > 0 ? 1 - erfc : erfc - 1;
}

/** erfc(x) for x ≥ 2.5 by the continued fraction above, evaluated with the modified Lentz method. */
function erfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    d = x + a * d;
    d = d === 0 ? tiny : 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (ONE_OVER_SQRT_PI * Math.exp(-x * x)) / f;
}

const SQRT_HALF = Math.SQRT1_2;
const ONE_OVER_SQRT_2PI = 0.3989422804014327;
const SQRT_2_OVER_PI = 0.7978845608028654;
const GELU_TANH_C = 0.044715;

/** GELU, exact form: x · Φ(x) = ½ x (1 + erf(x/√2)). PyTorch's `gelu` and Hugging Face's `"gelu"`. */
export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x * SQRT_HALF));
}

/** d/dx GELU(x) = Φ(x) + x φ(x). */
export function geluDerivative(x: number): number {
  return 0.5 * (1 + erf(x * SQRT_HALF)) + x * ONE_OVER_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/** GELU, tanh approximation: ½ x (1 + tanh(√(2/π)(x + 0.044715 x³))). PyTorch `approximate="tanh"`, HF `"gelu_new"`. */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x)));
}

/** d/dx of the tanh-form GELU. */
export function geluTanhDerivative(x: number): number {
  const t = Math.tanh(SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_C * x * x);
}
