/** Linear: y = x·Wᵀ + b, with PyTorch's parameter names and layout (weight is out × in). */
import { Rng } from "../tensor/random.ts";
import { linear } from "../tensor/ops/linalg.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { linearDefault, xavierUniform, zerosInit } from "./init.ts";
import { Module } from "./module.ts";

/** How a Linear layer is initialised: PyTorch's `nn.Linear` default, or Xavier weights and zero bias (`nn.MultiheadAttention`). */
export type LinearInit = "pytorch" | "xavier";

/** Options of `Linear`. */
export interface LinearOptions {
  bias?: boolean;
  init?: LinearInit;
  rng?: Rng;
}

/** A fully connected layer: `weight` (outFeatures, inFeatures) and `bias` (outFeatures). */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LinearOptions = {}) {
    super();
    const rng = options.rng ?? new Rng(0);
    const xavier = options.init === "xavier";
    this.weight = this.registerParameter("weight",
      xavier ? xavierUniform([outFeatures, inFeatures], rng) : linearDefault([outFeatures, inFeatures], inFeatures, rng));
    this.bias = options.bias === false ? null
      : this.registerParameter("bias", xavier ? zerosInit([outFeatures]) : linearDefault([outFeatures], inFeatures, rng));
  }

  /** x (…, inFeatures) → (…, outFeatures). */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
