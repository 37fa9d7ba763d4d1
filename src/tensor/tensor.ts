/**
 * The Tensor: a shape and a contiguous row-major Float32Array, plus what reverse-mode autograd needs
 * (whether it requires a gradient, its accumulated `.grad`, and the node that made it).
 */
import { ShapeError, formatShape } from "../errors.ts";
import { type Shape, assertValidShape, sizeOf } from "./shape.ts";
import type { GradNode } from "./autograd.ts";
import { backward } from "./autograd.ts";

/** An n-dimensional float32 array. Ops never modify their inputs; memory is ordinary GC'd memory. */
export class Tensor {
  /** Sizes, outermost axis first. */
  readonly shape: Shape;
  /** Elements in row-major order. Shared (not copied) by `reshape`, which is free. */
  readonly data: Float32Array;
  /** True for parameters and for every result computed from one while gradients are enabled. */
  requiresGrad: boolean;
  /** dL/d(this) after `backward`, for leaves (parameters, inputs) and tensors that called `retainGrad`. */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when it was recorded for autograd; null for leaves. */
  readonly node: GradNode | null;
  /** Set by `retainGrad()`: keep this non-leaf's gradient in `.grad`. */
  retainsGrad = false;

  constructor(data: Float32Array, shape: Shape, requiresGrad = false, node: GradNode | null = null) {
    assertValidShape("Tensor", shape);
    if (data.length !== sizeOf(shape)) {
      throw new ShapeError(`Tensor: ${data.length} values do not fill shape ${formatShape(shape)} (${sizeOf(shape)})`);
    }
    this.shape = Object.freeze([...shape]);
    this.data = data;
    this.requiresGrad = requiresGrad;
    this.node = node;
  }

  /** Number of axes. */
  get rank(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** The single value of a one-element tensor (a loss, say). */
  item(): number {
    if (this.data.length !== 1) throw new ShapeError(`item(): tensor of shape ${formatShape(this.shape)} is not a scalar`);
    return this.data[0];
  }

  /** Marks this leaf as trainable and returns it (for parameters). */
  requireGrad(): this {
    this.requiresGrad = true;
    return this;
  }

  /** Keep this intermediate tensor's gradient in `.grad` after `backward` (PyTorch's `retain_grad`). */
  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  /** A tensor sharing this data but cut off from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** Runs reverse-mode autograd from this tensor (a scalar unless `gradOutput` is given). */
  backward(gradOutput?: Float32Array): void {
    backward(this, gradOutput);
  }

  /** The values as nested arrays, for printing and tests. */
  toArray(): unknown {
    const build = (axis: number, offset: number): unknown => {
      if (axis === this.shape.length) return this.data[offset];
      const stride = sizeOf(this.shape.slice(axis + 1));
      return Array.from({ length: this.shape[axis] }, (_, i) => build(axis + 1, offset + i * stride));
    };
    return build(0, 0);
  }
}

/** Integer tensor for token ids and labels: a shape and an Int32Array. Never differentiable. */
export interface IndexTensor {
  readonly shape: Shape;
  readonly data: Int32Array;
}

/** Builds an IndexTensor, checking that the values fill the shape. */
export function indexTensor(values: ArrayLike<number>, shape: Shape): IndexTensor {
  assertValidShape("IndexTensor", shape);
  const data = values instanceof Int32Array ? values : Int32Array.from(values);
  if (data.length !== sizeOf(shape)) {
    throw new ShapeError(`IndexTensor: ${data.length} values do not fill shape ${formatShape(shape)}`);
  }
  return { shape: Object.freeze([...shape]), data };
}
