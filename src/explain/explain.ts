/**
 * `explainText`: every explanation of one classifier prediction, as per-token scores side by side, the token ×
 * token maps behind them, raw vs norm-based attention per head, and head importance. What the CLI's `explain`,
 * the explorer's Explain view and the lab read.
 *
 * Token scores read the rows the classifier reads: row 0 ([CLS]) for pooler or CLS pooling, the mean over real
 * tokens for mean (and max) pooling. Padding never appears: one text is one unpadded row.
 */
import { ConfigError } from "../errors.ts";
import { type TextInput, tokenizeTexts } from "../models/embeddings.ts";
import type { LoadedBert } from "../models/load-bert.ts";
import { noGrad } from "../tensor/autograd.ts";
import { softmax } from "../tensor/ops/nn.ts";
import { type NormContributions, type TokenMaps, attentionRollout, gradientAttentionRelevance, normContributions } from "./attention-flow.ts";
import { type ExplainBatch, gradientPass, requireClassifier } from "./backprop.ts";
import { type HeadRef, HeadImportanceAccumulator, headMaskGates, headMaskVectors } from "./heads.ts";
import { inputTimesGradient, integratedGradients } from "./input-attribution.ts";

/** The methods, in the order they are shown. */
export const EXPLAIN_METHODS = ["rollout", "norm", "grad-attention", "input-x-gradient", "integrated-gradients"] as const;

/** One explanation method (see the files of src/explain for each one's definition). */
export type ExplainMethod = (typeof EXPLAIN_METHODS)[number];

/** Per-token scores of one method. */
export interface MethodScores {
  method: ExplainMethod;
  /** One score per token; signed methods can be negative (evidence against the explained class). */
  scores: number[];
  signed: boolean;
}

/** Options of `explainText`. */
export interface ExplainOptions {
  /** Which methods give token scores (default all). */
  methods?: readonly ExplainMethod[];
  /** The class explained: a label name or index (default the predicted class). */
  target?: string | number;
  /** Integrated gradients' midpoint steps (default 32). */
  steps?: number;
  /** Heads removed from the model for this explanation ("what if this head were gone"). */
  maskedHeads?: readonly HeadRef[];
  /** Longest input in tokens (default the model's). */
  maxLength?: number;
}

/** Everything `explainText` computes. */
export interface TextExplanation {
  tokens: string[];
  labels: string[];
  probabilities: number[];
  predicted: string;
  /** The class whose logit is explained. */
  target: string;
  methods: MethodScores[];
  /** Row i: how much of token i's final vector flows from each token (n × n, row-major). */
  rollout: number[];
  /** Chefer et al.'s relevance map (n × n). */
  gradAttention: number[];
  /** Per layer: raw attention per head (heads × n × n) and Kobayashi's ‖α f(x)‖ per head and summed. */
  layers: { attention: number[]; norm: number[]; normSum: number[] }[];
  /** |∂L/∂ξ| per head (layers × heads) with the target as the label. */
  headImportance: number[];
  /** Integrated gradients' completeness: Y(input), Y(zero baseline) and the relative gap of Σ IG to their difference. */
  integratedGradients: { steps: number; target: number; baseline: number; completenessGap: number } | null;
  heads: number;
  numLayers: number;
}

/** The class index of a label name or index, or a one-line error listing the labels. */
export function targetClass(labels: readonly string[], target: string | number): number {
  const byName = labels.indexOf(String(target));
  if (byName >= 0) return byName;
  const asIndex = typeof target === "number" ? target : /^\d+$/.test(target) ? Number(target) : NaN;
  if (Number.isInteger(asIndex) && asIndex >= 0 && asIndex < labels.length) return asIndex;
  throw new ConfigError(`unknown label "${target}": the model's labels are ${labels.map((l, i) => `${l} (${i})`).join(", ")}`);
}

/** The weights with which each row of a token map enters the classifier: [CLS] only, or the mean over tokens. */
function pooledRowWeights(loaded: LoadedBert, n: number): Float64Array {
  const pooling = loaded.config.tsformer?.pooling ?? "pooler";
  const w = new Float64Array(n);
  if (pooling === "pooler" || pooling === "cls") w[0] = 1;
  else w.fill(1 / n);
  return w;
}

/** Σ_i w_i · map[i, :]: the relevance of each token for the pooled vector. */
function pooledRow(map: ArrayLike<number>, n: number, w: Float64Array): number[] {
  const out = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) if (w[i] !== 0) for (let j = 0; j < n; j++) out[j] += w[i] * map[i * n + j];
  return out;
}

/** Every explanation of the model's prediction for one text (or pair). Needs a classification head. */
export function explainText(loaded: LoadedBert, input: TextInput, options: ExplainOptions = {}): TextExplanation {
  const model = loaded.model;
  const classes = requireClassifier(model);
  const labels = loaded.config.labels ?? Array.from({ length: classes }, (_, i) => String(i));
  const methods = options.methods ?? EXPLAIN_METHODS;
  for (const m of methods) if (!(EXPLAIN_METHODS as readonly string[]).includes(m)) throw new ConfigError(`unknown method "${m}": choose from ${EXPLAIN_METHODS.join(", ")}`);
  const { encoding, ids, tokenTypeIds, attentionMask } = tokenizeTexts(loaded, [input], options.maxLength);
  const n = encoding.length;
  const { numLayers, heads } = model.config;
  const headMask = options.maskedHeads ? headMaskVectors(options.maskedHeads, numLayers, heads) : null;
  // The prediction needs no gradients: a plain forward gives it, then one gradient pass explains the target.
  const headGates = options.maskedHeads ? headMaskGates(options.maskedHeads, numLayers, heads) : null;
  const probabilities = Array.from(noGrad(() => softmax(model.forward(ids, { attentionMask, tokenTypeIds, headGates }).logits!)).data);
  const predicted = probabilities.indexOf(Math.max(...probabilities));
  const target = options.target === undefined ? predicted : targetClass(labels, options.target);
  const batch: ExplainBatch = { ids, tokenTypeIds, attentionMask, targets: Int32Array.of(target) };
  const pass = gradientPass(model, batch, { headMask });

  const rows = pooledRowWeights(loaded, n);
  const rollout: TokenMaps = attentionRollout(pass.attentions);
  const relevance = gradientAttentionRelevance(pass.attentions, pass.attentionGrads);
  const layers = model.encoder.layers.items.map((layer, l) => {
    const norms: NormContributions = normContributions(pass.attentions[l], pass.values[l], layer.selfAttn.outProj.weight);
    return { attention: Array.from(pass.attentions[l].data), norm: Array.from(norms.perHead), normSum: Array.from(norms.summed) };
  });
  const ixg = inputTimesGradient(pass.wordEmbeddings, pass.wordEmbeddingGrads, 1, n);
  const ig = methods.includes("integrated-gradients") ? integratedGradients(model, batch, { steps: options.steps ?? 32, headMask, full: pass }) : null;
  const importance = new HeadImportanceAccumulator(model);
  importance.add(batch, headMask);

  const scoresOf = (method: ExplainMethod): MethodScores => {
    switch (method) {
      case "rollout": return { method, scores: pooledRow(rollout.data, n, rows), signed: false };
      case "norm": return { method, scores: pooledRow(layers[numLayers - 1].normSum, n, rows), signed: false };
      case "grad-attention": return { method, scores: pooledRow(relevance.data, n, rows), signed: false };
      case "input-x-gradient": return { method, scores: Array.from(ixg.signed.data), signed: true };
      case "integrated-gradients": return { method, scores: Array.from(ig!.data), signed: true };
    }
  };
  return {
    tokens: encoding.rows[0].tokens, labels, probabilities, predicted: labels[predicted], target: labels[target],
    methods: methods.map(scoresOf),
    rollout: Array.from(rollout.data), gradAttention: Array.from(relevance.data), layers,
    headImportance: Array.from(importance.result().data),
    integratedGradients: ig ? { steps: ig.steps, target: ig.target[0], baseline: ig.baseline[0], completenessGap: ig.completenessGap[0] } : null,
    heads, numLayers,
  };
}
