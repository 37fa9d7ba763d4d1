/** The position-wise feed-forward network (Vaswani et al. §3.3): FFN(x) = act(x·W_1ᵀ + b_1)·W_2ᵀ + b_2. */
import { Rng } from "../tensor/random.ts";
import type { Activation } from "../tensor/ops/elementwise.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { Dropout } from "./layernorm.ts";
import { Linear } from "./linear.ts";
import { Module } from "./module.ts";
import type { Trace } from "./trace.ts";

/** Options of `FeedForward`. */
export interface FeedForwardOptions {
  dModel: number;
  /** Hidden width d_ff (the paper: 4 × d_model). */
  dFF: number;
  activation?: Activation;
  /** Dropout after the activation, in training (PyTorch's TransformerEncoderLayer does this). */
  dropout?: number;
  rng?: Rng;
}

/** Two linear maps with a non-linearity between, applied to every position independently (Q07 step 6). */
export class FeedForward extends Module {
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly activation: Activation;
  private readonly dropout: Dropout;

  constructor(options: FeedForwardOptions) {
    super();
    const rng = options.rng ?? new Rng(0);
    this.activation = options.activation ?? "relu";
    this.linear1 = this.registerModule("linear1", new Linear(options.dModel, options.dFF, { rng }));
    this.linear2 = this.registerModule("linear2", new Linear(options.dFF, options.dModel, { rng }));
    this.dropout = this.registerModule("dropout", new Dropout(options.dropout ?? 0, rng));
  }

  /** x (…, dModel) → (…, dModel). */
  forward(x: Tensor, trace?: Trace): Tensor {
    const hidden = this.linear1.forward(x, this.activation);
    trace?.record("act", hidden);
    return this.linear2.forward(this.dropout.forward(hidden));
  }
}
