/** LayerNorm and Dropout modules. */
import type { Rng } from "../tensor/random.ts";
import { onesInit, zerosInit } from "./init.ts";
import { addLayerNorm, dropout, layerNorm } from "../tensor/ops/nn.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { Module } from "./module.ts";

/**
 * Layer normalisation over the last axis (Ba et al. 2016): zero mean and unit variance per token, then a
 * learned scale `weight` (γ) and shift `bias` (β). Q07 step 5. Biased variance, eps inside the square root.
 */
export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly size: number, readonly eps = 1e-5) {
    super();
    this.weight = this.registerParameter("weight", onesInit([size]));
    this.bias = this.registerParameter("bias", zerosInit([size]));
  }

  /** Normalises each row of the last axis. */
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }

  /** Normalises x + residual ("Add & Norm"): at inference in one pass, with the same bits as add then forward. */
  forwardSum(x: Tensor, residual: Tensor): Tensor {
    return addLayerNorm(x, residual, this.weight, this.bias, this.eps);
  }
}

/** Dropout: active only in training mode; the identity at inference. */
export class Dropout extends Module {
  constructor(readonly p: number, private readonly rng: Rng) {
    super();
  }

  /** Zeroes each element with probability p (and rescales the rest) when training. */
  forward(x: Tensor): Tensor {
    return this.training && this.p > 0 ? dropout(x, this.p, this.rng) : x;
  }
}
