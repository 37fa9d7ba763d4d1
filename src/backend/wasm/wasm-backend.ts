/**
 * The `wasm` backend: the Backend interface on WASM SIMD kernels (src/backend/wasm/assembly/), threads from
 * pool.ts. Each call copies its operands into the arena in WASM memory, runs one (threaded) kernel and copies
 * the results out.
 *
 * In WASM: matmul (all transposes, broadcast strides, accumulate), attention and its backward, layerNorm and its
 * backward, softmax / logSoftmax and their backward, GELU (exact and tanh forms) and its backward, the Adam step
 * (on moments kept resident in WASM memory, see resident.ts), column sums (reduce, and sumTo over leading axes),
 * binary ops (on operands of the output's shape, or broadcast along rows of 8+ floats), affine, permutations that
 * keep the last axis, and gather / scatterAdd on tables already in WASM memory (parameters, their step-memory
 * gradients). A JavaScript loop over a Float32Array runs at ~3 ns per element here, ten times a copy into WASM
 * memory and back. The memory-bound ops are in wasm-memory-ops.ts, the int8 product (matmulInt8) in wasm-int8.ts.
 * Delegated to the reference TypeScript kernels: the other unary ops and their backward, other broadcasting
 * binary ops, maskedFill, other sums (row sums, fewer than 16 columns, not over leading axes), max, other
 * permutations, gather / scatterAdd on ordinary arrays, and every op on fewer than 4,096 elements.
 */
import type { AdamStepParams, AttentionParams, Backend, BinaryOp, MatmulParams, UnaryOp } from "../backend.ts";
import type { QuantizedWeight } from "../backend.ts";
import { referenceBackend } from "../reference/index.ts";
import { Arena } from "./arena.ts";
import { ResidentHeap } from "./resident.ts";
import { WasmInt8 } from "./wasm-int8.ts";
import { ELEMENTWISE_WASM_ELEMENTS, WasmMemoryOps } from "./wasm-memory-ops.ts";
import { ACTIVATION_CODE, type KernelHelpers, type ThreadedKernel } from "./kernel-exports.ts";
import type { SimdFlavour } from "./loader.ts";
import type { ThreadPool } from "./pool.ts";

// Work below which a call stays on one thread: a fork-join costs ~10 µs on an idle machine and up to ~100 µs
// on a busy one, about what 1–4 MFLOP (or 50k element-wise steps) take on one core.
const MATMUL_THREADING_FLOPS = 1 << 22;
const ATTENTION_THREADING_FLOPS = 1 << 22;
const ROWWISE_THREADING_ELEMENTS = 1 << 16;
const GELU_THREADING_ELEMENTS = 1 << 16;
const MEMORY_THREADING_ELEMENTS = 1 << 17;
/** New resident blocks from this many floats (1 MiB) are zeroed by every thread (see `allocate`). */
const PARALLEL_FIRST_TOUCH_FLOATS = 1 << 18;

const REF = referenceBackend;

/** The wasm backend object: the Backend interface plus what it runs on. */
export class WasmBackend implements Backend {
  readonly name = "wasm";
  private readonly arena: Arena;
  private readonly resident: ResidentHeap;
  /** The int8 product (wasm-int8.ts), on this backend's memory and threads. */
  private readonly int8: WasmInt8;
  /** The memory-bound ops (wasm-memory-ops.ts), on this backend's memory and threads. */
  private readonly memoryOps: WasmMemoryOps;
  private callThreads = 1;

  constructor(private readonly pool: ThreadPool, private readonly helpers: KernelHelpers, readonly memory: WebAssembly.Memory,
    maxMemoryBytes: number, readonly simd: SimdFlavour) {
    this.arena = new Arena(memory, helpers.heapBase() + 1024, maxMemoryBytes);
    this.resident = new ResidentHeap(memory, this.arena);
    this.int8 = new WasmInt8({
      arena: this.arena, resident: this.resident, helpers,
      // an int8 multiply-add costs about half an f32 one: matmul's fork-join threshold, in multiply-adds
      productThreads: (work) => this.threadsFor(work, MATMUL_THREADING_FLOPS),
      run: (kernel, args, threads) => this.run(kernel, args, threads),
    });
    this.memoryOps = new WasmMemoryOps({
      arena: this.arena,
      threadsFor: (elements) => this.threadsFor(elements, MEMORY_THREADING_ELEMENTS),
      run: (kernel, args, threads) => this.run(kernel, args, threads),
    });
  }

  /** Threads the kernels use (1 = single-threaded). */
  get threads(): number {
    return this.pool.threads;
  }

  /** Bytes of WASM memory the last call used (operands, results and scratch). */
  get lastCallBytes(): number {
    return this.arena.usedBytes;
  }

  /** Threads the last WASM kernel ran on (1 below the size thresholds). */
  get lastCallThreads(): number {
    return this.callThreads;
  }

  /** Stops the worker threads; the backend keeps working on the calling thread. */
  dispose(): void {
    this.pool.dispose();
  }

  /** Threads for a call of the given work: all of them above the threshold, else 1. */
  private threadsFor(work: number, threshold: number): number {
    return work >= threshold ? this.threads : 1;
  }

  private run(kernel: ThreadedKernel, args: number[], threads: number): void {
    this.callThreads = Math.min(threads, this.threads);
    this.pool.run(kernel, args, threads);
  }

  /** erf(x) computed by the kernels' float32 approximation (for tests of its accuracy). */
  erf(x: Float32Array): Float32Array {
    const a = this.arena;
    a.reset();
    const xp = a.putF32(x);
    const out = a.alloc(x.length * 4);
    this.helpers.erf(xp, out, x.length);
    const result = new Float32Array(x.length);
    a.getF32(out, result);
    return result;
  }

  matmul(a: Float32Array, b: Float32Array, c: Float32Array, p: MatmulParams): void {
    const { batch, m, n, k, transA, transB, strideA, strideB } = p;
    if (batch <= 0 || m <= 0 || n <= 0) return;
    if (p.activation && p.accumulate) throw new Error("wasm backend: matmul cannot both accumulate and apply an activation");
    if (p.bias && p.accumulate) { // rare (nothing in tsformer does it): accumulate, then add the bias in JS
      this.matmul(a, b, c, { ...p, bias: null });
      for (let r = 0; r < batch * m; r++) for (let j = 0; j < n; j++) c[r * n + j] += p.bias[j];
      return;
    }
    const ar = this.arena;
    ar.reset();
    const aLen = (strideA === 0 ? 0 : (batch - 1) * strideA) + m * k;
    const bLen = (strideB === 0 ? 0 : (batch - 1) * strideB) + k * n;
    const cLen = batch * m * n;
    const aPtr = ar.putF32(a.subarray(0, aLen));
    const bPtr = ar.putF32(b.subarray(0, bLen));
    // A bias starts C as copies of it, then the product accumulates onto it: the bias costs one row copy per row.
    const cPtr = p.accumulate ? ar.putF32(c.subarray(0, cLen)) : p.bias ? ar.putRows(p.bias, batch * m, c) : ar.outF32(c, cLen);
    const accumulate = p.accumulate || Boolean(p.bias);
    const threads = this.threadsFor(2 * batch * m * n * k, MATMUL_THREADING_FLOPS);
    const workBytes = this.helpers.gemmWorkBytes();
    const work = ar.alloc(threads * workBytes);
    const counter = ar.zeroedCounter(); // the threads claim the product's units from it (assembly/gemm.ts)
    // element strides of op(A) (m×k) and op(B) (k×n) as stored
    const [ars, acs] = transA ? [1, m] : [k, 1];
    const [brs, bcs] = transB ? [1, k] : [n, 1];
    this.run("matmul", [batch, m, n, k, aPtr, ars, acs, strideA, bPtr, brs, bcs, strideB, cPtr, accumulate ? 1 : 0,
      work, workBytes, p.activation ? ACTIVATION_CODE[p.activation] : 0, counter], threads);
    ar.getF32(cPtr, c.subarray(0, cLen));
  }

  unary(op: UnaryOp, x: Float32Array, out: Float32Array): void {
    if (op !== "gelu" && op !== "gelu_tanh") return REF.unary(op, x, out);
    const a = this.arena;
    a.reset();
    const xp = a.putF32(x);
    const op_ = a.outF32(out, x.length);
    const threads = this.threadsFor(x.length, GELU_THREADING_ELEMENTS);
    this.run("gelu", [xp, op_, x.length, op === "gelu_tanh" ? 1 : 0], threads);
    a.getF32(op_, out.subarray(0, x.length));
  }

  unaryBackward(op: UnaryOp, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array): void {
    if (op !== "gelu" && op !== "gelu_tanh") return REF.unaryBackward(op, x, y, dy, dx);
    const a = this.arena;
    a.reset();
    const xp = a.putF32(x);
    const dyp = a.putF32(dy.subarray(0, x.length));
    const dxp = a.outF32(dx, x.length);
    const threads = this.threadsFor(x.length, GELU_THREADING_ELEMENTS);
    const scratch = a.alloc(this.helpers.geluScratchBytes() * threads);
    this.run("geluBackward", [xp, dyp, dxp, x.length, op === "gelu_tanh" ? 1 : 0, scratch], threads);
    a.getF32(dxp, dx.subarray(0, x.length));
  }

  affine(x: Float32Array, mul: number, add: number, out: Float32Array): void {
    this.memoryOps.affine(x, mul, add, out);
  }

  binary(op: BinaryOp, a: Float32Array, aStrides: readonly number[], b: Float32Array, bStrides: readonly number[],
    out: Float32Array, outShape: readonly number[]): void {
    this.memoryOps.binary(op, a, aStrides, b, bStrides, out, outShape);
  }

  maskedFill(x: Float32Array, mask: Uint8Array, maskStrides: readonly number[], value: number, out: Float32Array,
    shape: readonly number[]): void {
    REF.maskedFill(x, mask, maskStrides, value, out, shape);
  }

  sumTo(x: Float32Array, xShape: readonly number[], out: Float32Array, outShape: readonly number[]): void {
    this.memoryOps.sumTo(x, xShape, out, outShape);
  }

  reduce(op: "sum" | "max", x: Float32Array, outer: number, axis: number, inner: number, out: Float32Array,
    argmax: Int32Array | null): void {
    this.memoryOps.reduce(op, x, outer, axis, inner, out, argmax);
  }

  permute(x: Float32Array, shape: readonly number[], perm: readonly number[], out: Float32Array): void {
    this.memoryOps.permute(x, shape, perm, out);
  }

  gather(table: Float32Array, cols: number, ids: Int32Array, out: Float32Array): void {
    this.memoryOps.gather(table, cols, ids, out);
  }

  scatterAdd(dOut: Float32Array, cols: number, ids: Int32Array, dTable: Float32Array): void {
    this.memoryOps.scatterAdd(dOut, cols, ids, dTable);
  }

  allocate(length: number): Float32Array {
    const { view, dirtyFloats } = this.resident.allocate(length);
    // A large block is zeroed by every thread, its never-used pages too: the writes fault the pages in, and first
    // touches are slow and serial per thread on VMs (BERT-base's 438 MB here: 1.1 s on one thread, 0.65 s on two).
    if (this.threads > 1 && length >= PARALLEL_FIRST_TOUCH_FLOATS) this.memoryOps.fillZero(view); // threads imply shared memory: the view is resident
    else view.fill(0, 0, dirtyFloats);
    return view;
  }

  openStepMemory(): void {
    this.resident.openStep();
  }

  stepArray(length: number, zero = true): Float32Array | null {
    const view = this.resident.stepArray(length);
    if (!view || !zero) return view;
    // Zeroing is threaded: an embedding table's gradient is millions of floats a step.
    this.memoryOps.fillZero(view);
    return view;
  }

  closeStepMemory(): void {
    this.resident.closeStep();
  }

  adamStep(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, p: AdamStepParams): void {
    const n = w.length;
    if (n < ELEMENTWISE_WASM_ELEMENTS) return REF.adamStep(w, g, m, v, p);
    const a = this.arena;
    a.reset();
    // resident arrays (moments from `allocate`) are used in place; the others are copied in and w, m, v back out
    const wp = a.putF32(w);
    const gp = a.putF32(g.subarray(0, n));
    const mp = a.putF32(m.subarray(0, n));
    const vp = a.putF32(v.subarray(0, n));
    this.run("adamStep", [wp, gp, mp, vp, n, p.beta1, p.beta2, p.eps, p.l2, p.shrink, p.stepSize, p.rootC2],
      this.threadsFor(n, MEMORY_THREADING_ELEMENTS));
    a.getF32(wp, w);
    a.getF32(mp, m.subarray(0, n));
    a.getF32(vp, v.subarray(0, n));
  }

  averageStep(shadow: Float32Array, w: Float32Array, decay: number): void {
    const n = shadow.length;
    if (n < ELEMENTWISE_WASM_ELEMENTS) return REF.averageStep(shadow, w, decay);
    const a = this.arena;
    a.reset();
    // a resident shadow (WeightAverage allocates it here) and resident weights are used in place
    const sp = a.putF32(shadow);
    const wp = a.putF32(w.subarray(0, n));
    this.run("averageStep", [sp, wp, n, decay], this.threadsFor(n, MEMORY_THREADING_ELEMENTS));
    a.getF32(sp, shadow);
  }

  softmax(x: Float32Array, out: Float32Array, rows: number, cols: number): void {
    this.rowwise("softmax", x, null, out, rows, cols);
  }

  softmaxBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number): void {
    this.rowwise("softmaxBackward", y, dy, dx, rows, cols);
  }

  logSoftmax(x: Float32Array, out: Float32Array, rows: number, cols: number): void {
    this.rowwise("logSoftmax", x, null, out, rows, cols);
  }

  logSoftmaxBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number): void {
    this.rowwise("logSoftmaxBackward", y, dy, dx, rows, cols);
  }

  /** A row-wise kernel of one or two (rows, cols) inputs and one output. */
  private rowwise(kernel: ThreadedKernel, x: Float32Array, x2: Float32Array | null, out: Float32Array, rows: number,
    cols: number): void {
    const size = rows * cols;
    if (size <= 0) return;
    const a = this.arena;
    a.reset();
    const xp = a.putF32(x.subarray(0, size));
    const x2p = x2 ? a.putF32(x2.subarray(0, size)) : -1;
    const outp = a.outF32(out, size);
    const threads = this.threadsFor(size, ROWWISE_THREADING_ELEMENTS);
    this.run(kernel, x2 ? [xp, x2p, outp, rows, cols] : [xp, outp, rows, cols], threads);
    a.getF32(outp, out.subarray(0, size));
  }

  layerNorm(x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, out: Float32Array,
    mean: Float32Array, rstd: Float32Array, rows: number, cols: number, eps: number,
    residual: Float32Array | null = null): void {
    const size = rows * cols;
    if (rows <= 0) return;
    const a = this.arena;
    a.reset();
    const xp = a.putF32(x.subarray(0, size));
    const resp = residual ? a.putF32(residual.subarray(0, size)) : 0;
    const gp = gamma ? a.putF32(gamma.subarray(0, cols)) : 0;
    const bp = beta ? a.putF32(beta.subarray(0, cols)) : 0;
    const outp = a.outF32(out, size);
    const meanp = a.alloc(rows * 4);
    const rstdp = a.alloc(rows * 4);
    const threads = this.threadsFor(size, ROWWISE_THREADING_ELEMENTS);
    this.run("layerNorm", [xp, gp, bp, outp, meanp, rstdp, rows, cols, eps, resp], threads);
    a.getF32(outp, out.subarray(0, size));
    a.getF32(meanp, mean.subarray(0, rows));
    a.getF32(rstdp, rstd.subarray(0, rows));
  }

  layerNormBackward(x: Float32Array, gamma: Float32Array | null, mean: Float32Array, rstd: Float32Array,
    dy: Float32Array, dx: Float32Array | null, dgamma: Float32Array | null, dbeta: Float32Array | null,
    rows: number, cols: number): void {
    const size = rows * cols;
    if (rows <= 0 || cols <= 0) return;
    const a = this.arena;
    a.reset();
    const xp = a.putF32(x.subarray(0, size));
    const gp = gamma ? a.putF32(gamma.subarray(0, cols)) : 0;
    const meanp = a.putF32(mean.subarray(0, rows));
    const rstdp = a.putF32(rstd.subarray(0, rows));
    const dyp = a.putF32(dy.subarray(0, size));
    const dxp = dx ? a.outF32(dx, size) : 0;
    const threads = this.threadsFor(size, ROWWISE_THREADING_ELEMENTS);
    const partial = a.alloc(threads * cols * 16); // per thread: Σ dy·x̂ and Σ dy, cols doubles each
    this.run("layerNormBackward", [xp, gp, meanp, rstdp, dyp, dxp, partial, rows, cols], threads);
    if (dx) a.getF32(dxp, dx.subarray(0, size));
    const sums = a.viewF64(partial, threads * cols * 2);
    for (let j = 0; j < cols; j++) {
      let dg = 0;
      let db = 0;
      for (let t = 0; t < threads; t++) {
        dg += sums[t * 2 * cols + j];
        db += sums[t * 2 * cols + cols + j];
      }
      if (dgamma) dgamma[j] += dg;
      if (dbeta) dbeta[j] += db;
    }
  }

  attention(q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, p: AttentionParams,
    probs: Float32Array | null, scores: Float32Array | null): void {
    const { batch, heads, nQ, nK, dK, dV } = p;
    const pairs = batch * heads;
    if (pairs <= 0 || nQ <= 0) return;
    const a = this.arena;
    a.reset();
    const qp = a.putF32(q.subarray(0, pairs * nQ * dK));
    const kp = a.putF32(k.subarray(0, pairs * nK * dK));
    const vp = a.putF32(v.subarray(0, pairs * nK * dV));
    const maskp = p.keyMask ? a.putU8(p.keyMask.subarray(0, batch * nK)) : 0;
    const [s0, s1, s2, s3] = p.additiveStrides;
    let addp = 0;
    if (p.additiveMask) {
      // only the elements the strides reach: 1 + Σ (size − 1)·stride
      const extent = 1 + (batch - 1) * s0 + (heads - 1) * s1 + (nQ - 1) * s2 + Math.max(nK - 1, 0) * s3;
      addp = a.putF32(p.additiveMask.subarray(0, extent));
    }
    const outp = a.outF32(out, pairs * nQ * dV);
    // the kernel writes scores only alongside probabilities
    const probsp = probs ? a.outF32(probs, pairs * nQ * nK) : scores ? a.alloc(pairs * nQ * nK * 4) : 0;
    const scoresp = scores ? a.outF32(scores, pairs * nQ * nK) : 0;
    const flops = 2 * pairs * nQ * nK * (dK + dV);
    const threads = pairs > 1 ? this.threadsFor(flops, ATTENTION_THREADING_FLOPS) : 1;
    const workBytes = this.helpers.attentionWorkBytes(nK, dV);
    const work = a.alloc(threads * workBytes);
    this.run("attention", [batch, heads, nQ, nK, dK, dV, p.scale, p.causal ? 1 : 0, qp, kp, vp, outp, maskp, addp,
      s0, s1, s2, s3, probsp, scoresp, work, workBytes, p.tokenMajor ? 1 : 0, a.zeroedCounter()], threads);
    a.getF32(outp, out.subarray(0, pairs * nQ * dV));
    if (probs) a.getF32(probsp, probs.subarray(0, pairs * nQ * nK));
    if (scores) a.getF32(scoresp, scores.subarray(0, pairs * nQ * nK));
  }

  attentionBackward(q: Float32Array, k: Float32Array, v: Float32Array, probs: Float32Array, dOut: Float32Array,
    dq: Float32Array | null, dk: Float32Array | null, dv: Float32Array | null, p: AttentionParams,
    dScores: Float32Array | null): void {
    const { batch, heads, nQ, nK, dK, dV } = p;
    const pairs = batch * heads;
    if (pairs <= 0) return;
    const a = this.arena;
    a.reset();
    const needDS = dq !== null || dk !== null || dScores !== null;
    const qp = dk ? a.putF32(q.subarray(0, pairs * nQ * dK)) : 0;
    const kp = dq ? a.putF32(k.subarray(0, pairs * nK * dK)) : 0;
    const vp = needDS ? a.putF32(v.subarray(0, pairs * nK * dV)) : 0;
    const pp = a.putF32(probs.subarray(0, pairs * nQ * nK));
    const dop = a.putF32(dOut.subarray(0, pairs * nQ * dV));
    const dqp = dq ? a.outF32(dq, pairs * nQ * dK) : 0;
    const dkp = dk ? a.outF32(dk, pairs * nK * dK) : 0;
    const dvp = dv ? a.outF32(dv, pairs * nK * dV) : 0;
    const dsp = dScores ? a.outF32(dScores, pairs * nQ * nK) : 0;
    const flops = 2 * pairs * nQ * nK * (2 * dK + 2 * dV);
    const threads = pairs > 1 ? this.threadsFor(flops, ATTENTION_THREADING_FLOPS) : 1;
    const workBytes = this.helpers.attentionBackwardWorkBytes(nQ, nK, dScores ? 1 : 0);
    const work = a.alloc(threads * workBytes);
    this.run("attentionBackward", [batch, heads, nQ, nK, dK, dV, p.scale, qp, kp, vp, pp, dop, dqp, dkp, dvp, dsp,
      work, workBytes, p.tokenMajor ? 1 : 0, a.zeroedCounter()], threads);
    if (dq) a.getF32(dqp, dq.subarray(0, pairs * nQ * dK));
    if (dk) a.getF32(dkp, dk.subarray(0, pairs * nK * dK));
    if (dv) a.getF32(dvp, dv.subarray(0, pairs * nK * dV));
    if (dScores) a.getF32(dsp, dScores.subarray(0, pairs * nQ * nK));
  }

  firstNonFinite(x: Float32Array): number {
    const at = this.arena.pointerOf(x);
    // An array outside WASM memory is scanned where it is: copying it in would cost as much as the scan.
    return at >= 0 ? this.helpers.firstNonFinite(at, x.length) : REF.firstNonFinite(x);
  }

  matmulInt8(x: Float32Array, w: QuantizedWeight, bias: Float32Array | null, out: Float32Array, rows: number,
    activation: MatmulParams["activation"] = null): void {
    this.int8.matmul(x, w, bias, out, rows, activation);
  }
}
