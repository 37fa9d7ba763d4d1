/**
 * The one backward pass every gradient-based explanation shares: run a classifier with the word-embedding
 * lookup E as a leaf (scaled by α for integrated gradients), per-row head gates ξ as leaves (Michel et al.) and
 * the attention probabilities kept in the graph (the step-by-step attention path), then push a chosen gradient
 * into the logits. The model's parameters are frozen for the pass: explanations need gradients with respect to
 * inputs and attention, not weights, and skipping the weight gradients halves the backward's work.
 */
import { ConfigError } from "../errors.ts";
import type { Linear } from "../nn/linear.ts";
import type { AttentionMask } from "../nn/masks.ts";
import type { ModelCall, ModelOutput, TransformerEncoderModel } from "../nn/model.ts";
import { Trace } from "../nn/trace.ts";
import { noGrad } from "../tensor/autograd.ts";
import { embedding } from "../tensor/ops/nn.ts";
import { type IndexTensor, Tensor } from "../tensor/tensor.ts";

/** A classifier the explanations run on: a BertModel with a classifier head, or tsformer's EncoderClassifier. */
export interface ExplainableModel extends TransformerEncoderModel {
  readonly classifier: Linear | null;
  forward(ids: IndexTensor, call?: ModelCall): ModelOutput & { logits: Tensor | null };
}

/** A tokenized batch and, per row, the class whose logit is explained. */
export interface ExplainBatch {
  /** (batch, n) token ids. */
  ids: IndexTensor;
  /** (batch, n) segment ids. */
  tokenTypeIds: IndexTensor;
  /** (batch, n), 1 = real token. */
  attentionMask: AttentionMask;
  /** Per row, the class index explained (the row's label, or the predicted class). */
  targets: Int32Array;
}

/** What one pass gives back: the forward values and the gradients the explanations read. */
export interface GradientPass {
  /** (batch, classes). */
  logits: Float32Array;
  classes: number;
  /** Per layer, the attention probabilities (batch, heads, n, n). */
  attentions: Tensor[];
  /** Per layer, d(seed·logits)/d attentions, same shape. */
  attentionGrads: Float32Array[];
  /** Per layer, the per-head values v = x·W_Vᵀ + b_V (batch, heads, n, d_k). */
  values: Tensor[];
  /** E·α, the word-embedding lookup fed to the model (batch, n, dModel). */
  wordEmbeddings: Float32Array;
  /** d(seed·logits)/dE at the fed embeddings. */
  wordEmbeddingGrads: Float32Array;
  /** Per layer, d(seed·logits)/dξ (batch, heads): the gradient at each row's own gate. */
  headGateGrads: Float32Array[];
}

/** Options of `gradientPass`. */
export interface GradientPassOptions {
  /** Scales the word-embedding lookup (integrated gradients' path from the zero baseline). Default 1. */
  alpha?: number;
  /** The gradient pushed into the logits (batch × classes), from the logits. Default: one-hot at each row's target. */
  seed?: (logits: Float32Array, classes: number) => Float32Array;
  /** Per layer, a fixed (heads) 0/1 gate multiplied into the head gates (masked heads). */
  headMask?: readonly Float32Array[] | null;
}

/** The one-hot seed at each row's target: the gradient of Y = Σ_b logits[b, target_b]. */
export function targetLogitSeed(targets: Int32Array): (logits: Float32Array, classes: number) => Float32Array {
  return (logits, classes) => {
    const seed = new Float32Array(logits.length);
    targets.forEach((t, b) => (seed[b * classes + t] = 1));
    return seed;
  };
}

/** The seed of Σ_b L_b with L_b the cross-entropy of row b: softmax(logits_b) − onehot(target_b). */
export function crossEntropySeed(targets: Int32Array): (logits: Float32Array, classes: number) => Float32Array {
  return (logits, classes) => {
    const seed = new Float32Array(logits.length);
    targets.forEach((t, b) => {
      const row = logits.subarray(b * classes, (b + 1) * classes);
      let m = -Infinity;
      for (const v of row) m = Math.max(m, v);
      let z = 0;
      for (const v of row) z += Math.exp(v - m);
      for (let c = 0; c < classes; c++) seed[b * classes + c] = Math.exp(row[c] - m) / z - (c === t ? 1 : 0);
    });
    return seed;
  };
}

/** The model's classifier, or a one-line error: gradient explanations need a classification head. */
export function requireClassifier(model: ExplainableModel): number {
  if (!model.classifier) {
    throw new ConfigError("this model has no classification head (classifier.*): gradient-based explanations explain a class's logit; fine-tune it first (tsformer train --init-from DIR)");
  }
  return model.classifier.weight.shape[0];
}

/** Checks each target against the number of classes. */
function checkTargets(targets: Int32Array, classes: number, batch: number): void {
  if (targets.length !== batch) throw new ConfigError(`explain: ${targets.length} targets for ${batch} rows`);
  for (const t of targets) if (!(Number.isInteger(t) && t >= 0 && t < classes)) throw new ConfigError(`explain: target class ${t} is not in 0..${classes - 1}`);
}

/** Runs `fn` with every parameter's `requiresGrad` off, restoring it afterwards (even if `fn` throws). */
function withFrozenParameters<T>(model: ExplainableModel, fn: () => T): T {
  const params = [...model.parameters()];
  const before = params.map((p) => p.requiresGrad);
  params.forEach((p) => (p.requiresGrad = false));
  try {
    return fn();
  } finally {
    params.forEach((p, i) => (p.requiresGrad = before[i]));
  }
}

/** The word-embedding lookup E (batch, n, dModel) of the ids, before × √d_model, positions and token types. */
export function wordEmbeddingLookup(model: ExplainableModel, ids: IndexTensor): Float32Array {
  return noGrad(() => embedding(model.embedding.weight, ids)).data;
}

/** One forward and backward pass in inference semantics (dropout off); see the file comment. */
export function gradientPass(model: ExplainableModel, batch: ExplainBatch, options: GradientPassOptions = {}): GradientPass {
  const classes = requireClassifier(model);
  const [rows, n] = batch.ids.shape;
  checkTargets(batch.targets, classes, rows);
  const { numLayers, heads, dModel } = model.config;
  if (options.headMask && options.headMask.length !== numLayers) throw new ConfigError(`explain: a head mask for ${options.headMask.length} layers, the model has ${numLayers}`);
  const alpha = options.alpha ?? 1;
  const lookup = wordEmbeddingLookup(model, batch.ids);
  const fed = alpha === 1 ? lookup : lookup.map((v) => v * alpha);
  const wasTraining = model.training;
  model.eval();
  try {
    return withFrozenParameters(model, () => {
      const wordEmbeddings = new Tensor(fed, [rows, n, dModel], true);
      const gates = Array.from({ length: numLayers }, (_, l) => {
        const g = new Float32Array(rows * heads).fill(1);
        const mask = options.headMask?.[l];
        if (mask) for (let b = 0; b < rows; b++) for (let h = 0; h < heads; h++) g[b * heads + h] = mask[h];
        return new Tensor(g, [rows, heads], true);
      });
      // A trace sends attention through the step-by-step path, where the probabilities are tensors of the graph.
      const trace = new Trace();
      const out = model.forward(batch.ids, {
        attentionMask: batch.attentionMask, tokenTypeIds: batch.tokenTypeIds, trace, wordEmbeddings, headGates: gates, needWeights: true,
      });
      const logits = out.logits!;
      for (const a of out.attentions) a.retainGrad();
      const seed = (options.seed ?? targetLogitSeed(batch.targets))(logits.data, classes);
      logits.backward(seed);
      const layer = (l: number, name: string): Tensor => {
        const t = trace.get(`encoder.layers.${l}.self_attn.${name}`);
        if (!t) throw new Error(`explain: the trace has no encoder.layers.${l}.self_attn.${name}`);
        return t;
      };
      const zeros = (t: Tensor): Float32Array => new Float32Array(t.size);
      return {
        logits: logits.data, classes,
        attentions: out.attentions.map((a) => a.detach()),
        attentionGrads: out.attentions.map((a) => a.grad?.data ?? zeros(a)),
        values: Array.from({ length: numLayers }, (_, l) => layer(l, "v").detach()),
        wordEmbeddings: fed,
        wordEmbeddingGrads: wordEmbeddings.grad?.data ?? zeros(wordEmbeddings),
        headGateGrads: gates.map((g) => g.grad?.data ?? zeros(g)),
      };
    });
  } finally {
    model.train(wasTraining);
  }
}
