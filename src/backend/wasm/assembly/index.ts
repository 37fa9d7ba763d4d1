/**
 * Entry point of the WASM kernels (AssemblyScript): every export here is callable from JavaScript.
 * Threaded kernels take (tid, threads, …) first and compute their own share; see ../pool.ts.
 * Pointers are byte offsets into the (imported, possibly shared) memory; the JavaScript side owns the layout.
 */
export { gemmWorkBytes, matmul } from "./gemm";
export { int8ActivationBytes, int8PackedWeightBytes, int8ScratchBytes, matmulInt8, packInt8Weight } from "./gemm-int8";
export { attention, attentionBackward, attentionBackwardWorkBytes, attentionWorkBytes } from "./attention";
export { layerNorm, layerNormBackward, logSoftmax, logSoftmaxBackward, softmax, softmaxBackward } from "./norm";
export { erf, gelu, geluBackward, geluScratchBytes } from "./activation";
export { affine, binaryBroadcast, binaryDense, fillZero, firstNonFinite, gatherRows, permuteRows, scatterAddRows, sumAxis } from "./elementwise";
export { adamStep, averageStep } from "./optim";

/** First byte past the module's static data: the JavaScript arena starts above it. */
export function heapBase(): usize {
  return __heap_base;
}
