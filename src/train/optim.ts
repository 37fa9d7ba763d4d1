/**
 * Optimizers: SGD with momentum, Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019, decoupled
 * weight decay). Each updates parameters in place from their `.grad`, at a learning rate the caller sets
 * per step (the schedule), and can save and restore its state for exact resumption.
 */
import { ConfigError } from "../errors.ts";
import { getBackend } from "../backend/registry.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** A parameter with its name (names decide which parameters get weight decay). */
export interface NamedParameter {
  name: string;
  param: Tensor;
  /** This parameter's learning rate is lr × lrScale (layer-wise decay; default 1). */
  lrScale?: number;
}

/** The per-parameter state an optimizer keeps (momentum, moments), by parameter name. */
export type OptimizerState = Map<string, Float32Array>;

/** What every optimizer offers the trainer. */
export interface Optimizer {
  /** Learning rate of the next step. */
  lr: number;
  /** Number of steps taken. */
  stepCount: number;
  /** Applies one update from the current gradients. */
  step(): void;
  /** Sets every gradient to null. */
  zeroGrad(): void;
  /** Its buffers by name (e.g. `exp_avg.encoder.layers.0.ffn.linear1.weight`), for checkpoints. */
  stateDict(): OptimizerState;
  /** Restores buffers from `stateDict` (and the step count). */
  loadStateDict(state: OptimizerState, stepCount: number): void;
}

/**
 * The default rule for weight decay: not on biases, LayerNorm parameters or embeddings' position tables
 * — decaying them pulls normalisation scales and offsets towards 0 and hurts (BERT, GPT-2 practice).
 */
export function decaysByDefault(name: string): boolean {
  return !(name.endsWith(".bias") || /(^|\.)norm\d*\./.test(name) || /(^|\.)embedding_norm\./.test(name) || name.includes("LayerNorm"));
}

abstract class BaseOptimizer implements Optimizer {
  lr: number;
  stepCount = 0;
  protected readonly buffers = new Map<string, Float32Array>();

  constructor(protected readonly params: NamedParameter[], lr: number) {
    if (!(lr >= 0)) throw new ConfigError(`optimizer: learning rate must be ≥ 0, got ${lr}`);
    const names = new Set<string>();
    for (const p of params) {
      if (names.has(p.name)) throw new ConfigError(`optimizer: parameter '${p.name}' given twice`);
      names.add(p.name);
    }
    this.lr = lr;
  }

  protected buffer(kind: string, p: NamedParameter): Float32Array {
    const key = `${kind}.${p.name}`;
    let b = this.buffers.get(key);
    if (!b) {
      b = getBackend().allocate(p.param.size); // WASM memory for the wasm backend: its Adam kernel updates it in place
      this.buffers.set(key, b);
    }
    return b;
  }

  abstract step(): void;

  zeroGrad(): void {
    for (const { param } of this.params) param.grad = null;
  }

  stateDict(): OptimizerState {
    return new Map([...this.buffers].map(([k, v]) => [k, Float32Array.from(v)]));
  }

  loadStateDict(state: OptimizerState, stepCount: number): void {
    this.buffers.clear();
    for (const [k, v] of state) {
      const b = getBackend().allocate(v.length);
      b.set(v);
      this.buffers.set(k, b);
    }
    this.stepCount = stepCount;
  }
}

/** SGD with optional momentum (PyTorch's formulation: v = μ·v + g; p −= lr·v) and L2 weight decay. */
export class SGD extends BaseOptimizer {
  constructor(params: NamedParameter[], options: { lr: number; momentum?: number; weightDecay?: number }) {
    super(params, options.lr);
    this.momentum = options.momentum ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
  }

  private readonly momentum: number;
  private readonly weightDecay: number;

  step(): void {
    this.stepCount++;
    for (const p of this.params) {
      const g = p.param.grad?.data;
      if (!g) continue;
      const w = p.param.data;
      const v = this.momentum > 0 ? this.buffer("momentum", p) : null;
      const decay = decaysByDefault(p.name) ? this.weightDecay : 0;
      const lr = this.lr * (p.lrScale ?? 1);
      for (let i = 0; i < w.length; i++) {
        let d = g[i] + decay * w[i];
        if (v) {
          v[i] = this.stepCount === 1 ? d : this.momentum * v[i] + d;
          d = v[i];
        }
        w[i] -= lr * d;
      }
    }
  }
}

/** Options of Adam and AdamW. */
export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Adam: L2 penalty added to the gradient. AdamW: decoupled decay p −= lr·λ·p. */
  weightDecay?: number;
  /** Which parameters decay (default: `decaysByDefault`, i.e. not biases or LayerNorm). */
  decays?: (name: string) => boolean;
}

/** Adam; with `decoupled` true it is AdamW. Bias-corrected moments, as in PyTorch. */
export class Adam extends BaseOptimizer {
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private readonly decays: (name: string) => boolean;

  constructor(params: NamedParameter[], options: AdamOptions, private readonly decoupled = false) {
    super(params, options.lr);
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.decays = options.decays ?? decaysByDefault;
  }

  step(): void {
    this.stepCount++;
    const t = this.stepCount;
    const { beta1, beta2, eps, decoupled } = this;
    const c1 = 1 - Math.pow(beta1, t);
    const rootC2 = Math.sqrt(1 - Math.pow(beta2, t));
    const kernels = getBackend();
    for (const p of this.params) {
      const g = p.param.grad?.data;
      if (!g) continue;
      const lr = this.lr * (p.lrScale ?? 1);
      const decay = this.decays(p.name) ? this.weightDecay : 0;
      kernels.adamStep(p.param.data, g, this.buffer("exp_avg", p), this.buffer("exp_avg_sq", p), {
        beta1, beta2, eps, rootC2,
        shrink: decoupled ? 1 - lr * decay : 1, // AdamW: p −= lr·λ·p, before the Adam update
        l2: decoupled ? 0 : decay, // Adam: λ·p added to the gradient
        stepSize: lr / c1,
      });
    }
  }
}

/** AdamW: Adam with decoupled weight decay (default λ = 0.01, PyTorch's). */
export class AdamW extends Adam {
  constructor(params: NamedParameter[], options: AdamOptions) {
    super(params, { weightDecay: 0.01, ...options }, true);
  }
}

/** Scales all gradients so their global L2 norm is at most `maxNorm`; returns the norm before clipping. */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  let sq = 0;
  for (const p of params) if (p.grad) for (const g of p.grad.data) sq += g * g;
  const norm = Math.sqrt(sq);
  if (norm > maxNorm && norm > 0) {
    const s = maxNorm / (norm + 1e-6);
    for (const p of params) if (p.grad) for (let i = 0; i < p.grad.data.length; i++) p.grad.data[i] *= s;
  }
  return norm;
}

/** The optimizer section of a training config (train and pretrain configs share it). */
export interface OptimizerSettings {
  name: "adamw" | "adam" | "sgd";
  lr: number;
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  momentum?: number;
}

/** The optimizer a config's section names, over these parameters. */
export function optimizerFromConfig(o: OptimizerSettings, params: NamedParameter[]): Optimizer {
  if (o.name === "sgd") return new SGD(params, { lr: o.lr, momentum: o.momentum ?? 0.9, weightDecay: o.weightDecay ?? 0 });
  const options = { lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay };
  return o.name === "adam" ? new Adam(params, options) : new AdamW(params, options);
}
