/** Linear: y = x·Wᵀ + b, with PyTorch's parameter names and layout (weight is out × in); optionally in int8. */
import type { QuantizedWeight } from "../backend/backend.ts";
import { ConfigError, ShapeError, formatShape } from "../errors.ts";
import { needsGrad } from "../tensor/autograd.ts";
import { Rng } from "../tensor/random.ts";
import { type Activation, activation } from "../tensor/ops/elementwise.ts";
import { fusableActivation, linear, linearActivation } from "../tensor/ops/linalg.ts";
import { kernels } from "../tensor/ops/record.ts";
import { floatsToOverwrite } from "../tensor/memory.ts";
import { Tensor } from "../tensor/tensor.ts";
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
  /**
   * The weight in int8 (src/nn/quantize.ts), or null: when set, `forward` runs the int8 product instead of the
   * float32 one (inference only). `quantizeDynamic` sets it; the float32 `weight` stays as it was.
   */
  quantized: QuantizedWeight | null = null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LinearOptions = {}) {
    super();
    const rng = options.rng ?? new Rng(0);
    const xavier = options.init === "xavier";
    this.weight = this.registerParameter("weight",
      xavier ? xavierUniform([outFeatures, inFeatures], rng) : linearDefault([outFeatures, inFeatures], inFeatures, rng));
    this.bias = options.bias === false ? null
      : this.registerParameter("bias", xavier ? zerosInit([outFeatures]) : linearDefault([outFeatures], inFeatures, rng));
  }

  /**
   * x (…, inFeatures) → (…, outFeatures), then `act` when given: in float32 at inference the backend fuses a GELU
   * into the product's pass, and in int8 into the quantized product's.
   */
  forward(x: Tensor, act: Activation | null = null): Tensor {
    if (this.quantized) {
      const fused = fusableActivation(act);
      const y = this.forwardInt8(x, this.quantized, fused);
      return act && !fused ? activation(act, y) : y;
    }
    return act ? linearActivation(x, this.weight, this.bias, act) : linear(x, this.weight, this.bias);
  }

  /** The int8 product: no gradient flows through rounding, so it refuses to run while gradients are recorded. */
  private forwardInt8(x: Tensor, w: QuantizedWeight, act: "gelu" | "gelu_tanh" | null): Tensor {
    if (needsGrad(this.bias ? [x, this.weight, this.bias] : [x, this.weight])) {
      throw new ConfigError("Linear: this layer is quantized to int8 (inference only) but gradients are being recorded; run it inside noGrad(() => …), or train the float32 model before quantizeDynamic");
    }
    if (x.shape[x.rank - 1] !== w.inFeatures) {
      throw new ShapeError(`linear (int8): input ${formatShape(x.shape)} has last axis ${x.shape[x.rank - 1]}, the weight expects ${w.inFeatures}`);
    }
    const rows = x.size / w.inFeatures;
    const out = floatsToOverwrite(rows * w.outFeatures); // step memory when open: the kernel writes it in place
    kernels().matmulInt8(x.data, w, this.bias?.data ?? null, out, rows, act);
    return new Tensor(out, [...x.shape.slice(0, -1), w.outFeatures]);
  }
}
