/** Tensors, their creation, the op API and autograd. */
export { Tensor, indexTensor, type IndexTensor } from "./tensor.ts";
export { type Shape, sizeOf, sameShape, assertShape, broadcastShapes } from "./shape.ts";
export { backward, noGrad, isGradEnabled, type GradNode } from "./autograd.ts";
export { Rng } from "./random.ts";
export { withStepMemory, STEP_MEMORY_MIN_FLOATS } from "./memory.ts";
export { tensor, zeros, ones, full, randn, uniform } from "./creation.ts";
export * as ops from "./ops/index.ts";
export type { BoolTensor, AttentionOptions, AttentionResult } from "./ops/nn.ts";
export type { Activation } from "./ops/elementwise.ts";
