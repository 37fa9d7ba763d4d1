/**
 * int8 matrix product of a Linear layer: out (rows × n) = x (rows × k) · Wᵀ (+ bias), W quantized per output
 * channel (src/nn/quantize.ts), x quantized per row to 7-bit unsigned on the fly. The scheme and its float32
 * steps are those of src/backend/reference/matmul-int8.ts, which this reproduces bit for bit.
 *
 * Layout ("c4", as XNNPACK's dot-product kernels): k is cut into groups of 4 bytes (`int8GroupDepth()` values:
 * four int8 in the relaxed build, two int16 in the SIMD128 build). W is packed once into panels of NR = 8
 * columns, each group 32 bytes = columns 0–3 then 4–7, 4 bytes each; the activations of MR = 4 rows are packed
 * as each group's 4 rows × 4 bytes while they are quantized. One `dotAdd` then multiplies a column quartet's
 * group by a row's group broadcast to all lanes: the 4×8 register tile is 8 i32x4 accumulators, as in gemm.ts.
 * AssemblyScript source: compiled by scripts/build-wasm.mjs, not by tsc.
 */
import { activateInPlace } from "./activation";
import { dotAdd, int8GroupDepth, shareStart } from "./simd";

const MR = 4;
const NR = 8;
const MC = 64; // rows quantized and multiplied together: their packed activations stay in L2
const GROUP_BYTES = 4;
const PANEL_GROUP_BYTES = NR * GROUP_BYTES;
const TILE_GROUP_BYTES = MR * GROUP_BYTES;
const EPILOGUE_BYTES = 6 * 16; // one panel's column sums, weight scales and bias: two vectors each
const EDGE_TILE_BYTES = MR * NR * 4;

// @ts-ignore: decorator
@inline function groupsOf(k: i32): i32 {
  return (k + int8GroupDepth() - 1) / int8GroupDepth();
}

// @ts-ignore: decorator
@inline function align16(bytes: i32): i32 {
  return (bytes + 15) & ~15;
}

/** A clamped float as an integer; NaN gives 0, as storing NaN into an integer typed array does in the reference. */
// @ts-ignore: decorator
@inline function toInt(v: f32): i32 {
  return v === v ? <i32>v : 0;
}

/** Bytes of a packed weight (n × k): its NR-column panels, zero-padded, then n rounded up to NR scales and column sums. */
export function int8PackedWeightBytes(n: i32, k: i32): i32 {
  const panels = (n + NR - 1) / NR;
  return panels * groupsOf(k) * PANEL_GROUP_BYTES + 2 * panels * NR * 4;
}

/**
 * Packs W (n × k int8, row-major, at `values`) into panels at `dst` (int8PackedWeightBytes(n, k) bytes) and copies
 * the scales (f32) and column sums (i32) after them, zero-padded to whole panels. Single-threaded, once per weight.
 */
export function packInt8Weight(values: usize, scales: usize, columnSums: usize, n: i32, k: i32, dst: usize): void {
  const depth = int8GroupDepth();
  const elementBytes = GROUP_BYTES / depth;
  const groups = groupsOf(k);
  const panels = (n + NR - 1) / NR;
  for (let p = 0; p < panels; p++) {
    for (let g = 0; g < groups; g++) {
      const group = dst + <usize>((p * groups + g) * PANEL_GROUP_BYTES);
      for (let c = 0; c < NR; c++) {
        const col = p * NR + c;
        const at = group + <usize>((c >> 2) * 16 + (c & 3) * GROUP_BYTES);
        for (let e = 0; e < depth; e++) {
          const kk = g * depth + e;
          const v: i32 = col < n && kk < k ? <i32>load<i8>(values + <usize>col * <usize>k + <usize>kk) : 0;
          if (elementBytes === 1) store<i8>(at + <usize>e, <i8>v);
          else store<i16>(at + <usize>(e * 2), <i16>v);
        }
      }
    }
  }
  const sc = dst + <usize>(panels * groups * PANEL_GROUP_BYTES);
  const cs = sc + <usize>(panels * NR * 4);
  for (let j = 0; j < panels * NR; j++) {
    store<f32>(sc + (<usize>j << 2), j < n ? load<f32>(scales + (<usize>j << 2)) : 0);
    store<i32>(cs + (<usize>j << 2), j < n ? load<i32>(columnSums + (<usize>j << 2)) : 0);
  }
}

/** Bytes of one set of quantized activations for `rows` × k: packed values, then per-row scales and zero points. */
export function int8ActivationBytes(rows: i32, k: i32): i32 {
  const tiles = (rows + MR - 1) / MR;
  return align16(tiles * groupsOf(k) * TILE_GROUP_BYTES) + 2 * tiles * MR * 4;
}

/**
 * Bytes of scratch per thread: a panel's epilogue vectors and a ragged tile, rounded up to whole cache lines so
 * that no two threads write to one line.
 */
export function int8ScratchBytes(): i32 {
  return (EPILOGUE_BYTES + EDGE_TILE_BYTES + 63) & ~63;
}

/**
 * Quantizes row `r` of x (k floats at `src`) to [0, 127] into the packed activations `act` (row-tile stride
 * `tileBytes`), and stores its scale and zero point: the steps of quantizeRowsU7 in the reference, in float32.
 */
function quantizeRow(src: usize, k: i32, r: i32, act: usize, tileBytes: i32, scales: usize, zeroPoints: usize): void {
  const depth = int8GroupDepth();
  // pmin/pmax keep the running value when the new one is NaN, as `if (v < lo) lo = v` does in the reference
  let vlo = f32x4.splat(0);
  let vhi = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= k; i += 4) {
    const v = v128.load(src + (<usize>i << 2));
    vlo = f32x4.pmin(vlo, v);
    vhi = f32x4.pmax(vhi, v);
  }
  let lo = min<f32>(min<f32>(f32x4.extract_lane(vlo, 0), f32x4.extract_lane(vlo, 1)),
    min<f32>(f32x4.extract_lane(vlo, 2), f32x4.extract_lane(vlo, 3)));
  let hi = max<f32>(max<f32>(f32x4.extract_lane(vhi, 0), f32x4.extract_lane(vhi, 1)),
    max<f32>(f32x4.extract_lane(vhi, 2), f32x4.extract_lane(vhi, 3)));
  for (let t = i; t < k; t++) {
    const v = load<f32>(src + (<usize>t << 2));
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const range: f32 = hi - lo;
  const scale: f32 = range === 0 ? 1 : range / 127;
  const zeroPoint: f32 = min<f32>(max<f32>(nearest<f32>(-lo / scale), 0), 127);
  store<f32>(scales + (<usize>r << 2), scale);
  store<i32>(zeroPoints + (<usize>r << 2), toInt(zeroPoint));

  const dst = act + <usize>((r / MR) * tileBytes + (r % MR) * GROUP_BYTES);
  const vScale = f32x4.splat(scale);
  const vZero = f32x4.splat(zeroPoint);
  const vMax = f32x4.splat(127);
  const vMin = f32x4.splat(0);
  for (i = 0; i + 4 <= k; i += 4) {
    let q = f32x4.add(f32x4.nearest(f32x4.div(v128.load(src + (<usize>i << 2)), vScale)), vZero);
    q = f32x4.pmin(f32x4.pmax(q, vMin), vMax); // a NaN stays NaN and truncates to 0, as in a Uint8Array
    const h = i16x8.narrow_i32x4_s(i32x4.trunc_sat_f32x4_s(q), vMin);
    if (depth === 4) {
      store<i32>(dst + <usize>((i >> 2) * TILE_GROUP_BYTES), i32x4.extract_lane(i8x16.narrow_i16x8_u(h, h), 0));
    } else {
      store<i32>(dst + <usize>((i >> 1) * TILE_GROUP_BYTES), i32x4.extract_lane(h, 0));
      store<i32>(dst + <usize>(((i >> 1) + 1) * TILE_GROUP_BYTES), i32x4.extract_lane(h, 1));
    }
  }
  if (i < k) {
    store<i32>(dst + <usize>((i / depth) * TILE_GROUP_BYTES), 0); // the partial groups' padding multiplies zero weights
    if (depth === 2 && i + 2 < k) store<i32>(dst + <usize>((i / depth + 1) * TILE_GROUP_BYTES), 0);
  }
  for (; i < k; i++) {
    const q = toInt(min<f32>(max<f32>(nearest<f32>(load<f32>(src + (<usize>i << 2)) / scale) + zeroPoint, 0), 127));
    const at = dst + <usize>((i / depth) * TILE_GROUP_BYTES);
    if (depth === 4) store<u8>(at + <usize>(i & 3), <u8>q);
    else store<u16>(at + <usize>((i & 1) * 2), <u16>q);
  }
}

/** Quantizes rows [r0, r1) of x (rows × k at `x`), and zeroes the rows that pad the last tile when r1 = rows. */
function quantizeRows(x: usize, r0: i32, r1: i32, rows: i32, k: i32, act: usize, tileBytes: i32, scales: usize,
  zeroPoints: usize): void {
  for (let r = r0; r < r1; r++) quantizeRow(x + (<usize>r * <usize>k << 2), k, r, act, tileBytes, scales, zeroPoints);
  if (r1 !== rows) return;
  const groups = tileBytes / TILE_GROUP_BYTES;
  for (let r = rows; r % MR !== 0; r++) {
    const dst = act + <usize>((r / MR) * tileBytes + (r % MR) * GROUP_BYTES);
    for (let g = 0; g < groups; g++) store<i32>(dst + <usize>(g * TILE_GROUP_BYTES), 0);
    store<f32>(scales + (<usize>r << 2), 1);
    store<i32>(zeroPoints + (<usize>r << 2), 0);
  }
}

/**
 * One output row of a tile: ((f32(acc − zeroPoint·columnSum) × rowScale) × weightScale) + bias, each step a
 * float32 operation, for 8 columns (two vectors) stored at `dst`.
 */
// @ts-ignore: decorator
@inline function storeRow(acc0: v128, acc1: v128, r: i32, scales: usize, zeroPoints: usize, epi: usize, withBias: bool,
  dst: usize): void {
  const zp = i32x4.splat(load<i32>(zeroPoints + (<usize>r << 2)));
  const rs = f32x4.splat(load<f32>(scales + (<usize>r << 2)));
  // epi: column sums (2 vectors), weight scales (2), bias (2)
  let y0 = f32x4.convert_i32x4_s(i32x4.sub(acc0, i32x4.mul(zp, v128.load(epi, 0))));
  let y1 = f32x4.convert_i32x4_s(i32x4.sub(acc1, i32x4.mul(zp, v128.load(epi, 16))));
  y0 = f32x4.mul(f32x4.mul(y0, rs), v128.load(epi, 32));
  y1 = f32x4.mul(f32x4.mul(y1, rs), v128.load(epi, 48));
  if (withBias) {
    y0 = f32x4.add(y0, v128.load(epi, 64));
    y1 = f32x4.add(y1, v128.load(epi, 80));
  }
  v128.store(dst, y0, 0);
  v128.store(dst, y1, 16);
}

/**
 * The 4×8 register tile over `groups` 4-byte groups from packed panels, with the dequantizing epilogue: writes
 * rows r…r+3 of the output at `c` (row stride ldc bytes; a ragged tile goes to scratch first).
 */
function kernel4x8(groups: i32, pa: usize, pb: usize, r: i32, scales: usize, zeroPoints: usize, epi: usize,
  withBias: bool, c: usize, ldc: usize): void {
  const z = i32x4.splat(0);
  let c00 = z, c01 = z;
  let c10 = z, c11 = z;
  let c20 = z, c21 = z;
  let c30 = z, c31 = z;
  for (let g = 0; g < groups; g++) {
    const w0 = v128.load(pb, 0);
    const w1 = v128.load(pb, 16);
    const a0 = v128.load32_splat(pa, 0);
    c00 = dotAdd(w0, a0, c00); c01 = dotAdd(w1, a0, c01);
    const a1 = v128.load32_splat(pa, 4);
    c10 = dotAdd(w0, a1, c10); c11 = dotAdd(w1, a1, c11);
    const a2 = v128.load32_splat(pa, 8);
    c20 = dotAdd(w0, a2, c20); c21 = dotAdd(w1, a2, c21);
    const a3 = v128.load32_splat(pa, 12);
    c30 = dotAdd(w0, a3, c30); c31 = dotAdd(w1, a3, c31);
    pa += TILE_GROUP_BYTES;
    pb += PANEL_GROUP_BYTES;
  }
  storeRow(c00, c01, r, scales, zeroPoints, epi, withBias, c);
  storeRow(c10, c11, r + 1, scales, zeroPoints, epi, withBias, c + ldc);
  storeRow(c20, c21, r + 2, scales, zeroPoints, epi, withBias, c + 2 * ldc);
  storeRow(c30, c31, r + 3, scales, zeroPoints, epi, withBias, c + 3 * ldc);
}

/**
 * Output rows [r0, r1) (r0 a multiple of MR) × column panels [p0, p1), from activations already quantized.
 * `epi` is scratch for one panel's epilogue vectors and `edge` for a ragged tile.
 */
function multiplyBlock(r0: i32, r1: i32, p0: i32, p1: i32, n: i32, groups: i32, act: usize, tileBytes: i32,
  scales: usize, zeroPoints: usize, w: usize, bias: usize, out: usize, epi: usize, edge: usize): void {
  const panels = (n + NR - 1) / NR;
  const wScales = w + <usize>(panels * groups * PANEL_GROUP_BYTES);
  const colSums = wScales + <usize>(panels * NR * 4);
  const ldc = <usize>n << 2;
  const withBias = bias !== 0;
  for (let p = p0; p < p1; p++) {
    const j = p * NR;
    const cols = min(NR, n - j);
    v128.store(epi, v128.load(colSums + (<usize>j << 2)), 0);
    v128.store(epi, v128.load(colSums + (<usize>j << 2), 16), 16);
    v128.store(epi, v128.load(wScales + (<usize>j << 2)), 32);
    v128.store(epi, v128.load(wScales + (<usize>j << 2), 16), 48);
    if (withBias) {
      for (let t = 0; t < NR; t++) store<f32>(epi + <usize>(64 + 4 * t), t < cols ? load<f32>(bias + (<usize>(j + t) << 2)) : 0);
    }
    const panel = w + <usize>(p * groups * PANEL_GROUP_BYTES);
    for (let r = r0; r < r1; r += MR) {
      const tile = act + <usize>((r / MR) * tileBytes);
      const rowsHere = min(MR, r1 - r);
      const cTile = out + <usize>r * ldc + (<usize>j << 2);
      if (rowsHere === MR && cols === NR) {
        kernel4x8(groups, tile, panel, r, scales, zeroPoints, epi, withBias, cTile, ldc);
        continue;
      }
      kernel4x8(groups, tile, panel, r, scales, zeroPoints, epi, withBias, edge, NR * 4);
      for (let i = 0; i < rowsHere; i++) {
        memory.copy(cTile + <usize>i * ldc, edge + <usize>(i * NR * 4), <usize>cols << 2);
      }
    }
  }
}

/**
 * Thread `tid` of `threads`' share of out (rows × n) = act(int8(x) · Wᵀ (+ bias)): `w` as packInt8Weight left it,
 * `bias` 0 for none, `activation` an epilogue code (activation.ts). `work` holds int8ActivationBytes(rows, k) per set, `scratch` int8ScratchBytes() per thread.
 * Row split (`colSplit` false): each thread quantizes and multiplies its own row tiles, MC rows at a time, into
 * one shared set. Column split (few rows): each thread quantizes every row into its own set (work + tid·workStride)
 * and computes its share of the column panels.
 */
export function matmulInt8(tid: i32, threads: i32, rows: i32, k: i32, n: i32, x: usize, w: usize, bias: usize,
  out: usize, colSplit: bool, work: usize, workStride: i32, scratch: usize, activation: i32): void {
  if (rows <= 0 || n <= 0) return;
  const groups = groupsOf(k);
  const tiles = (rows + MR - 1) / MR;
  const tileBytes = groups * TILE_GROUP_BYTES;
  const act = work + (colSplit ? <usize>tid * <usize>workStride : 0);
  const scales = act + <usize>align16(tiles * tileBytes);
  const zeroPoints = scales + <usize>(tiles * MR * 4);
  const epi = scratch + <usize>(tid * int8ScratchBytes());
  const edge = epi + EPILOGUE_BYTES;
  const panels = (n + NR - 1) / NR;
  if (colSplit) {
    quantizeRows(x, 0, rows, rows, k, act, tileBytes, scales, zeroPoints);
    const p0 = shareStart(panels, tid, threads);
    const p1 = shareStart(panels, tid + 1, threads);
    multiplyBlock(0, rows, p0, p1, n, groups, act, tileBytes, scales, zeroPoints, w, bias, out, epi, edge);
    const j0 = min(n, p0 * NR);
    const j1 = min(n, p1 * NR);
    for (let r = 0; r < rows; r++) activateInPlace(activation, out + ((<usize>r * <usize>n + <usize>j0) << 2), j1 - j0);
    return;
  }
  const r0 = min(rows, shareStart(tiles, tid, threads) * MR);
  const r1 = min(rows, shareStart(tiles, tid + 1, threads) * MR);
  for (let ic = r0; ic < r1; ic += MC) {
    const ie = min(r1, ic + MC);
    quantizeRows(x, ic, ie, rows, k, act, tileBytes, scales, zeroPoints);
    multiplyBlock(ic, ie, 0, panels, n, groups, act, tileBytes, scales, zeroPoints, w, bias, out, epi, edge);
    activateInPlace(activation, out + (<usize>ic * <usize>n << 2), (ie - ic) * n);
  }
}
