/**
 * The int8 scheme, written for reading: the specification the WASM kernels (and tsformer's ONNX int8 export)
 * reproduce bit for bit. Weights: int8 per output channel, symmetric. Activations: per row, asymmetric, 7-bit
 * unsigned [0, 127]. Product: an exact int32 sum, then a float32 epilogue in a fixed order. Every float step
 * is float32 (Math.fround), and rounding is half to even (WASM's f32.nearest, ONNX's Round).
 */
import type { MatmulParams, QuantizedWeight } from "../backend.ts";
import { unary } from "./elementwise.ts";

const f32 = Math.fround;

/** Rounds half to even (2.5 → 2, 3.5 → 4, −2.5 → −2), as f32.nearest and ONNX Round do. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v); // rounds halves up (toward +∞)
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * Quantizes W (outFeatures × inFeatures, row-major) per output row: scale = max|W[j, :]| / 127 (1 for an all-zero
 * row), values = clamp(roundHalfEven(W / scale), −127, 127), columnSums = Σ_k values[j, k].
 */
export function quantizeWeightData(w: Float32Array, outFeatures: number, inFeatures: number): QuantizedWeight {
  const values = new Int8Array(outFeatures * inFeatures);
  const scales = new Float32Array(outFeatures);
  const columnSums = new Int32Array(outFeatures);
  for (let j = 0; j < outFeatures; j++) {
    const row = j * inFeatures;
    let maxAbs = 0;
    for (let k = 0; k < inFeatures; k++) maxAbs = Math.max(maxAbs, Math.abs(w[row + k]));
    const scale = maxAbs === 0 ? 1 : f32(maxAbs / 127);
    let sum = 0;
    for (let k = 0; k < inFeatures; k++) {
      const q = clamp(roundHalfEven(f32(w[row + k] / scale)), -127, 127);
      values[row + k] = q;
      sum += q;
    }
    scales[j] = scale;
    columnSums[j] = sum;
  }
  return { values, scales, columnSums, outFeatures, inFeatures };
}

/** Rows of activations quantized to 7 bits: x[r, k] ≈ (values[r, k] − zeroPoints[r]) × scales[r]. */
export interface QuantizedRows {
  /** (rows, k) row-major, each in [0, 127]. */
  values: Uint8Array;
  scales: Float32Array;
  /** Each in [0, 127]. */
  zeroPoints: Int32Array;
}

/**
 * Quantizes each row of x (rows × k) to [0, 127]: lo = min(0, min x[r, :]), hi = max(0, max x[r, :]),
 * scale = (hi − lo) / 127 (1 when 0), zeroPoint = clamp(roundHalfEven(−lo / scale), 0, 127),
 * values = clamp(roundHalfEven(x / scale) + zeroPoint, 0, 127). Including 0 in [lo, hi] keeps 0 exact.
 */
export function quantizeRowsU7(x: Float32Array, rows: number, k: number): QuantizedRows {
  const values = new Uint8Array(rows * k);
  const scales = new Float32Array(rows);
  const zeroPoints = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = r * k;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < k; i++) {
      const v = x[row + i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const range = f32(hi - lo);
    const scale = range === 0 ? 1 : f32(range / 127);
    const zeroPoint = clamp(roundHalfEven(f32(-lo / scale)), 0, 127);
    for (let i = 0; i < k; i++) values[row + i] = clamp(roundHalfEven(f32(x[row + i] / scale)) + zeroPoint, 0, 127);
    scales[r] = scale;
    zeroPoints[r] = zeroPoint;
  }
  return { values, scales, zeroPoints };
}

/**
 * out (rows × n) = int8 product of x (rows × k) and w (n × k): acc = Σ_k xq·wq − zeroPoint·columnSum (exact in
 * int32), then y = ((f32(acc) × rowScale) × weightScale) + bias, each step rounded to float32; then `activation`.
 */
export function matmulInt8(x: Float32Array, w: QuantizedWeight, bias: Float32Array | null, out: Float32Array, rows: number,
  activation: MatmulParams["activation"] = null): void {
  const { outFeatures: n, inFeatures: k, values: wq, scales: wScales, columnSums } = w;
  const xq = quantizeRowsU7(x, rows, k);
  for (let r = 0; r < rows; r++) {
    const aRow = r * k;
    const aScale = xq.scales[r];
    const zeroPoint = xq.zeroPoints[r];
    for (let j = 0; j < n; j++) {
      const wRow = j * k;
      let acc = 0; // |acc| ≤ 127·127·k: exact in a double, and in int32 for k < 133,000
      for (let i = 0; i < k; i++) acc += xq.values[aRow + i] * wq[wRow + i];
      acc -= zeroPoint * columnSums[j];
      const y = f32(f32(f32(acc) * aScale) * wScales[j]);
      out[r * n + j] = bias ? f32(y + bias[j]) : y;
    }
  }
  if (activation) {
    const all = out.subarray(0, rows * n);
    unary(activation, all, all);
  }
}
