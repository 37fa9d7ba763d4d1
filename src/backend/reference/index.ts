/** The reference backend: every kernel in plain TypeScript, the specification other backends are tested against. */
import type { Backend } from "../backend.ts";
import { attention, attentionBackward } from "./attention.ts";
import { affine, binary, firstNonFinite, gather, maskedFill, permute, reduce, scatterAdd, sumTo, unary, unaryBackward } from "./elementwise.ts";
import { layerNorm, layerNormBackward } from "./layernorm.ts";
import { matmul } from "./matmul.ts";
import { matmulInt8 } from "./matmul-int8.ts";
import { adamStep, allocate, averageStep, stepMemory } from "./optim.ts";
import { logSoftmax, logSoftmaxBackward, softmax, softmaxBackward } from "./softmax.ts";

/** The plain-TypeScript backend. */
export const referenceBackend: Backend = {
  name: "reference",
  matmul,
  unary,
  unaryBackward,
  affine,
  binary,
  maskedFill,
  sumTo,
  reduce,
  permute,
  softmax,
  softmaxBackward,
  logSoftmax,
  logSoftmaxBackward,
  layerNorm,
  layerNormBackward,
  firstNonFinite,
  gather,
  scatterAdd,
  attention,
  attentionBackward,
  adamStep,
  averageStep,
  allocate,
  ...stepMemory,
  matmulInt8,
};
