/**
 * The wasm backend's int8 product (Backend.matmulInt8, src/backend/wasm/assembly/gemm-int8.ts): each quantized
 * weight is packed once into resident WASM memory, then every call copies the float32 activations in, runs the
 * threaded kernel (which quantizes them per row as it goes) and copies the float32 result out (inputs and output
 * that already live in WASM memory, as step arrays do, are used in place). WasmBackend owns
 * the memory and the threads and delegates its `matmulInt8` here.
 */
import type { MatmulParams, QuantizedWeight } from "../backend.ts";
import type { Arena } from "./arena.ts";
import { ACTIVATION_CODE, type KernelHelpers, type ThreadedKernel } from "./kernel-exports.ts";
import type { ResidentHeap } from "./resident.ts";

/** What the int8 product uses of its backend: memory, helper exports and threads. */
export interface Int8Host {
  arena: Arena;
  resident: ResidentHeap;
  helpers: KernelHelpers;
  /** Threads for a product of `work` multiply-adds (1 below the fork-join threshold). */
  productThreads(work: number): number;
  /** Runs a threaded kernel on `threads` threads. */
  run(kernel: ThreadedKernel, args: number[], threads: number): void;
}

/** int8 matrix products on a wasm backend's memory and threads. */
export class WasmInt8 {
  /** Byte offsets of int8 weights packed for matmulInt8, resident in WASM memory until the weight is unreachable. */
  private readonly packed = new WeakMap<QuantizedWeight, number>();

  constructor(private readonly host: Int8Host) {}

  /** The packed copy of `w` in WASM memory: made on its first use (one pass over the weight), then reused. */
  private packedWeight(w: QuantizedWeight): number {
    const known = this.packed.get(w);
    if (known !== undefined) return known;
    const { outFeatures: n, inFeatures: k } = w;
    const { arena: a, helpers } = this.host;
    const at = this.host.resident.reserveFor(w, helpers.int8PackedWeightBytes(n, k));
    a.reset();
    const values = a.putU8(new Uint8Array(w.values.buffer, w.values.byteOffset, n * k));
    const scales = a.putF32(w.scales.subarray(0, n));
    const sums = a.putU8(new Uint8Array(w.columnSums.buffer, w.columnSums.byteOffset, n * 4));
    helpers.packInt8Weight(values, scales, sums, n, k, at);
    this.packed.set(w, at);
    return at;
  }

  /** Backend.matmulInt8: out (rows, n) = act(x (rows, k) · Wᵀ (+ bias)), the rows of x quantized on the fly. */
  matmul(x: Float32Array, w: QuantizedWeight, bias: Float32Array | null, out: Float32Array, rows: number,
    activation: MatmulParams["activation"] = null): void {
    const { outFeatures: n, inFeatures: k } = w;
    if (rows <= 0 || n <= 0) return;
    const packed = this.packedWeight(w);
    const { arena: a, helpers } = this.host;
    a.reset();
    const xp = a.putF32(x.subarray(0, rows * k));
    const biasp = bias ? a.putF32(bias.subarray(0, n)) : 0;
    const outp = a.outF32(out, rows * n); // in place when `out` is step memory: no copy out
    const threads = this.host.productThreads(rows * n * k);
    // Few rows (one sentence): split the columns, each thread quantizing all rows into its own set; else the rows.
    const colSplit = threads > 1 && Math.ceil(rows / 4) < Math.ceil(n / 8);
    const setBytes = Math.ceil(helpers.int8ActivationBytes(rows, k) / 64) * 64;
    const work = a.alloc((colSplit ? threads : 1) * setBytes);
    const scratch = a.alloc(threads * helpers.int8ScratchBytes());
    this.host.run("matmulInt8", [rows, k, n, xp, packed, biasp, outp, colSplit ? 1 : 0, work, setBytes, scratch,
      activation ? ACTIVATION_CODE[activation] : 0], threads);
    a.getF32(outp, out.subarray(0, rows * n));
  }
}
