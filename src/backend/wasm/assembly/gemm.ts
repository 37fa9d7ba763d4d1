/**
 * Matrix product C (+)= op(A)·op(B) in the Goto/BLIS scheme: B is packed in KC×NC blocks of NR-wide column
 * panels, A in MC×KC blocks of MR-high row panels, and a 4×8 register tile (8 f32x4 accumulators) runs over
 * each pair of panels. Operands are addressed through element strides, so every transpose is only a
 * different stride for the packing routines. Edge tiles are computed into a scratch tile and copied.
 * AssemblyScript source: compiled by scripts/build-wasm.mjs, not by tsc.
 */
import { activateInPlace } from "./activation";
import { madd, nextUnit, shareStart, storeTransposed } from "./simd";

const MR = 4;
const NR = 8;
const KC = 256; // an 8 KiB B micro-panel (KC×NR) stays in L1
const MC = 64; // a 64 KiB packed A block stays in L2
const NC = 512; // a 512 KiB packed B block stays in L2 (2 MiB per core on the target) beside A

/** Bytes of scratch one thread's `gemm` needs: the packed A block, the packed B block and an edge tile. */
export function gemmWorkBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 4;
}

/**
 * The 4×8 register tile: C[0:4, 0:8] (+)= Apanel·Bpanel over kc, from packed panels; ldc in bytes. Eight
 * accumulators + two B vectors + four A broadcasts fit V8's 15 usable xmm registers on x64: larger tiles (4×16)
 * or unrolling k (V8 hoists the loads) spill accumulators to the stack and run ~30% slower.
 */
function kernel4x8(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, add: bool): void {
  const z = f32x4.splat(0);
  let c00 = z, c01 = z;
  let c10 = z, c11 = z;
  let c20 = z, c21 = z;
  let c30 = z, c31 = z;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb, 0);
    const b1 = v128.load(pb, 16);
    const a0 = v128.load32_splat(pa, 0);
    c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01);
    const a1 = v128.load32_splat(pa, 4);
    c10 = madd(a1, b0, c10); c11 = madd(a1, b1, c11);
    const a2 = v128.load32_splat(pa, 8);
    c20 = madd(a2, b0, c20); c21 = madd(a2, b1, c21);
    const a3 = v128.load32_splat(pa, 12);
    c30 = madd(a3, b0, c30); c31 = madd(a3, b1, c31);
    pa += 16;
    pb += 32;
  }
  if (add) {
    c00 = f32x4.add(c00, v128.load(c, 0)); c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + 1 * ldc, 0)); c11 = f32x4.add(c11, v128.load(c + 1 * ldc, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * ldc, 0)); c21 = f32x4.add(c21, v128.load(c + 2 * ldc, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * ldc, 0)); c31 = f32x4.add(c31, v128.load(c + 3 * ldc, 16));
  }
  v128.store(c, c00, 0); v128.store(c, c01, 16);
  v128.store(c + 1 * ldc, c10, 0); v128.store(c + 1 * ldc, c11, 16);
  v128.store(c + 2 * ldc, c20, 0); v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30, 0); v128.store(c + 3 * ldc, c31, 16);
}

/** Packs rows [0, mc) × columns [0, kc) of op(A) (element (i, p) at a + 4·(i·ars + p·acs)) into MR-row panels, zero-padded. */
function packA(mc: i32, kc: i32, a: usize, ars: i32, acs: i32, dst: usize): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    const src = a + (<usize>ir * <usize>ars << 2);
    const panel = dst + (<usize>ir * <usize>kc << 2);
    if (rows === MR && acs === 1) {
      // A stored row-major: read 4×4 blocks and transpose them so each k step holds its 4 rows together
      const rs = <usize>ars << 2;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const s = src + (<usize>p << 2);
        storeTransposed(v128.load(s), v128.load(s + rs), v128.load(s + 2 * rs), v128.load(s + 3 * rs),
          panel + (<usize>p * MR << 2), MR * 4);
      }
      for (; p < kc; p++) {
        for (let i = 0; i < MR; i++) {
          store<f32>(panel + (<usize>(p * MR + i) << 2), load<f32>(src + (<usize>i * <usize>ars + <usize>p << 2)));
        }
      }
    } else if (rows === MR && ars === 1) {
      // A stored transposed: the 4 rows of one k step are already contiguous
      const cs = <usize>acs << 2;
      for (let p = 0; p < kc; p++) v128.store(panel + (<usize>p << 4), v128.load(src + <usize>p * cs));
    } else {
      for (let p = 0; p < kc; p++) {
        for (let i = 0; i < MR; i++) {
          const value: f32 = i < rows ? load<f32>(src + (<usize>i * <usize>ars + <usize>p * <usize>acs << 2)) : 0;
          store<f32>(panel + (<usize>(p * MR + i) << 2), value);
        }
      }
    }
  }
}

/** Packs rows [0, kc) × columns [0, nc) of op(B) (element (p, j) at b + 4·(p·brs + j·bcs)) into NR-column panels, zero-padded. */
function packB(kc: i32, nc: i32, b: usize, brs: i32, bcs: i32, dst: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    const src = b + (<usize>jr * <usize>bcs << 2);
    const panel = dst + (<usize>jr * <usize>kc << 2);
    if (cols === NR && bcs === 1) {
      // B stored row-major: each k step is NR contiguous floats
      const rs = <usize>brs << 2;
      for (let p = 0; p < kc; p++) {
        const s = src + <usize>p * rs;
        const d = panel + (<usize>p * NR << 2);
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
      }
    } else if (cols === NR && brs === 1) {
      // B stored transposed (a Linear weight): columns are contiguous, transpose them 4×4 at a time
      const cs = <usize>bcs << 2;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        for (let jj = 0; jj < NR; jj += 4) {
          const s = src + <usize>jj * cs + (<usize>p << 2);
          storeTransposed(v128.load(s), v128.load(s + cs), v128.load(s + 2 * cs), v128.load(s + 3 * cs),
            panel + (<usize>(p * NR + jj) << 2), NR * 4);
        }
      }
      for (; p < kc; p++) {
        for (let j = 0; j < NR; j++) {
          store<f32>(panel + (<usize>(p * NR + j) << 2), load<f32>(src + (<usize>j * <usize>bcs + <usize>p << 2)));
        }
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let j = 0; j < NR; j++) {
          const value: f32 = j < cols ? load<f32>(src + (<usize>p * <usize>brs + <usize>j * <usize>bcs << 2)) : 0;
          store<f32>(panel + (<usize>(p * NR + j) << 2), value);
        }
      }
    }
  }
}

/** Writes (or adds, when `add`) the top-left rows×cols of a computed MR×NR tile into C. */
function storeEdge(tile: usize, rows: i32, cols: i32, c: usize, ldc: usize, add: bool): void {
  for (let i = 0; i < rows; i++) {
    const dst = c + <usize>i * ldc;
    const src = tile + (<usize>(i * NR) << 2);
    for (let j = 0; j < cols; j++) {
      const at = dst + (<usize>j << 2);
      const v = load<f32>(src + (<usize>j << 2));
      store<f32>(at, add ? load<f32>(at) + v : v);
    }
  }
}

/**
 * Single-threaded C (+)= op(A)·op(B) for an m×n block: op(A)(i, p) = A[i·ars + p·acs], op(B)(p, j) = B[p·brs + j·bcs],
 * C(i, j) = C[i·ldc + j] (element strides). `work` holds gemmWorkBytes() of scratch; `bPacked` says it already
 * holds B packed (only for a B of one block: k ≤ KC, n ≤ NC).
 */
export function gemm(m: i32, n: i32, k: i32, a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32,
  c: usize, ldc: i32, accumulate: bool, work: usize, bPacked: bool = false): void {
  if (m <= 0 || n <= 0) return;
  const ldcBytes = <usize>ldc << 2;
  if (k <= 0) {
    if (!accumulate) for (let i = 0; i < m; i++) memory.fill(c + <usize>i * ldcBytes, 0, <usize>n << 2);
    return;
  }
  const pa = work;
  const pb = pa + (MC * KC << 2);
  const tile = pb + (KC * NC << 2);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      if (!bPacked) packB(kc, nc, b + (<usize>pc * <usize>brs + <usize>jc * <usize>bcs << 2), brs, bcs, pb);
      const add = accumulate || pc > 0;
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(mc, kc, a + (<usize>ic * <usize>ars + <usize>pc * <usize>acs << 2), ars, acs, pa);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = min(NR, nc - jr);
          const panelB = pb + (<usize>jr * <usize>kc << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = min(MR, mc - ir);
            const panelA = pa + (<usize>ir * <usize>kc << 2);
            const cTile = c + <usize>(ic + ir) * ldcBytes + (<usize>(jc + jr) << 2);
            if (rows === MR && cols === NR) {
              kernel4x8(kc, panelA, panelB, cTile, ldcBytes, add);
            } else {
              kernel4x8(kc, panelA, panelB, tile, NR * 4, false);
              storeEdge(tile, rows, cols, cTile, ldcBytes, add);
            }
          }
        }
      }
    }
  }
}

/** Whether B fits one packed block, so a thread can pack it once and reuse it for every row band it takes. */
function oneBlockOfB(n: i32, k: i32): bool {
  return k <= KC && n <= NC;
}

// Threads take a product's units (whole matrices of a batch, or bands of one matrix) one at a time from a shared
// counter, not as fixed halves: on a shared VM a worker often starts late or is descheduled for a while, and with
// fixed halves every product waits for it. About 4 units a thread let the other thread take up the slack. Finer
// bands only where they cost no packing: row bands of a product whose B is one block, which a thread packs once;
// elsewhere each band packs the other operand again (with bands of 256 rows or columns everywhere, three bench runs
// gave W2, whose products are wide, 0.74–0.76 × onnxruntime-web; with halves, 0.60–0.73 and 0.65–0.72), so such a
// matrix is cut in `threads` bands as before.
const UNITS_PER_THREAD = 4;

/**
 * Thread `tid` of `threads`' share of a batched product C[bi] (+)= op(A[bi])·op(B[bi]) (C contiguous m×n), then
 * the activation (0 none, 1 GELU, 2 GELU tanh form) over the part of C this thread wrote, while it is still in cache.
 * The work is cut into units — the batch's matrices, or when the batch is small, row bands (column bands when the
 * matrix is wide) aligned to the register tile — that the threads claim from `counter` (an i32 the caller zeroes)
 * as they go. Every element is computed the same way whichever thread takes its unit, so the result does not depend
 * on the number of threads or on timing.
 */
export function matmul(tid: i32, threads: i32, batch: i32, m: i32, n: i32, k: i32,
  a: usize, ars: i32, acs: i32, strideA: i32, b: usize, brs: i32, bcs: i32, strideB: i32,
  c: usize, accumulate: bool, work: usize, workStride: i32, activation: i32, counter: usize): void {
  const myWork = work + <usize>tid * <usize>workStride;
  const rowTiles = (m + MR - 1) / MR;
  const colTiles = (n + NR - 1) / NR;
  const splitRows = rowTiles >= colTiles;
  const tiles = splitRows ? rowTiles : colTiles;
  // Row bands of one matrix share B: with B in one block, a thread packs it once, for the first band it takes.
  const canReuseB = splitRows && oneBlockOfB(n, k) && (batch === 1 || strideB === 0);
  let parts = 1;
  if (threads > 1 && batch < UNITS_PER_THREAD * threads) {
    if (canReuseB) parts = max(threads, min((UNITS_PER_THREAD * threads + batch - 1) / batch, rowTiles * MR / MC));
    else if (batch % threads !== 0) parts = threads;
    parts = max(1, min(parts, tiles));
  }
  const units = batch * parts;
  const reuseB = parts > 1 && canReuseB;
  let bReady = false;
  for (let u = nextUnit(counter, threads, -1); u < units; u = nextUnit(counter, threads, u)) {
    const bi = u / parts;
    const part = u % parts;
    const aBase = a + (<usize>bi * <usize>strideA << 2);
    const bBase = b + (<usize>bi * <usize>strideB << 2);
    const cBase = c + (<usize>bi * <usize>m * <usize>n << 2);
    if (parts === 1) {
      gemm(m, n, k, aBase, ars, acs, bBase, brs, bcs, cBase, n, accumulate, myWork);
      activateInPlace(activation, cBase, m * n);
    } else if (splitRows) {
      const i0 = min(m, shareStart(rowTiles, part, parts) * MR);
      const i1 = min(m, shareStart(rowTiles, part + 1, parts) * MR);
      const cRows = cBase + (<usize>i0 * <usize>n << 2);
      gemm(i1 - i0, n, k, aBase + (<usize>i0 * <usize>ars << 2), ars, acs, bBase, brs, bcs, cRows, n, accumulate, myWork, reuseB && bReady);
      bReady = reuseB; // bands are never empty (parts ≤ rowTiles), so B is packed now
      activateInPlace(activation, cRows, (i1 - i0) * n);
    } else {
      const j0 = min(n, shareStart(colTiles, part, parts) * NR);
      const j1 = min(n, shareStart(colTiles, part + 1, parts) * NR);
      gemm(m, j1 - j0, k, aBase, ars, acs, bBase + (<usize>j0 * <usize>bcs << 2), brs, bcs,
        cBase + (<usize>j0 << 2), n, accumulate, myWork);
      for (let i = 0; i < m; i++) activateInPlace(activation, cBase + ((<usize>i * <usize>n + <usize>j0) << 2), j1 - j0);
    }
  }
}
