/** Parameter initialisers, with PyTorch's formulas (so untrained models start where PyTorch's would). */
import type { Rng } from "../tensor/random.ts";
import { Tensor } from "../tensor/tensor.ts";
import { randn, uniform, zeros } from "../tensor/creation.ts";

/** Xavier/Glorot uniform: U(±√(6 / (fan_in + fan_out))), for a (fan_out, fan_in) weight. */
export function xavierUniform(shape: [number, number], rng: Rng): Tensor {
  const bound = Math.sqrt(6 / (shape[0] + shape[1]));
  return uniform(shape, rng, -bound, bound);
}

/** PyTorch's default Linear init (kaiming_uniform with a = √5): U(±1/√fan_in). Also its bias init. */
export function linearDefault(shape: readonly number[], fanIn: number, rng: Rng): Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  return uniform(shape, rng, -bound, bound);
}

/** N(0, std²). */
export function normal(shape: readonly number[], std: number, rng: Rng): Tensor {
  return randn(shape, rng, std);
}

/** Zeros (biases, LayerNorm beta). */
export function zerosInit(shape: readonly number[]): Tensor {
  return zeros(shape);
}
