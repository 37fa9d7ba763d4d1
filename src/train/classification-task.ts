/**
 * Sequence classification as a training task: cross-entropy on the head's logits (plus the distillation term when
 * the examples carry teachers' soft targets), accuracy on dev (see loop.ts).
 */
import { type Batch, type EncodedExample, batchesPerEpoch, epochBatches } from "./batching.ts";
import type { TransformerEncoderModel } from "../nn/model.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { adversarialLoss } from "./adversarial.ts";
import { type ClassifierModel, type EvalResult, classifierLogits, correctPredictions, evaluate } from "./evaluate.ts";
import type { BestResult, StepLoss, TrainingTask } from "./loop.ts";
import { add, scale } from "../tensor/ops/elementwise.ts";
import { crossEntropy, softCrossEntropy } from "./losses.ts";

/** Sequence classification: the labels are class indices of the model's head. */
export class ClassificationTask implements TrainingTask {
  readonly examples: number;
  readonly stepsPerEpoch: number;

  constructor(
    private readonly model: ClassifierModel & TransformerEncoderModel,
    private readonly train: readonly EncodedExample[],
    private readonly dev: readonly EncodedExample[] | null,
    private readonly options: { batchSize: number; seed: number; padId: number; labelSmoothing: number; adversarial: number; distill: { temperature: number; alpha: number } },
  ) {
    this.examples = train.length;
    this.stepsPerEpoch = batchesPerEpoch(train.length, options.batchSize);
  }

  batches(epoch: number): Batch[] {
    return epochBatches(this.train, this.options.batchSize, this.options.seed, epoch, this.options.padId);
  }

  /**
   * Cross-entropy on the batch — with soft targets, α · CE(labels) + (1 − α) · T² · CE(z / T, targets) (distill.ts);
   * with `adversarial` > 0, plus the same loss on adversarially moved word vectors.
   */
  loss(batch: Batch): StepLoss {
    const { labelSmoothing, distill: { temperature, alpha } } = this.options;
    const soft = batch.softTargets;
    const lossOf = (logits: Tensor): Tensor => {
      const hard = crossEntropy(logits, batch.labels, { labelSmoothing });
      return soft ? add(scale(hard, alpha), scale(softCrossEntropy(logits, soft, temperature), 1 - alpha)) : hard;
    };
    if (this.options.adversarial > 0) {
      const { logits, clean, perturbed } = adversarialLoss(this.model, batch.ids, batch.attentionMask, this.options.adversarial, lossOf);
      return { loss: perturbed, reported: clean.item(), correct: correctPredictions(logits, batch.labels.data), counted: logits.shape[0] };
    }
    const logits = classifierLogits(this.model, batch.ids, batch.attentionMask);
    return { loss: lossOf(logits), correct: correctPredictions(logits, batch.labels.data), counted: logits.shape[0] };
  }

  evaluate(): EvalResult | null {
    return this.dev ? evaluate(this.model, this.dev) : null;
  }

  /** Higher accuracy wins; at equal accuracy, lower loss. */
  improves(result: EvalResult, best: BestResult | null): boolean {
    return best === null || result.accuracy > best.accuracy || (result.accuracy === best.accuracy && result.loss < best.loss);
  }
}
