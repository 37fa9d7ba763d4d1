/** Making tensors: from values, filled, or random with a seeded Rng. */
import { ShapeError } from "../errors.ts";
import type { Rng } from "./random.ts";
import { type Shape, assertValidShape, sizeOf } from "./shape.ts";
import { Tensor } from "./tensor.ts";

/** A tensor from values (copied to float32) and a shape (a 1-D shape when omitted). */
export function tensor(values: ArrayLike<number>, shape?: Shape): Tensor {
  const data = Float32Array.from(values);
  return new Tensor(data, shape ?? [data.length]);
}

/** A tensor of one repeated value. */
export function full(shape: Shape, value: number): Tensor {
  assertValidShape("full", shape);
  return new Tensor(new Float32Array(sizeOf(shape)).fill(value), shape);
}

/** Zeros. */
export function zeros(shape: Shape): Tensor {
  return full(shape, 0);
}

/** Ones. */
export function ones(shape: Shape): Tensor {
  return full(shape, 1);
}

/** Samples from N(mean, std²). */
export function randn(shape: Shape, rng: Rng, std = 1, mean = 0): Tensor {
  assertValidShape("randn", shape);
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = mean + std * rng.normal();
  return new Tensor(data, shape);
}

/** Samples from U(low, high). */
export function uniform(shape: Shape, rng: Rng, low: number, high: number): Tensor {
  assertValidShape("uniform", shape);
  if (!(high >= low)) throw new ShapeError(`uniform: high ${high} < low ${low}`);
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * rng.uniform();
  return new Tensor(data, shape);
}
