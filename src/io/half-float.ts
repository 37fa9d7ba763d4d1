/** Half-precision floats (IEEE f16 and bfloat16) to and from f32, for the safetensors reader and writer. */

let f16Table: Float32Array | null = null;
/** All 65536 half-precision values as f32 (exact: every f16 is an f32), built on first use. */
export function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  f16Table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const [sign, exp, mant] = [h & 0x8000 ? -1 : 1, (h >> 10) & 0x1f, h & 0x3ff];
    if (exp === 31) f16Table[h] = mant ? NaN : sign * Infinity;
    else f16Table[h] = sign * (exp === 0 ? mant * 2 ** -24 : (1024 + mant) * 2 ** (exp - 25));
  }
  return f16Table;
}

/** f32 bit pattern → f16 bit pattern, rounding to nearest even (overflow → ±inf, NaN stays NaN). */
export function f32BitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 112; // rebias 127 → 15
  if (e >= 31) return sign | 0x7c00;
  if (e < -10) return sign; // below half the smallest subnormal
  const m = e > 0 ? mant : mant | 0x800000; // subnormal result: shift the implicit bit in
  const shift = e > 0 ? 13 : 14 - e;
  const half = 1 << (shift - 1);
  const rest = m & ((1 << shift) - 1);
  let r = (e > 0 ? e << 10 : 0) | (m >>> shift);
  if (rest > half || (rest === half && r & 1)) r++; // a carry into the exponent is still correct
  return sign | r;
}

/** f32 bit pattern → bf16 bit pattern, rounding to nearest even (NaN kept quiet). */
export function f32BitsToBF16(x: number): number {
  if ((x & 0x7fffffff) > 0x7f800000) return (x >>> 16) | 0x40;
  return (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
}
