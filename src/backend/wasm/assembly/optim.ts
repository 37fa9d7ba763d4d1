/**
 * The optimizer kernels, split over threads: Adam / AdamW updating parameters and moments in place, and a weight
 * average's update. They compute in double precision, two lanes at a time, with the reference backend's operations
 * in the reference's order (src/backend/reference/optim.ts), so both backends give the same bits; they are bound by
 * memory traffic (seven float32 streams for Adam, three for the average), not by arithmetic, so the wider lanes of
 * float32 would buy nothing.
 * AssemblyScript source: compiled by scripts/build-wasm.mjs, not by tsc.
 */
import { vectorShareStart } from "./simd";

/** Four float32 lanes as two f64x2 halves, and back. */
// @ts-ignore: decorator
@inline function low(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

// @ts-ignore: decorator
@inline function high(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
}

// @ts-ignore: decorator
@inline function join(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** β·prev + (1 − β)·x on two lanes (the first moment). */
// @ts-ignore: decorator
@inline function firstMoment(beta: v128, oneMinusBeta: v128, prev: v128, x: v128): v128 {
  return f64x2.add(f64x2.mul(beta, prev), f64x2.mul(oneMinusBeta, x));
}

/** β·prev + (1 − β)·x·x on two lanes, multiplied in the reference's order (the second moment). */
// @ts-ignore: decorator
@inline function secondMoment(beta: v128, oneMinusBeta: v128, prev: v128, x: v128): v128 {
  return f64x2.add(f64x2.mul(beta, prev), f64x2.mul(f64x2.mul(oneMinusBeta, x), x));
}

/** w·shrink − stepSize·m / (√v / rootC2 + ε) on two lanes. */
// @ts-ignore: decorator
@inline function updated(w: v128, m: v128, v: v128, shrink: v128, stepSize: v128, rootC2: v128, eps: v128): v128 {
  const denominator = f64x2.add(f64x2.div(f64x2.sqrt(v), rootC2), eps);
  return f64x2.sub(f64x2.mul(w, shrink), f64x2.div(f64x2.mul(stepSize, m), denominator));
}

/**
 * tid's share of one Adam step over n parameters: g' = g + l2·w; m = β1·m + (1−β1)·g'; v = β2·v + (1−β2)·g'·g';
 * w = w·shrink − stepSize·m / (√v / rootC2 + ε), with m and v stored as float32 after w has used their doubles.
 */
export function adamStep(tid: i32, threads: i32, w: usize, g: usize, m: usize, v: usize, n: i32, beta1: f64, beta2: f64,
  eps: f64, l2: f64, shrink: f64, stepSize: f64, rootC2: f64): void {
  const first = vectorShareStart(n, tid, threads);
  const last = vectorShareStart(n, tid + 1, threads);
  const b1 = f64x2.splat(beta1), ob1 = f64x2.splat(1 - beta1);
  const b2 = f64x2.splat(beta2), ob2 = f64x2.splat(1 - beta2);
  const e = f64x2.splat(eps), l = f64x2.splat(l2), s = f64x2.splat(shrink);
  const ss = f64x2.splat(stepSize), r = f64x2.splat(rootC2);
  let i = first;
  for (; i + 4 <= last; i += 4) {
    const at = <usize>i << 2;
    const w4 = v128.load(w + at), g4 = v128.load(g + at), m4 = v128.load(m + at), v4 = v128.load(v + at);
    const wLo = low(w4), wHi = high(w4);
    const gLo = f64x2.add(low(g4), f64x2.mul(l, wLo)), gHi = f64x2.add(high(g4), f64x2.mul(l, wHi));
    const mLo = firstMoment(b1, ob1, low(m4), gLo), mHi = firstMoment(b1, ob1, high(m4), gHi);
    const vLo = secondMoment(b2, ob2, low(v4), gLo), vHi = secondMoment(b2, ob2, high(v4), gHi);
    v128.store(w + at, join(updated(wLo, mLo, vLo, s, ss, r, e), updated(wHi, mHi, vHi, s, ss, r, e)));
    v128.store(m + at, join(mLo, mHi));
    v128.store(v + at, join(vLo, vHi));
  }
  for (; i < last; i++) {
    const at = <usize>i << 2;
    const wi: f64 = load<f32>(w + at);
    const gi = <f64>load<f32>(g + at) + l2 * wi;
    const mi = beta1 * <f64>load<f32>(m + at) + (1 - beta1) * gi;
    const vi = beta2 * <f64>load<f32>(v + at) + (1 - beta2) * gi * gi;
    store<f32>(m + at, <f32>mi);
    store<f32>(v + at, <f32>vi);
    store<f32>(w + at, <f32>(wi * shrink - (stepSize * mi) / (Math.sqrt(vi) / rootC2 + eps)));
  }
}

/** tid's share of a weight average's update over n values: shadow = decay·shadow + (1 − decay)·w, in double. */
export function averageStep(tid: i32, threads: i32, shadow: usize, w: usize, n: i32, decay: f64): void {
  const first = vectorShareStart(n, tid, threads);
  const last = vectorShareStart(n, tid + 1, threads);
  const d = f64x2.splat(decay), keep = f64x2.splat(1 - decay);
  let i = first;
  for (; i + 4 <= last; i += 4) {
    const at = <usize>i << 2;
    const s4 = v128.load(shadow + at), w4 = v128.load(w + at);
    v128.store(shadow + at, join(firstMoment(d, keep, low(s4), low(w4)), firstMoment(d, keep, high(s4), high(w4))));
  }
  for (; i < last; i++) {
    const at = <usize>i << 2;
    store<f32>(shadow + at, <f32>(decay * <f64>load<f32>(shadow + at) + (1 - decay) * <f64>load<f32>(w + at)));
  }
}
