/**
 * The wasm backend's memory-bound ops: element-wise and broadcasting binary ops, affine, column sums, permutations
 * that keep the last axis, the embedding's gather and scatter-add, and zeroing. Each is a single pass over its data,
 * so each runs in WASM only where that beats JavaScript (enough elements; operands already in WASM memory for the
 * table ops) and is threaded above MEMORY_THREADING_ELEMENTS; the rest goes to the reference kernels. All are
 * bit-identical to the reference. WasmBackend owns the memory and the threads and delegates these methods here.
 */
import type { BinaryOp } from "../backend.ts";
import { isDense } from "../reference/elementwise.ts";
import { referenceBackend as REF } from "../reference/index.ts";
import type { Arena } from "./arena.ts";
import type { ThreadedKernel } from "./kernel-exports.ts";

// Below this many elements a copy into WASM memory and back costs more than JavaScript's own loop.
export const ELEMENTWISE_WASM_ELEMENTS = 1 << 12;
/** binaryBroadcast's and binaryDense's op codes (src/backend/wasm/assembly/elementwise.ts). */
const BINARY_OP_CODE: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3 };

/** What the memory-bound ops use of their backend: memory and threads. */
export interface MemoryOpsHost {
  arena: Arena;
  /** Threads for a pass over `elements` floats (1 below the fork-join threshold). */
  threadsFor(elements: number): number;
  /** Runs a threaded kernel on `threads` threads. */
  run(kernel: ThreadedKernel, args: number[], threads: number): void;
}

/** Memory-bound ops on a wasm backend's memory and threads. */
export class WasmMemoryOps {
  constructor(private readonly host: MemoryOpsHost) {}

  /** out = x·mul + add. */
  affine(x: Float32Array, mul: number, add: number, out: Float32Array): void {
    const n = x.length;
    if (n < ELEMENTWISE_WASM_ELEMENTS) return REF.affine(x, mul, add, out);
    const ar = this.host.arena;
    ar.reset();
    const xp = ar.putF32(x);
    const outp = ar.outF32(out, n);
    this.host.run("affine", [xp, outp, n, mul, add], this.host.threadsFor(n));
    ar.getF32(outp, out.subarray(0, n));
  }

  /** out = a ∘ b, broadcasting through strides. */
  binary(op: BinaryOp, a: Float32Array, aStrides: readonly number[], b: Float32Array, bStrides: readonly number[],
    out: Float32Array, outShape: readonly number[]): void {
    const size = outShape.reduce((x, y) => x * y, 1);
    if (size < ELEMENTWISE_WASM_ELEMENTS) return REF.binary(op, a, aStrides, b, bStrides, out, outShape);
    // Operands of the output's shape (residual adds, their gradients) run as one SIMD loop; broadcasts row by row.
    if (!isDense(aStrides, outShape) || !isDense(bStrides, outShape)) return this.binaryBroadcast(op, a, aStrides, b, bStrides, out, outShape);
    const ar = this.host.arena;
    ar.reset();
    const ap = ar.putF32(a.subarray(0, size));
    const bp = ar.putF32(b.subarray(0, size));
    const outp = ar.outF32(out, size);
    this.host.run("binaryDense", [BINARY_OP_CODE[op], ap, bp, outp, size], this.host.threadsFor(size));
    ar.getF32(outp, out.subarray(0, size));
  }

  /**
   * A broadcasting binary op as rows of the last axis, each operand stepping through a row by 1 or 0 (a bias row, a
   * per-row scale); rows shorter than 8 floats and other strides stay in JS.
   */
  private binaryBroadcast(op: BinaryOp, a: Float32Array, aStrides: readonly number[], b: Float32Array,
    bStrides: readonly number[], out: Float32Array, outShape: readonly number[]): void {
    const rank = outShape.length;
    const n = outShape[rank - 1];
    const aInner = outShape[rank - 1] === 1 ? 0 : aStrides[rank - 1];
    const bInner = outShape[rank - 1] === 1 ? 0 : bStrides[rank - 1];
    if (n < 8 || aInner > 1 || bInner > 1 || aInner + bInner === 0) return REF.binary(op, a, aStrides, b, bStrides, out, outShape);
    const extent = (strides: readonly number[]): number => 1 + outShape.reduce((sum, d, i) => sum + (d - 1) * strides[i], 0);
    const leading = outShape.slice(0, rank - 1);
    const ar = this.host.arena;
    ar.reset();
    const ap = ar.putF32(a.subarray(0, extent(aStrides)));
    const bp = ar.putF32(b.subarray(0, extent(bStrides)));
    const size = outShape.reduce((p, q) => p * q, 1);
    const outp = ar.outF32(out, size);
    const int32s = (values: readonly number[]): number => ar.putU8(new Uint8Array(Int32Array.from(values).buffer));
    const shapep = int32s(leading);
    const ast = int32s(aStrides.slice(0, rank - 1));
    const bst = int32s(bStrides.slice(0, rank - 1));
    this.host.run("binaryBroadcast", [BINARY_OP_CODE[op], ap, bp, outp, rank - 1, shapep, ast, bst, size / n, n, aInner, bInner],
      this.host.threadsFor(size));
    ar.getF32(outp, out.subarray(0, size));
  }

  /** out = x summed down to outShape (the gradient of a broadcast). */
  sumTo(x: Float32Array, xShape: readonly number[], out: Float32Array, outShape: readonly number[]): void {
    // A sum over leading axes (a bias's gradient, a broadcast over the batch) is a column sum; other shapes in JS.
    const kept = outShape.length - outShape.findIndex((d) => d !== 1);
    const offset = xShape.length - outShape.length;
    const inner = outShape.reduce((p, q) => p * q, 1);
    const keepsTail = kept <= outShape.length && outShape.every((d, j) => j < outShape.length - kept || d === xShape[j + offset]);
    if (!keepsTail || inner === 0) return REF.sumTo(x, xShape, out, outShape);
    this.reduce("sum", x, 1, xShape.reduce((p, q) => p * q, 1) / inner, inner, out, null);
  }

  /** Sum or max over the middle axis of an (outer, axis, inner) view. */
  reduce(op: "sum" | "max", x: Float32Array, outer: number, axis: number, inner: number, out: Float32Array,
    argmax: Int32Array | null): void {
    const size = outer * axis * inner;
    // Column sums (inner ≥ 16) run in WASM, 16 columns per pass down the rows; row sums and max stay in JS.
    if (op !== "sum" || inner < 16 || size < ELEMENTWISE_WASM_ELEMENTS) return REF.reduce(op, x, outer, axis, inner, out, argmax);
    const ar = this.host.arena;
    ar.reset();
    const xp = ar.putF32(x.subarray(0, size));
    const outp = ar.outF32(out, outer * inner);
    this.host.run("sumAxis", [xp, outp, outer, axis, inner], this.host.threadsFor(size));
    ar.getF32(outp, out.subarray(0, outer * inner));
  }

  /** out = x with its axes permuted. */
  permute(x: Float32Array, shape: readonly number[], perm: readonly number[], out: Float32Array): void {
    const rank = shape.length;
    const size = shape.reduce((p, q) => p * q, 1);
    // Splitting and merging heads keep the last axis: rows of d_k floats copied in SIMD; other permutations in JS.
    if (size < ELEMENTWISE_WASM_ELEMENTS || rank < 2 || perm[rank - 1] !== rank - 1) return REF.permute(x, shape, perm, out);
    const inStrides = new Array<number>(rank);
    for (let i = rank - 1, s = 1; i >= 0; s *= shape[i], i--) inStrides[i] = s;
    const leading = perm.slice(0, rank - 1);
    const ar = this.host.arena;
    ar.reset();
    const xp = ar.putF32(x.subarray(0, size));
    const outp = ar.outF32(out, size);
    const shapep = ar.putU8(new Uint8Array(Int32Array.from(leading, (p) => shape[p]).buffer));
    const stridesp = ar.putU8(new Uint8Array(Int32Array.from(leading, (p) => inStrides[p]).buffer));
    const inner = shape[rank - 1];
    this.host.run("permuteRows", [xp, outp, rank - 1, shapep, stridesp, size / inner, inner],
      this.host.threadsFor(size));
    ar.getF32(outp, out.subarray(0, size));
  }

  /** out[i, :] = table[ids[i], :]. */
  gather(table: Float32Array, cols: number, ids: Int32Array, out: Float32Array): void {
    const idsp = this.tableIds(table, cols, ids);
    if (idsp < 0) return REF.gather(table, cols, ids, out);
    const ar = this.host.arena;
    const n = ids.length * cols;
    const outp = ar.outF32(out, n);
    this.host.run("gatherRows", [ar.putF32(table), cols, idsp, ids.length, outp], this.host.threadsFor(n));
    ar.getF32(outp, out.subarray(0, n));
  }

  /** dTable[ids[i], :] += dOut[i, :]. */
  scatterAdd(dOut: Float32Array, cols: number, ids: Int32Array, dTable: Float32Array): void {
    const idsp = this.tableIds(dTable, cols, ids);
    if (idsp < 0) return REF.scatterAdd(dOut, cols, ids, dTable);
    const ar = this.host.arena;
    const n = ids.length * cols;
    this.host.run("scatterAddRows", [ar.putF32(dOut.subarray(0, n)), cols, idsp, ids.length, ar.putF32(dTable)], this.host.threadsFor(n));
  }

  /**
   * For gather and scatterAdd: the ids copied into a fresh arena call (their byte offset), or −1 where the op stays
   * in JavaScript: few rows, an id outside the table, or a table not already in WASM memory (a parameter, its
   * step-memory gradient), since copying a whole table in for a few rows would not pay.
   */
  private tableIds(table: Float32Array, cols: number, ids: Int32Array): number {
    const ar = this.host.arena;
    if (ids.length * cols < ELEMENTWISE_WASM_ELEMENTS || ar.pointerOf(table) < 0 || !idsWithin(ids, table.length / cols)) return -1;
    ar.reset();
    return ar.putU8(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength));
  }

  /** Sets `view` (an array in this memory) to zeros. */
  fillZero(view: Float32Array): void {
    const n = view.length;
    this.host.run("fillZero", [this.host.arena.putF32(view), n], this.host.threadsFor(n));
  }
}

/** Whether every id is a row of a table with `rows` rows (the op layer checks; the kernels must not read outside). */
function idsWithin(ids: Int32Array, rows: number): boolean {
  for (let i = 0; i < ids.length; i++) if (!(ids[i] >= 0 && ids[i] < rows)) return false;
  return true;
}
