/** What the page and the engine worker say to each other: requests, replies and the shapes of their values. */
import type { TextExplanation } from "../../../src/explain/explain.ts";
import type { HeadRef } from "../../../src/explain/heads.ts";
import type { FillMaskCandidate } from "../../../src/models/fill-mask.ts";

/** The what-if switches (Q01, Q02, Q04, Q05); `BASELINE` is the trained model as it is. */
export interface WhatIf {
  /** Multiply QKᵀ by 1/√d_k (Q04). Off: by 1. */
  scaling: boolean;
  /** [PAD] tokens appended to the sentence (Q05). */
  padding: number;
  /** Hide the padding from attention with the mask (Q05). */
  maskPadding: boolean;
  /** Use W_Q for both queries and keys (Q02). */
  shareQK: boolean;
  /** One head of width h·d_k with the same W_Q, W_K, W_V, W_O (Q01). */
  mergeHeads: boolean;
}

/** The switches of the model as trained. */
export const BASELINE: WhatIf = { scaling: true, padding: 0, maskPadding: true, shareQK: false, mergeHeads: false };

/** Whether the switches need an encoder other than the trained one (padding alone does not). */
export function needsVariant(w: WhatIf): boolean {
  return !w.scaling || w.shareQK || w.mergeHeads;
}

/** Whether a what-if changes nothing. */
export function isBaseline(w: WhatIf): boolean {
  return w.padding === 0 && !needsVariant(w);
}

/** A tensor as it crosses to the page: row-major values and their shape. */
export interface TensorData {
  shape: number[];
  data: Float32Array;
}

/** What the page shows about a loaded model. */
export interface ModelInfo {
  /** The folder's name ("default" for the shipped model). */
  name: string;
  /** "bert": BERT's encoder (whatever its pooling); "tsformer": another tsformer architecture (sinusoids, ×√d_model, pre-LN, …). */
  kind: "tsformer" | "bert";
  layers: number;
  heads: number;
  headDim: number;
  dModel: number;
  dFF: number;
  vocabSize: number;
  positional: "sinusoidal" | "learned" | "none";
  scaleEmbedding: boolean;
  embeddingNorm: boolean;
  normFirst: boolean;
  activation: string;
  /** How token vectors become the sentence vector: BERT's "pooler" on [CLS], or "mean", "cls", "max". */
  pooling: "pooler" | "mean" | "cls" | "max";
  /** Class names, or null for an encoder without a classifier. */
  labels: string[] | null;
  /** Longest input in tokens, [CLS]/[SEP] included. */
  maxLength: number;
  parameters: number;
  /** Whether the model has a masked-LM head (a BertForMaskedLM folder): the fill-mask view can use it. */
  maskedLm: boolean;
}

/** The kernels the worker runs on. */
export interface BackendInfo {
  /** "wasm" or "reference". */
  name: string;
  threads: number;
  /** Whether the page is cross-origin isolated (needed for threads). */
  isolated: boolean;
}

/** What the int8 switch did to a run. */
export interface Int8Run {
  /** Weight matrices that ran in int8 (every Linear the run used). */
  matrices: number;
  /** How far int8 moved from float32 on the same input; null unless the request asked (`compare`). */
  comparison: Int8Comparison | null;
}

/** How an int8 run compares with float32 on the same input. */
export interface Int8Comparison {
  /** Cosine similarity of the final token vectors (last_hidden_state), int8 against float32. */
  cosine: number;
  /** The float32 class probabilities, or null without a classifier. */
  fp32Probs: number[] | null;
}

/** One forward pass of a sentence, every step included. */
export interface RunResult {
  tokens: string[];
  ids: number[];
  /** Tokens before the padding (all of them without the padding what-if). */
  realLength: number;
  /** The sentence was cut to the model's maximum length. */
  truncated: boolean;
  whatIf: WhatIf;
  /** Heads and per-head width of the run (one head of h·d_k when heads are merged). */
  heads: number;
  headDim: number;
  /** The factor QKᵀ was multiplied by. */
  scale: number;
  /** Every trace entry by name (see README "Inspecting"), plus `last_hidden_state`, `pooled` and `logits`. */
  steps: Record<string, TensorData>;
  /** Per layer, (1, heads, n, n). */
  attentions: TensorData[];
  /** Class probabilities, or null without a classifier. */
  probs: number[] | null;
  /** Milliseconds the forward pass took. */
  ms: number;
  /** Set when the Linear layers ran in int8 (the int8 switch). */
  int8: Int8Run | null;
}

/**
 * The worker's two model places: "main", the model every view shows (the default model or an opened folder), and
 * "masked-lm", the site's BertForMaskedLM (models/mlm), which the fill-mask view loads when the main model has no
 * masked-LM head.
 */
export type ModelSlot = "main" | "masked-lm";

/** Candidates per [MASK] the fill-mask view shows. */
export const FILL_MASK_SHOWN = 10;

/** One fill-mask run: the tokens, the top candidates of each [MASK] and the attention of the same input. */
export interface FillMaskResult {
  /** The text as run. */
  text: string;
  /** The model place that ran it. */
  slot: ModelSlot;
  tokens: string[];
  ids: number[];
  /** Token positions of the [MASK]s, in text order (none: the text has no [MASK]). */
  masks: number[];
  /** Per [MASK], the candidates of `fillMask` (Hugging Face's fill-mask pipeline), best first. */
  candidates: FillMaskCandidate[][];
  /** Per layer, (1, heads, n, n): the attention probabilities of the same input. */
  attentions: TensorData[];
  /** The text was cut to the model's maximum length. */
  truncated: boolean;
  /** The Linear layers ran in int8 (the int8 switch). */
  int8: boolean;
  /** Milliseconds the run took. */
  ms: number;
}

/** One run of `explainText` (src/explain/explain.ts) on the main model, as the Explain view shows it. */
export interface ExplainResult extends TextExplanation {
  /** The text as run. */
  text: string;
  /** The heads removed for this run (none: the model as trained). */
  maskedHeads: HeadRef[];
  /** The text was cut to the model's maximum length. */
  truncated: boolean;
  /** Milliseconds the run took. */
  ms: number;
}

/** A request to the worker; `slot` (loads) defaults to "main". */
export type EngineRequest =
  | { id: number; kind: "init" }
  | { id: number; kind: "load-url"; name: string; base: string; files: string[]; slot?: ModelSlot }
  | { id: number; kind: "load-files"; name: string; files: { name: string; bytes: Uint8Array }[]; slot?: ModelSlot }
  /** `int8`: the int8 switch; `compare`: with it, a float32 pass too (the page shows it for the run as trained). */
  | { id: number; kind: "run"; text: string; whatIf: WhatIf; int8: boolean; compare: boolean }
  /** The top `topK` candidates of every [MASK] in `text`, with the model in `slot`. */
  | { id: number; kind: "fill-mask"; slot: ModelSlot; text: string; topK: number; int8: boolean }
  /** Every explanation of the main model's prediction for `text`: of class `target` (null: the predicted one), without `maskedHeads`. */
  | { id: number; kind: "explain"; text: string; target: string | null; maskedHeads: HeadRef[] };

/** The value each request kind resolves to. */
export interface EngineValues {
  init: BackendInfo;
  "load-url": ModelInfo;
  "load-files": ModelInfo;
  run: RunResult;
  "fill-mask": FillMaskResult;
  explain: ExplainResult;
}

/** The worker's answer to request `id`. */
export type EngineReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
