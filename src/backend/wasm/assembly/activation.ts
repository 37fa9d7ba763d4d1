/**
 * GELU in both forms and their derivatives, vectorised, elements split over threads.
 * Exact form: GELU(x) = x·Φ(x) with Φ(x) = ½·erfc(−x/√2), erfc from two fits (float32-accurate):
 *   |w| < 0.75:  erfc(w) = 1 − w·P(w²), P a degree-5 least-squares fit of erf(w)/w (max rel. error of erf 1.8e-7);
 *   |w| ≥ 0.75:  erfc(|w|) = e^{−w²}·R(t), t = 1/(1 + |w|), R a degree-9 fit of erfcx on [0.75, 10] (2.6e-7),
 *                erfc(−|w|) = 2 − erfc(|w|).
 * Working with erfc keeps the left tail (x ≪ 0, where 1 + erf cancels) accurate to a relative 1e-6.
 * Tanh form: ½x(1 + tanh u) = x·σ(2u), u = √(2/π)(x + 0.044715x³), which needs only exp and never cancels.
 * AssemblyScript source: compiled by scripts/build-wasm.mjs, not by tsc.
 */
import { exp4, madd, vectorShareStart } from "./simd";

const SMALL_LIMIT: f32 = 0.75;
const NEG_SQRT_HALF: f32 = -0.70710678118654752;
const ONE_OVER_SQRT_2PI: f32 = 0.39894228040143268;
const SQRT_2_OVER_PI: f32 = 0.79788456080286536;
const GELU_TANH_C: f32 = 0.044715;

/** erf(w)/w ≈ P(w²) for |w| < 0.75. */
// @ts-ignore: decorator
@inline function erfSmallRatio(w2: v128): v128 {
  let p = f32x4.splat(-0.0006747209092226253);
  p = madd(p, w2, f32x4.splat(0.005114019705424125));
  p = madd(p, w2, f32x4.splat(-0.026834463026809297));
  p = madd(p, w2, f32x4.splat(0.1128337329933057));
  p = madd(p, w2, f32x4.splat(-0.37612618524221275));
  return madd(p, w2, f32x4.splat(1.1283791654707958));
}

/** erfcx(a) = e^{a²}·erfc(a) ≈ R(1/(1 + a)) for a ≥ 0.75. */
// @ts-ignore: decorator
@inline function erfcxLarge(a: v128): v128 {
  const t = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), a));
  let r = f32x4.splat(0.5843332665805842);
  r = madd(r, t, f32x4.splat(-0.8746284494215948));
  r = madd(r, t, f32x4.splat(-0.8063713321060214));
  r = madd(r, t, f32x4.splat(2.6512824641436343));
  r = madd(r, t, f32x4.splat(-1.9281677876011876));
  r = madd(r, t, f32x4.splat(0.023245264452810763));
  r = madd(r, t, f32x4.splat(0.23530981864824954));
  r = madd(r, t, f32x4.splat(0.5685324979776153));
  r = madd(r, t, f32x4.splat(0.5639659699884996));
  return madd(r, t, f32x4.splat(4.885919701692044e-06));
}

/** erfc(w) per lane; when `gauss` is non-zero, also stores e^{−w²} there (the caller's Gaussian factor for the derivative). */
// @ts-ignore: decorator
@inline function erfc4(w: v128, gauss: usize): v128 {
  const a = f32x4.abs(w);
  const w2 = f32x4.mul(w, w);
  const isSmall = f32x4.lt(a, f32x4.splat(SMALL_LIMIT));
  const small = f32x4.sub(f32x4.splat(1), f32x4.mul(w, erfSmallRatio(w2)));
  // Without a derivative to feed, four small lanes need no tail (an exp, a division, a degree-9 polynomial).
  if (!gauss && i32x4.all_true(isSmall)) return small;
  const e = exp4(f32x4.neg(w2));
  if (gauss) v128.store(gauss, e);
  const tail = f32x4.mul(e, erfcxLarge(a));
  const large = v128.bitselect(f32x4.sub(f32x4.splat(2), tail), tail, f32x4.lt(w, f32x4.splat(0)));
  return v128.bitselect(small, large, isSmall);
}

/** erf(z) per lane: z·P(z²) near 0 (relative accuracy there), 1 − erfc(z) elsewhere. */
// @ts-ignore: decorator
@inline function erf4(z: v128): v128 {
  const small = f32x4.mul(z, erfSmallRatio(f32x4.mul(z, z)));
  const large = f32x4.sub(f32x4.splat(1), erfc4(z, 0));
  return v128.bitselect(small, large, f32x4.lt(f32x4.abs(z), f32x4.splat(SMALL_LIMIT)));
}

/** GELU (exact, or tanh form) of four lanes, or GELU'(x) when `deriv`; `scratch`: 16 bytes for erfc4's e^{−w²} (only read when `deriv`). */
// @ts-ignore: decorator
@inline function gelu4(x: v128, tanhForm: bool, deriv: bool, scratch: usize): v128 {
  if (tanhForm) {
    const x2 = f32x4.mul(x, x);
    const u = f32x4.mul(f32x4.splat(SQRT_2_OVER_PI), madd(f32x4.mul(x2, x), f32x4.splat(GELU_TANH_C), x));
    const e = exp4(f32x4.mul(u, f32x4.splat(-2)));
    const s = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), e));
    if (!deriv) return f32x4.mul(x, s);
    // d/dx = s + 2x·s(1 − s)·√(2/π)(1 + 3c·x²), from 0.5(1 + tanh u) = s and 1 − tanh²u = 4s(1 − s)
    const du = f32x4.mul(f32x4.splat(SQRT_2_OVER_PI), madd(x2, f32x4.splat(3 * GELU_TANH_C), f32x4.splat(1)));
    // 1 − s cancels as s → 1; there 1 − s = e·s exactly (e finite since s > ½)
    const s1 = v128.bitselect(f32x4.mul(e, f32x4.mul(s, s)), f32x4.mul(s, f32x4.sub(f32x4.splat(1), s)),
      f32x4.gt(s, f32x4.splat(0.5)));
    return madd(f32x4.mul(f32x4.add(x, x), s1), du, s);
  }
  const phi = f32x4.mul(f32x4.splat(0.5), erfc4(f32x4.mul(x, f32x4.splat(NEG_SQRT_HALF)), deriv ? scratch : 0));
  if (!deriv) return f32x4.mul(x, phi);
  // d/dx = Φ(x) + x·φ(x), φ(x) = e^{−x²/2}/√(2π), and e^{−x²/2} = e^{−w²} came out of erfc4
  const density = f32x4.mul(v128.load(scratch), f32x4.splat(ONE_OVER_SQRT_2PI));
  return madd(x, density, phi);
}

/** Activation codes of the products' epilogues (`matmul`, `matmulInt8`; the JavaScript side's ACTIVATION_CODE). */
export const ACTIVATION_NONE = 0;
export const ACTIVATION_GELU_TANH = 2;

/** out = GELU(x) (or its tanh form) over tid's share of n elements. */
export function gelu(tid: i32, threads: i32, x: usize, out: usize, n: i32, tanhForm: bool): void {
  const first = vectorShareStart(n, tid, threads);
  const last = vectorShareStart(n, tid + 1, threads);
  let i = first;
  for (; i + 4 <= last; i += 4) {
    const at = <usize>i << 2;
    v128.store(out + at, gelu4(v128.load(x + at), tanhForm, false, 0));
  }
  for (; i < last; i++) {
    const at = <usize>i << 2;
    store<f32>(out + at, f32x4.extract_lane(gelu4(f32x4.splat(load<f32>(x + at)), tanhForm, false, 0), 0));
  }
}

/**
 * A product's epilogue: the activation `code` (ACTIVATION_NONE, 1 GELU, ACTIVATION_GELU_TANH) in place over
 * `count` floats at c, while they are in cache, by `gelu`'s own code (the same bits as the unfused op).
 */
export function activateInPlace(code: i32, c: usize, count: i32): void {
  if (code !== ACTIVATION_NONE) gelu(0, 1, c, c, count, code === ACTIVATION_GELU_TANH);
}

/**
 * geluBackward's scratch per thread: 16 bytes hold erfc4's e^{−w²}, padded to a cache line, since two threads
 * writing theirs to one line (16 bytes apart) made the kernel slower on two threads than on one.
 */
const GELU_SCRATCH_BYTES: i32 = 64;

/** Bytes of geluBackward's scratch per thread. */
export function geluScratchBytes(): i32 {
  return GELU_SCRATCH_BYTES;
}

/** dx = dy · GELU'(x) (or the tanh form's) over tid's share of n elements; `scratch`: geluScratchBytes() per thread. */
export function geluBackward(tid: i32, threads: i32, x: usize, dy: usize, dx: usize, n: i32, tanhForm: bool,
  scratch: usize): void {
  const s = scratch + <usize>(tid * GELU_SCRATCH_BYTES);
  const first = vectorShareStart(n, tid, threads);
  const last = vectorShareStart(n, tid + 1, threads);
  let i = first;
  for (; i + 4 <= last; i += 4) {
    const at = <usize>i << 2;
    v128.store(dx + at, f32x4.mul(v128.load(dy + at), gelu4(v128.load(x + at), tanhForm, true, s)));
  }
  for (; i < last; i++) {
    const at = <usize>i << 2;
    const d = f32x4.extract_lane(gelu4(f32x4.splat(load<f32>(x + at)), tanhForm, true, s), 0);
    store<f32>(dx + at, load<f32>(dy + at) * d);
  }
}

/** out = erf(x) over n elements (single-threaded; exported to test the approximation). */
export function erf(x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    v128.store(out + at, erf4(v128.load(x + at)));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(out + at, f32x4.extract_lane(erf4(f32x4.splat(load<f32>(x + at))), 0));
  }
}
