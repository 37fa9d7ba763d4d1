/**
 * Parameter initialisers, with PyTorch's formulas (so untrained models start where PyTorch's would). Each writes
 * its values straight into the current backend's memory (`Backend.allocate`: WASM memory for `wasm`), where the
 * kernels then read the weights in place instead of copying them in on every call (BERT-base: 340 MB a forward).
 */
import { getBackend } from "../backend/registry.ts";
import { ShapeError } from "../errors.ts";
import type { Rng } from "../tensor/random.ts";
import { type Shape, assertValidShape, sizeOf } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";

/** A tensor of `shape` in backend memory (which `allocate` hands out zeroed), element i set to value(). */
function parameterTensor(what: string, shape: Shape, value: () => number): Tensor {
  const data = allocateParameter(what, shape);
  for (let i = 0; i < data.length; i++) data[i] = value();
  return new Tensor(data, shape);
}

/** A tensor of `shape` in backend memory, every element `value` (one fill: no per-element call, and none for 0). */
function constantTensor(what: string, shape: Shape, value: number): Tensor {
  const data = allocateParameter(what, shape);
  if (value !== 0) data.fill(value);
  return new Tensor(data, shape);
}

function allocateParameter(what: string, shape: Shape): Float32Array {
  assertValidShape(what, shape);
  return getBackend().allocate(sizeOf(shape));
}

/** U(low, high), as `uniform` of src/tensor/creation.ts draws it. */
function uniformInit(shape: Shape, rng: Rng, low: number, high: number): Tensor {
  if (!(high >= low)) throw new ShapeError(`uniform: high ${high} < low ${low}`);
  if (rng.drawsCentres) return constantTensor("uniform", shape, low + (high - low) * 0.5);
  return parameterTensor("uniform", shape, () => low + (high - low) * rng.uniform());
}

/** Xavier/Glorot uniform: U(±√(6 / (fan_in + fan_out))), for a (fan_out, fan_in) weight. */
export function xavierUniform(shape: [number, number], rng: Rng): Tensor {
  const bound = Math.sqrt(6 / (shape[0] + shape[1]));
  return uniformInit(shape, rng, -bound, bound);
}

/** PyTorch's default Linear init (kaiming_uniform with a = √5): U(±1/√fan_in). Also its bias init. */
export function linearDefault(shape: readonly number[], fanIn: number, rng: Rng): Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  return uniformInit(shape, rng, -bound, bound);
}

/** N(0, std²). */
export function normal(shape: readonly number[], std: number, rng: Rng): Tensor {
  if (rng.drawsCentres) return constantTensor("normal", shape, 0);
  return parameterTensor("normal", shape, () => 0 + std * rng.normal()); // randn's formula, mean 0
}

/** Zeros (biases, LayerNorm beta). */
export function zerosInit(shape: readonly number[]): Tensor {
  return constantTensor("zeros", shape, 0);
}

/** Ones (LayerNorm gamma). */
export function onesInit(shape: readonly number[]): Tensor {
  return constantTensor("ones", shape, 1);
}
