/**
 * A training task supplies what differs between objectives — the batches, the loss, the held-out metrics and what
 * "better" means — while the trainer owns the loop, the optimizer, checkpoints and resumption (see DESIGN.md).
 * This file: sequence classification (cross-entropy on the head's logits, accuracy on dev).
 */
import type { Tensor } from "../tensor/tensor.ts";
import { type Batch, type EncodedExample, batchesPerEpoch, epochBatches } from "./batching.ts";
import { type ClassifierModel, type EvalResult, classifierLogits, evaluate } from "./evaluate.ts";
import { crossEntropy } from "./losses.ts";

/** The best held-out result so far. */
export interface BestResult {
  epoch: number;
  step: number;
  accuracy: number;
  loss: number;
}

/** What the trainer needs from an objective. */
export interface TrainingTask {
  /** Training examples per epoch. */
  readonly examples: number;
  /** Optimizer steps in one epoch. */
  readonly stepsPerEpoch: number;
  /** The batches of an epoch, rebuilt identically from (seed, epoch) on resume. */
  batches(epoch: number): Batch[];
  /** The scalar loss of a batch (the model in training mode). */
  loss(batch: Batch): Tensor;
  /** Held-out metrics, or null without a dev set. */
  evaluate(): EvalResult | null;
  /** Whether `result` beats `best`. */
  improves(result: EvalResult, best: BestResult | null): boolean;
}

/** Sequence classification: the labels are class indices of the model's head. */
export class ClassificationTask implements TrainingTask {
  readonly examples: number;
  readonly stepsPerEpoch: number;

  constructor(
    private readonly model: ClassifierModel,
    private readonly train: readonly EncodedExample[],
    private readonly dev: readonly EncodedExample[] | null,
    private readonly options: { batchSize: number; seed: number; padId: number; labelSmoothing: number },
  ) {
    this.examples = train.length;
    this.stepsPerEpoch = batchesPerEpoch(train.length, options.batchSize);
  }

  batches(epoch: number): Batch[] {
    return epochBatches(this.train, this.options.batchSize, this.options.seed, epoch, this.options.padId);
  }

  loss(batch: Batch): Tensor {
    return crossEntropy(classifierLogits(this.model, batch.ids, batch.attentionMask), batch.labels, { labelSmoothing: this.options.labelSmoothing });
  }

  evaluate(): EvalResult | null {
    return this.dev ? evaluate(this.model, this.dev) : null;
  }

  /** Higher accuracy wins; at equal accuracy, lower loss. */
  improves(result: EvalResult, best: BestResult | null): boolean {
    return best === null || result.accuracy > best.accuracy || (result.accuracy === best.accuracy && result.loss < best.loss);
  }
}
