/**
 * Masked-LM pretraining as a training task (see loop.ts): packed sequences masked afresh each epoch (dynamic
 * masking, RoBERTa §4.1), cross-entropy on the chosen positions only, and held-out text masked once for all
 * epochs so its loss is comparable from epoch to epoch. Lower held-out loss is better.
 */
import { withStepMemory } from "../tensor/memory.ts";
import { ConfigError } from "../errors.ts";
import type { BertModel } from "../models/bert.ts";
import { embedding } from "../tensor/ops/nn.ts";
import { reshape } from "../tensor/ops/layout.ts";
import { noGrad } from "../tensor/autograd.ts";
import type { Rng } from "../tensor/random.ts";
import { indexTensor } from "../tensor/tensor.ts";
import type { Batch } from "./batching.ts";
import { type EvalResult, correctPredictions } from "./evaluate.ts";
import type { BestResult, StepLoss, TrainingTask } from "./loop.ts";
import { crossEntropy } from "./losses.ts";
import { IGNORE_INDEX, type MaskVocabulary, type MaskedSequence, type MaskingOptions, maskTokens, maskingRng } from "./mlm-data.ts";

/** Pads masked sequences into a batch; `labels` is (batch, n) with IGNORE_INDEX wherever nothing is predicted. */
export function collateMasked(rows: readonly MaskedSequence[], padId: number): Batch {
  const n = Math.max(...rows.map((r) => r.inputIds.length));
  const ids = new Int32Array(rows.length * n).fill(padId);
  const labels = new Int32Array(rows.length * n).fill(IGNORE_INDEX);
  const mask = new Uint8Array(rows.length * n);
  let tokens = 0;
  rows.forEach((r, b) => {
    ids.set(r.inputIds, b * n);
    labels.set(r.labels, b * n);
    mask.fill(1, b * n, b * n + r.inputIds.length);
    tokens += r.inputIds.length;
  });
  return { ids: indexTensor(ids, [rows.length, n]), attentionMask: { shape: [rows.length, n], data: mask }, labels: indexTensor(labels, [rows.length, n]), softTargets: null, tokens };
}

/** Settings of the task. */
export interface MaskedLmTaskOptions {
  batchSize: number;
  seed: number;
  masking: MaskingOptions;
  vocab: MaskVocabulary;
}

/** The masked-LM objective over packed token sequences. */
export class MaskedLmTask implements TrainingTask {
  readonly examples: number;
  readonly stepsPerEpoch: number;
  private readonly heldOutBatches: Batch[] | null;

  constructor(
    private readonly model: BertModel,
    private readonly train: readonly number[][],
    heldOut: readonly number[][] | null,
    private readonly options: MaskedLmTaskOptions,
  ) {
    if (!model.mlmHead) throw new ConfigError("MaskedLmTask: the model has no masked-LM head (build it with { mlmHead: true })");
    this.examples = train.length;
    this.stepsPerEpoch = Math.ceil(train.length / options.batchSize);
    // Held-out text is masked once, by a generator of its own: the same positions every epoch.
    this.heldOutBatches = heldOut && heldOut.length > 0 ? this.maskAndBatch(heldOut, maskingRng(options.seed ^ 0x6d6c6d, 0), null) : null;
  }

  /** Masks every sequence (in corpus order, so the draws depend on (seed, epoch) only), then batches them. */
  private maskAndBatch(sequences: readonly number[][], rng: Rng, shuffle: Rng | null): Batch[] {
    const masked = sequences.map((ids) => maskTokens(ids, this.options.vocab, this.options.masking, rng));
    const order = masked.map((_, i) => i);
    if (shuffle) shuffle.shuffle(order);
    const out: Batch[] = [];
    for (let i = 0; i < order.length; i += this.options.batchSize) {
      out.push(collateMasked(order.slice(i, i + this.options.batchSize).map((j) => masked[j]), this.model.config.padId));
    }
    return out;
  }

  batches(epoch: number): Batch[] {
    return this.maskAndBatch(this.train, maskingRng(this.options.seed, epoch), maskingRng(this.options.seed + 1, epoch));
  }

  /** Cross-entropy at the chosen positions only: the other positions cost no vocabulary projection. */
  loss(batch: Batch): StepLoss {
    const out = this.model.forward(batch.ids, { attentionMask: batch.attentionMask });
    const [b, n, h] = out.lastHiddenState.shape;
    const positions: number[] = [];
    const targets: number[] = [];
    batch.labels.data.forEach((label, i) => {
      if (label !== IGNORE_INDEX) {
        positions.push(i);
        targets.push(label);
      }
    });
    const chosen = embedding(reshape(out.lastHiddenState, [b * n, h]), indexTensor(positions, [positions.length]));
    const logits = this.model.maskedLmLogits(chosen);
    const targetTensor = indexTensor(targets, [targets.length]);
    return { loss: crossEntropy(logits, targetTensor), correct: correctPredictions(logits, targets), counted: targets.length };
  }

  /** Mean cross-entropy and accuracy over every chosen position of the held-out text (dropout off). */
  evaluate(): EvalResult | null {
    if (!this.heldOutBatches) return null;
    const wasTraining = this.model.training;
    this.model.eval();
    let lossSum = 0;
    let correct = 0;
    let counted = 0;
    noGrad(() => {
      for (const batch of this.heldOutBatches!) {
        withStepMemory(() => { // each batch's activations reuse one region of WASM memory; only numbers leave it
          const p = this.loss(batch);
          lossSum += p.loss.item() * p.counted;
          correct += p.correct;
          counted += p.counted;
        });
      }
    });
    this.model.train(wasTraining);
    return { accuracy: correct / Math.max(1, counted), loss: lossSum / Math.max(1, counted), n: counted };
  }

  /** Lower held-out loss wins. */
  improves(result: EvalResult, best: BestResult | null): boolean {
    return best === null || result.loss < best.loss;
  }
}
