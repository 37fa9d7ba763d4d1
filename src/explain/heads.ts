/**
 * Head importance (Michel et al. 2019, "Are Sixteen Heads Really Better than One?"): a gate ξ_lh = 1 multiplies
 * head h's output in layer l, and I_lh = mean_b |∂L_b/∂ξ_lh| with L_b the cross-entropy of example b. Masking heads
 * in order of importance (least important first) and measuring accuracy after each step is their pruning
 * experiment. Head masks are written "layer:head" (0-based), comma-separated: "0:1,1:3".
 */
import { ConfigError } from "../errors.ts";
import { Tensor } from "../tensor/tensor.ts";
import { type ExplainableModel, type ExplainBatch, crossEntropySeed, gradientPass } from "./backprop.ts";

/** A (layer, head) pair, 0-based. */
export interface HeadRef {
  layer: number;
  head: number;
}

/** Importance per head, (layers × heads) row-major. */
export interface HeadImportance {
  layers: number;
  heads: number;
  data: Float64Array;
  /** Examples the mean ran over. */
  examples: number;
}

/** Parses "0:1,1:3" into heads, checked against the model's layers and heads (a one-line error says what exists). */
export function parseHeadList(spec: string, layers: number, heads: number): HeadRef[] {
  const out: HeadRef[] = [];
  for (const part of spec.split(",").map((s) => s.trim()).filter((s) => s.length > 0)) {
    const m = /^(\d+):(\d+)$/.exec(part);
    if (!m) throw new ConfigError(`head "${part}": write heads as layer:head (0-based), e.g. 0:1,1:3`);
    const layer = Number(m[1]);
    const head = Number(m[2]);
    if (layer >= layers || head >= heads) {
      throw new ConfigError(`head ${part} does not exist: the model has layers 0–${layers - 1} and heads 0–${heads - 1} in each`);
    }
    out.push({ layer, head });
  }
  return out;
}

/** Per layer, a (heads) gate with 0 at the masked heads and 1 elsewhere. */
export function headMaskVectors(masked: readonly HeadRef[], layers: number, heads: number): Float32Array[] {
  const gates = Array.from({ length: layers }, () => new Float32Array(heads).fill(1));
  for (const { layer, head } of masked) gates[layer][head] = 0;
  return gates;
}

/** The same gates as tensors, for `ModelCall.headGates`. */
export function headMaskGates(masked: readonly HeadRef[], layers: number, heads: number): Tensor[] {
  return headMaskVectors(masked, layers, heads).map((g) => new Tensor(g, [heads]));
}

/** Accumulates Σ_b |∂L_b/∂ξ| over batches; `result()` divides by the number of examples. */
export class HeadImportanceAccumulator {
  private readonly sum: Float64Array;
  private examples = 0;

  constructor(private readonly model: ExplainableModel) {
    this.sum = new Float64Array(model.config.numLayers * model.config.heads);
  }

  /** Adds one batch; `targets` are the labels (the loss is the cross-entropy at them). */
  add(batch: ExplainBatch, headMask?: readonly Float32Array[] | null): void {
    const pass = gradientPass(this.model, batch, { seed: crossEntropySeed(batch.targets), headMask });
    const heads = this.model.config.heads;
    const rows = batch.targets.length;
    pass.headGateGrads.forEach((g, l) => {
      for (let b = 0; b < rows; b++) for (let h = 0; h < heads; h++) this.sum[l * heads + h] += Math.abs(g[b * heads + h]);
    });
    this.examples += rows;
  }

  /** The mean over every example added. */
  result(): HeadImportance {
    const { numLayers: layers, heads } = this.model.config;
    if (this.examples === 0) throw new ConfigError("head importance: no examples were given");
    return { layers, heads, data: this.sum.map((s) => s / this.examples), examples: this.examples };
  }
}

/** Heads from least to most important (ties: lower layer, then lower head first). */
export function headsByImportance(importance: HeadImportance): HeadRef[] {
  const refs: HeadRef[] = [];
  for (let layer = 0; layer < importance.layers; layer++) for (let head = 0; head < importance.heads; head++) refs.push({ layer, head });
  const score = (r: HeadRef): number => importance.data[r.layer * importance.heads + r.head];
  return refs.sort((a, b) => score(a) - score(b) || a.layer - b.layer || a.head - b.head);
}

/** One point of the pruning curve. */
export interface PruningStep {
  /** Heads masked so far, in the order they were masked. */
  masked: HeadRef[];
  /** Fraction of all heads masked. */
  fraction: number;
  accuracy: number;
}

/**
 * Michel et al.'s pruning experiment: mask the least important heads `step` at a time (importance computed
 * once, on the unpruned model) and measure accuracy after each step with `evaluateMasked`, down to one head left.
 */
export function pruningCurve(importance: HeadImportance, evaluateMasked: (masked: readonly HeadRef[]) => number, step = 1): PruningStep[] {
  if (!(Number.isInteger(step) && step >= 1)) throw new ConfigError(`pruning: the step must be a positive integer, got ${step}`);
  const order = headsByImportance(importance);
  const total = order.length;
  const curve: PruningStep[] = [];
  for (let k = 0; k < total; k = Math.min(k + step, total - 1)) {
    const masked = order.slice(0, k);
    curve.push({ masked, fraction: k / total, accuracy: evaluateMasked(masked) });
    if (k === total - 1) break;
  }
  return curve;
}
