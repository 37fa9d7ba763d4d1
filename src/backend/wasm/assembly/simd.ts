/**
 * SIMD helpers shared by the kernels: multiply-add (fused where the relaxed-SIMD build allows it), a
 * vectorised exp, horizontal reductions and a 4×4 transpose.
 * AssemblyScript source: compiled by scripts/build-wasm.mjs, not by tsc.
 */

/** a·b + c per lane: one `f32x4.relaxed_madd` (an FMA on x86 with FMA3) in the relaxed build, mul + add otherwise. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Largest of the four lanes. */
// @ts-ignore: decorator
@inline export function hmax(v: v128): f32 {
  const s = f32x4.pmax(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return max<f32>(f32x4.extract_lane(s, 0), f32x4.extract_lane(s, 1));
}

/**
 * The row maximum from running lanes `vMax` (taken with pmax, which skips NaN) and `vNaN` (lanes set where a NaN
 * was seen): NaN when any lane saw one, so a NaN row is never mistaken for a fully masked (all −∞) one.
 */
// @ts-ignore: decorator
@inline export function hmaxOrNaN(vMax: v128, vNaN: v128): f32 {
  return v128.any_true(vNaN) ? <f32>NaN : hmax(vMax);
}

/** Sum of the two lanes of an f64x2. */
// @ts-ignore: decorator
@inline export function hsum64(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/** acc + the four lanes of `v`, widened to double: returns the new f64x2 accumulator. */
// @ts-ignore: decorator
@inline export function addWide(acc: v128, v: v128): v128 {
  acc = f64x2.add(acc, f64x2.promote_low_f32x4(v));
  return f64x2.add(acc, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
}

// Cephes expf: x = n·ln2 + r, |r| ≤ ln2/2, exp(r) by a degree-7 polynomial, 2^n built in the exponent bits.
const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375; // few mantissa bits: n·LN2_HI is exact
const LN2_LO: f32 = -2.12194440e-4;
const ROUND_MAGIC: f32 = 12582912; // 1.5·2^23: adding it rounds to an integer held in the low mantissa bits
const EXP_MAX_INPUT: f32 = 88.3; // keeps n ≤ 127 so 2^n stays finite; above 88.72 the result is +∞
const EXP_MIN_INPUT: f32 = -87.3; // below, exp is subnormal: flushed to 0 (and exp(−∞) = 0 exactly)

/** e^x per lane, within 2 ulp on [−87.3, 88.3]; 0 below (exactly 0 for −∞), +∞ above 88.72, NaN for NaN. */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  // pmin/pmax: single minps/maxps (wasm min/max need NaN fix-ups); with x first, a NaN x passes through
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(EXP_MIN_INPUT)), f32x4.splat(EXP_MAX_INPUT));
  // n = round(x·log2 e) by the magic-number trick (cheaper than nearest + trunc_sat in V8); its bits give 2^n
  const t = f32x4.add(f32x4.mul(xc, f32x4.splat(LOG2E)), f32x4.splat(ROUND_MAGIC));
  const n = f32x4.sub(t, f32x4.splat(ROUND_MAGIC));
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  const r2 = f32x4.mul(r, r);
  const y = f32x4.add(madd(p, r2, r), f32x4.splat(1));
  const scale = i32x4.add(i32x4.shl(t, 23), i32x4.splat(127 << 23)); // low bits of t = n (two's complement)
  let result = f32x4.mul(y, scale);
  result = v128.andnot(result, f32x4.lt(x, f32x4.splat(EXP_MIN_INPUT)));
  return v128.bitselect(f32x4.splat(Infinity), result, f32x4.gt(x, f32x4.splat(88.72)));
}

/** Transposes the 4×4 block in r0..r3 (rows) and stores its columns as rows at dst, dst+step, dst+2·step, dst+3·step. */
// @ts-ignore: decorator
@inline export function storeTransposed(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, step: usize): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<i64>(t0, t2, 0, 2));
  v128.store(dst + step, v128.shuffle<i64>(t0, t2, 1, 3));
  v128.store(dst + 2 * step, v128.shuffle<i64>(t1, t3, 0, 2));
  v128.store(dst + 3 * step, v128.shuffle<i64>(t1, t3, 1, 3));
}

/**
 * The next unit of work this thread takes after `previous` (−1 at the start): with several threads, whichever unit
 * the shared counter at `counter` (an i32 the caller zeroes) hands out next, so a thread that starts late takes
 * fewer; alone, simply the next one. Callers stop at the first unit past their count.
 */
// @ts-ignore: decorator
@inline export function nextUnit(counter: usize, threads: i32, previous: i32): i32 {
  return threads > 1 ? atomic.add<i32>(counter, 1) : previous + 1;
}

/** Where thread `tid` of `threads` starts in `total` items split evenly (its share ends where tid + 1 starts). */
// @ts-ignore: decorator
@inline export function shareStart(total: i32, tid: i32, threads: i32): i32 {
  return <i32>(<i64>total * <i64>tid / <i64>threads);
}

/**
 * Where thread `tid` starts in `n` elements split into whole f32x4 vectors: the last thread's share also takes the
 * n % 4 leftover elements (`tid` = `threads` gives n, so tid's share ends where tid + 1 starts).
 */
// @ts-ignore: decorator
@inline export function vectorShareStart(n: i32, tid: i32, threads: i32): i32 {
  return tid === threads ? n : shareStart(n >> 2, tid, threads) << 2;
}

const LN2: f64 = 0.6931471805599453;

/**
 * Natural log for x > 0 in double precision (to ~1e-16), written out so the module needs no lookup tables
 * (the standard library's log brings 4 KiB of data segments): x = 2^e·m with m in [√½, √2),
 * log m = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.172, by its odd series.
 */
export function log64(x: f64): f64 {
  if (!(x > 0) || !isFinite(x)) return x === 0 ? -Infinity : x > 0 ? x : NaN;
  const bits = reinterpret<u64>(x);
  let e = <i32>((bits >> 52) & 0x7ff) - 1023;
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);
  if (e === -1023) { // subnormal: normalise first
    const n = x * 18014398509481984.0; // 2^54
    const nb = reinterpret<u64>(n);
    e = <i32>((nb >> 52) & 0x7ff) - 1023 - 54;
    m = reinterpret<f64>((nb & 0x000fffffffffffff) | 0x3ff0000000000000);
  }
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e += 1;
  }
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  let term = s;
  let sum = s;
  for (let k = 3; k <= 31; k += 2) {
    term *= s2;
    sum += term / k;
  }
  return <f64>e * LN2 + 2 * sum;
}

/**
 * Bytes of one k step of `dotAdd` per row and column: four int8 values in the relaxed build, two int16 values in
 * the SIMD128 build (which has no 8-bit dot product), so both builds share one packed layout of 4-byte groups.
 */
// @ts-ignore: decorator
@inline export function int8GroupDepth(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 4 : 2;
}

/**
 * acc + per i32 lane the dot product of that lane's 4-byte group of `w` (signed weights) with the one of `a`
 * (activations in [0, 127]): in the relaxed build four int8 pairs by `i16x8.relaxed_dot_i8x16_i7x16_s` (pair sums,
 * at most 2·127·127 = 32258, so no i16 saturation; deterministic because a's top bits are clear) widened by
 * `i32x4.dot_i16x8_s` with ones; in the SIMD128 build two int16 pairs by `i32x4.dot_i16x8_s`. Exact either way.
 * The widening is pmaddwd either way, but V8 11.3 lowers `extadd_pairwise_i16x8_s` with its ones in memory behind
 * an address loaded per use; a splat of ones stays in a register (one thread, 1024 × 384 × 1536: 71.2 → 77.7 GOP/s
 * in scripts/int8-speed.mts).
 * Not the fused `i32x4.relaxed_dot_i8x16_i7x16_add_s`: Node 20's V8 (11.3) miscompiles it when registers run short
 * (the 4×8 tile's rows 2 and 3 came out as twice the last group's sum); the two-step form is what it lowers to anyway.
 */
// @ts-ignore: decorator
@inline export function dotAdd(w: v128, a: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(w, a), i16x8.splat(1)));
  return i32x4.add(acc, i32x4.dot_i16x8_s(w, a));
}
