/** The typed surface of the WASM module's exports (src/backend/wasm/assembly/index.ts). Pointers are byte offsets. */

/** Exports that size scratch space or expose helpers; called on the main thread only. */
export interface KernelHelpers {
  heapBase(): number;
  gemmWorkBytes(): number;
  attentionWorkBytes(nK: number, dV: number): number;
  attentionBackwardWorkBytes(nQ: number, nK: number, withDScores: number): number;
  /** Bytes of a weight (n × k) packed for matmulInt8, with its scales and column sums. */
  int8PackedWeightBytes(n: number, k: number): number;
  /** Bytes of one set of quantized activations (rows × k) for matmulInt8. */
  int8ActivationBytes(rows: number, k: number): number;
  /** Bytes of geluBackward's scratch per thread. */
  geluScratchBytes(): number;
  /** Bytes of matmulInt8's scratch per thread. */
  int8ScratchBytes(): number;
  /** Packs an int8 weight (values, scales, columnSums at the given offsets) into `dst` (single-threaded). */
  packInt8Weight(values: number, scales: number, columnSums: number, n: number, k: number, dst: number): void;
  /** The index of the first NaN or ±∞ among n floats at x, or −1 (single-threaded). */
  firstNonFinite(x: number, n: number): number;
  /** out = erf(x) over n floats (single-threaded; used by the tests). */
  erf(x: number, out: number, n: number): void;
}

/** The epilogue activation codes of `matmul` and `matmulInt8` (assembly/gemm.ts, assembly/gemm-int8.ts). */
export const ACTIVATION_CODE = { gelu: 1, gelu_tanh: 2 } as const;

/** The threaded kernels: each is called as (tid, threads, ...args) on every thread of a task. */
export const THREADED_KERNELS = [
  "matmul",
  "attention",
  "attentionBackward",
  "layerNorm",
  "layerNormBackward",
  "softmax",
  "softmaxBackward",
  "logSoftmax",
  "logSoftmaxBackward",
  "gelu",
  "geluBackward",
  "binaryDense",
  "binaryBroadcast",
  "permuteRows",
  "sumAxis",
  "affine",
  "fillZero",
  "gatherRows",
  "scatterAddRows",
  "matmulInt8",
  "adamStep",
  "averageStep",
] as const;

/** Name of a threaded kernel. */
export type ThreadedKernel = (typeof THREADED_KERNELS)[number];
