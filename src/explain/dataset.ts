/** Head importance and the pruning curve over a labelled dataset, in length-sorted batches (src/train/batching.ts). */
import type { ExplainableModel } from "./backprop.ts";
import { type EncodedExample, evalBatches } from "../train/batching.ts";
import { evaluate } from "../train/evaluate.ts";
import { indexTensor } from "../tensor/tensor.ts";
import { type HeadImportance, HeadImportanceAccumulator, type PruningStep, headMaskGates, pruningCurve } from "./heads.ts";

/** Michel et al.'s importance of every head, averaged over the examples (loss at each example's label). */
export function datasetHeadImportance(model: ExplainableModel, examples: readonly EncodedExample[], batchSize = 32, onProgress?: (done: number, total: number) => void): HeadImportance {
  const acc = new HeadImportanceAccumulator(model);
  let done = 0;
  for (const { batch } of evalBatches(examples, batchSize, model.config.padId)) {
    const tokenTypeIds = indexTensor(new Int32Array(batch.ids.data.length), batch.ids.shape);
    acc.add({ ids: batch.ids, tokenTypeIds, attentionMask: batch.attentionMask, targets: Int32Array.from(batch.labels.data) });
    done += batch.labels.data.length;
    onProgress?.(done, examples.length);
  }
  return acc.result();
}

/** The pruning curve on the examples: accuracy as heads are removed, least important first, `step` at a time. */
export function datasetPruningCurve(model: ExplainableModel, examples: readonly EncodedExample[], importance: HeadImportance, step = 1): PruningStep[] {
  const { numLayers, heads } = model.config;
  return pruningCurve(importance, (masked) => evaluate(model, examples, 64, { headGates: headMaskGates(masked, numLayers, heads) }).accuracy, step);
}
