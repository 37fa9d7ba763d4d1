/**
 * An exponential moving average of the trained weights (Polyak averaging; Polyak & Juditsky 1992, as TensorFlow's
 * `ExponentialMovingAverage` and timm's `ModelEma` keep it). After every optimizer step each weight's shadow moves
 * towards it:
 *
 *     shadow ← d_t · shadow + (1 − d_t) · weight,   d_t = min(decay, (1 + t) / (10 + t))
 *
 * where t counts the updates so far. The ramp on d_t (TensorFlow's `num_updates`) keeps the first steps' random
 * weights from dominating the average. The loop evaluates held-out data and saves `best/` with the averaged weights;
 * training itself continues from the raw ones, which `last/` holds beside the average for an exact `--resume`.
 */
import { getBackend } from "../backend/registry.ts";
import { CheckpointError } from "../errors.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** The tensors of a saved average: one per averaged weight, named by its position among the trainable weights. */
export interface AverageTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** The averages of a list of weights; the weights are updated elsewhere (the optimizer), the averages here. */
export class WeightAverage {
  /** The shadow of each weight, in the order of `weights`; starts as a copy of the weights, in the backend's memory. */
  private readonly shadows: Float32Array[];
  private updates = 0;

  /** `decay` in [0, 1): the larger, the longer the average's memory (about 1 / (1 − decay) steps). */
  constructor(private readonly weights: readonly Tensor[], readonly decay: number) {
    if (!(decay >= 0 && decay < 1)) throw new RangeError(`WeightAverage: decay must be in [0, 1), got ${decay}`);
    // In the backend's memory (WASM memory for `wasm`), so the update kernel reads and writes them in place.
    this.shadows = weights.map((w) => {
      const shadow = getBackend().allocate(w.data.length);
      shadow.set(w.data);
      return shadow;
    });
  }

  /** The decay of the next update: `decay`, ramped up over the first steps. */
  currentDecay(): number {
    return Math.min(this.decay, (1 + this.updates) / (10 + this.updates));
  }

  /** Moves every shadow towards its weight (`Backend.averageStep`: threaded in WASM); call once after each optimizer step. */
  update(): void {
    const d = this.currentDecay();
    this.updates++;
    const backend = getBackend();
    this.weights.forEach((w, i) => backend.averageStep(this.shadows[i], w.data, d));
  }

  /** Runs `fn` with the averaged weights in place of the weights, and puts the weights back afterwards (even on error). */
  async withAveraged<T>(fn: () => T | Promise<T>): Promise<T> {
    const saved = this.weights.map((w) => Float32Array.from(w.data));
    this.weights.forEach((w, i) => w.data.set(this.shadows[i]));
    try {
      return await fn();
    } finally {
      this.weights.forEach((w, i) => w.data.set(saved[i]));
    }
  }

  /** The shadows, for a resumable checkpoint (the update count is the caller's step count). */
  stateDict(): AverageTensor[] {
    return this.shadows.map((s, i) => ({ name: `average.${i}`, shape: [s.length], data: Float32Array.from(s) }));
  }

  /** Restores `stateDict`'s output read from `source`; refuses one made for other weights. */
  loadStateDict(tensors: ReadonlyMap<string, Float32Array>, updates: number, source: string): void {
    if (tensors.size !== this.shadows.length) {
      throw new CheckpointError(`${source}: the saved weight average has ${tensors.size} tensors, the model ${this.shadows.length} trainable weights`);
    }
    this.shadows.forEach((s, i) => {
      const saved = tensors.get(`average.${i}`);
      if (!saved || saved.length !== s.length) {
        throw new CheckpointError(`${source}: average.${i} holds ${saved?.length ?? "no"} values, its weight ${s.length}`);
      }
      s.set(saved);
    });
    this.updates = updates;
  }
}
