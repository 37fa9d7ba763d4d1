/** The typed surface of the WASM module's exports (src/backend/wasm/assembly/index.ts). Pointers are byte offsets. */

/** Exports that size scratch space or expose helpers; called on the main thread only. */
export interface KernelHelpers {
  heapBase(): number;
  gemmWorkBytes(): number;
  attentionWorkBytes(nK: number, dV: number): number;
  attentionBackwardWorkBytes(nQ: number, nK: number, withDScores: number): number;
  /** out = erf(x) over n floats (single-threaded; used by the tests). */
  erf(x: number, out: number, n: number): void;
}

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
  "permuteRows",
] as const;

/** Name of a threaded kernel. */
export type ThreadedKernel = (typeof THREADED_KERNELS)[number];
