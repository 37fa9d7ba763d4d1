/** How an op returns its result: a plain tensor, or one that remembers how to send gradients back. */
import { needsGrad } from "../autograd.ts";
import type { Shape } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { getBackend } from "../../backend/registry.ts";
import type { Backend } from "../../backend/backend.ts";

/** dL/d(output) → dL/d(input) for each input (null where not needed). */
export type BackwardFn = (gradOutput: Float32Array) => (Float32Array | null)[];

/** Wraps an op's output; records a graph node when gradients are enabled and an input requires one. */
export function result(op: string, data: Float32Array, shape: Shape, inputs: readonly Tensor[], backward: BackwardFn): Tensor {
  if (!needsGrad(inputs)) return new Tensor(data, shape);
  return new Tensor(data, shape, true, { op, inputs, backward });
}

/** The current backend (shorthand for the ops). */
export function kernels(): Backend {
  return getBackend();
}
