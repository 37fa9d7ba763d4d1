/** Evaluation and prediction with a classifier: accuracy and mean loss over a dataset, probabilities for texts. */
import { withStepMemory } from "../tensor/memory.ts";
import { ConfigError } from "../errors.ts";
import type { AttentionMask } from "../nn/masks.ts";
import type { EncoderModelConfig, ModelCall } from "../nn/model.ts";
import type { Module } from "../nn/module.ts";
import { noGrad } from "../tensor/autograd.ts";
import { softmax } from "../tensor/ops/nn.ts";
import type { IndexTensor, Tensor } from "../tensor/tensor.ts";
import type { BertTokenizer } from "../text/wordpiece.ts";
import { type EncodedExample, evalBatches } from "./batching.ts";
import { crossEntropy } from "./losses.ts";

/** Any encoder with a classification head: tsformer's EncoderClassifier, or a BertModel (null logits: no head). */
export interface ClassifierModel extends Module {
  readonly config: EncoderModelConfig;
  forward(ids: IndexTensor, call?: ModelCall): { logits: Tensor | null };
}

/** What evaluation may add to each forward call: head gates that remove heads (see `ModelCall.headGates`). */
export type EvalCall = Pick<ModelCall, "headGates">;

/** The logits of a batch (`wordEmbeddings`: vectors to use instead of the lookup); a model without a classification head is a one-line error. */
export function classifierLogits(model: ClassifierModel, ids: IndexTensor, attentionMask: AttentionMask, call: EvalCall & Pick<ModelCall, "wordEmbeddings"> = {}): Tensor {
  const { logits } = model.forward(ids, { ...call, attentionMask });
  if (!logits) throw new ConfigError("the model has no classification head (no classifier.* weights and no id2label): fine-tune it first with tsformer train --init-from");
  return logits;
}

/** Accuracy, mean cross-entropy and the number of examples. */
export interface EvalResult {
  accuracy: number;
  loss: number;
  n: number;
}

/** How many rows of logits (N, C) have their largest entry (the first, at ties) at the row's target class. */
export function correctPredictions(logits: Tensor, targets: ArrayLike<number>): number {
  const [rows, classes] = logits.shape;
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits.data[r * classes + c] > logits.data[r * classes + best]) best = c;
    if (best === targets[r]) correct++;
  }
  return correct;
}

/** Token ids of a text for a classifier: [CLS] text [SEP], truncated to maxLength. */
export function encodeText(tokenizer: BertTokenizer, text: string, maxLength: number): number[] {
  return tokenizer.encode(text, null, { maxLength, truncation: "longest_first" }).inputIds;
}

/** Evaluates in inference mode (dropout off), in length-sorted batches. */
export function evaluate(model: ClassifierModel, examples: readonly EncodedExample[], batchSize = 64, call: EvalCall = {}): EvalResult {
  const wasTraining = model.training;
  model.eval();
  let correct = 0;
  let lossSum = 0;
  noGrad(() => {
    for (const { batch } of evalBatches(examples, batchSize, model.config.padId)) {
      withStepMemory(() => { // each batch's activations reuse one region of WASM memory; only numbers leave it
        const logits = classifierLogits(model, batch.ids, batch.attentionMask, call);
        lossSum += crossEntropy(logits, batch.labels).item() * batch.labels.data.length;
        correct += correctPredictions(logits, batch.labels.data);
      });
    }
  });
  model.train(wasTraining);
  return { accuracy: correct / examples.length, loss: lossSum / examples.length, n: examples.length };
}

/** Class probabilities for each text (rows in input order). */
export function predict(model: ClassifierModel, tokenizer: BertTokenizer, texts: readonly string[], maxLength: number, batchSize = 64, call: EvalCall = {}): number[][] {
  const examples = texts.map((t) => ({ ids: encodeText(tokenizer, t, maxLength), label: 0 }));
  const out: number[][] = new Array(texts.length);
  model.eval();
  noGrad(() => {
    for (const { batch, indices } of evalBatches(examples, batchSize, model.config.padId)) {
      withStepMemory(() => { // as in evaluate: the probabilities leave as plain numbers
        const probs = softmax(classifierLogits(model, batch.ids, batch.attentionMask, call));
        const classes = probs.shape[1];
        indices.forEach((i, b) => (out[i] = Array.from(probs.data.subarray(b * classes, (b + 1) * classes))));
      });
    }
  });
  return out;
}
