/**
 * Adversarial training on the word embeddings (Miyato, Dai & Goodfellow 2017, "Adversarial Training Methods for
 * Semi-Supervised Text Classification"), a regulariser made for fine-tuning a pretrained encoder on little labelled
 * text: besides the loss L(e) on a batch's word vectors e, the loss on e + r_adv, where
 *
 *   r_adv = ε · ‖e‖ · g / ‖g‖,   g = ∂L/∂e,
 *
 * moves each sequence's vectors a fixed fraction ε of their own length (norms over the sequence's real tokens) in
 * the direction that raises the loss fastest. The objective is L(e) + L(e + r_adv); r_adv is a constant (no
 * gradient flows through its construction), as in the paper. Words only move inside the embedding space: no token
 * changes, so a sentence's label stays true.
 */
import type { AttentionMask } from "../nn/masks.ts";
import type { TransformerEncoderModel } from "../nn/model.ts";
import { backward } from "../tensor/autograd.ts";
import { add } from "../tensor/ops/elementwise.ts";
import { embedding as gather } from "../tensor/ops/nn.ts";
import { type IndexTensor, Tensor } from "../tensor/tensor.ts";
import { type ClassifierModel, classifierLogits } from "./evaluate.ts";

/** The logits of the unperturbed pass and the losses of both passes. */
export interface AdversarialLoss {
  /** Logits of the unperturbed pass (for training accuracy). */
  logits: Tensor;
  /** L(e), the loss on the batch as it is: already backpropagated. */
  clean: Tensor;
  /** L(e + r_adv): backpropagating it completes the gradients of L(e) + L(e + r_adv). */
  perturbed: Tensor;
}

/**
 * r_adv for word vectors `e` (batch, n, d) with loss gradient `g`: per sequence, ε·‖e‖·g/‖g‖ over its real tokens
 * (padding rows stay zero). A sequence whose gradient is zero is not moved.
 */
export function adversarialPerturbation(e: Float32Array, g: Float32Array, shape: readonly number[], mask: AttentionMask, epsilon: number): Float32Array {
  const [batch, n, d] = shape;
  const r = new Float32Array(e.length);
  for (let b = 0; b < batch; b++) {
    let eSquares = 0;
    let gSquares = 0;
    for (let t = 0; t < n; t++) {
      if (!mask.data[b * n + t]) continue;
      const row = (b * n + t) * d;
      for (let k = 0; k < d; k++) {
        eSquares += e[row + k] * e[row + k];
        gSquares += g[row + k] * g[row + k];
      }
    }
    if (gSquares === 0) continue;
    const scale = (epsilon * Math.sqrt(eSquares)) / Math.sqrt(gSquares);
    for (let t = 0; t < n; t++) {
      if (!mask.data[b * n + t]) continue;
      const row = (b * n + t) * d;
      for (let k = 0; k < d; k++) r[row + k] = scale * g[row + k];
    }
  }
  return r;
}

/**
 * Both passes of adversarial training for one batch. `lossOf` turns logits into the scalar loss. The first pass is
 * backpropagated here to find g, which also adds ∂L(e)/∂θ to the parameters' gradients; the caller then
 * backpropagates `perturbed`, which adds ∂L(e + r_adv)/∂θ. One backward pass per term: backpropagating the sum
 * instead would run the first pass's backward twice.
 */
export function adversarialLoss(
  model: ClassifierModel & TransformerEncoderModel, ids: IndexTensor, attentionMask: AttentionMask, epsilon: number,
  lossOf: (logits: Tensor) => Tensor,
): AdversarialLoss {
  // The lookup as a graph node, so gradients reach both the table and (retained) the looked-up vectors. A frozen
  // table (--freeze-embeddings) records no graph: the vectors become a leaf of their own, or g would be zero.
  const table = model.embedding.weight;
  const looked = gather(table, ids);
  const e = table.requiresGrad ? looked.retainGrad() : new Tensor(looked.data, looked.shape).requireGrad();
  const logits = classifierLogits(model, ids, attentionMask, { wordEmbeddings: e });
  const clean = lossOf(logits);
  backward(clean);
  const g = e.grad?.data ?? new Float32Array(e.size);
  e.grad = null;
  const r = new Tensor(adversarialPerturbation(e.data, g, e.shape, attentionMask, epsilon), e.shape);
  const perturbed = lossOf(classifierLogits(model, ids, attentionMask, { wordEmbeddings: add(e, r) }));
  return { logits, clean, perturbed };
}
