/** What the page and the engine worker say to each other: requests, replies and the shapes of their values. */

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
  /** "tsformer": a tsformer architecture (sinusoidal positions, ×√d_model, …); "bert": plain BERT. */
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
}

/** The kernels the worker runs on. */
export interface BackendInfo {
  /** "wasm" or "reference". */
  name: string;
  threads: number;
  /** Whether the page is cross-origin isolated (needed for threads). */
  isolated: boolean;
}

/** How an int8 run compares with float32 on the same input. */
export interface Int8Comparison {
  /** Weight matrices that ran in int8 (every Linear the run used). */
  matrices: number;
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
  int8: Int8Comparison | null;
}

/** A request to the worker. */
export type EngineRequest =
  | { id: number; kind: "init" }
  | { id: number; kind: "load-url"; name: string; base: string; files: string[] }
  | { id: number; kind: "load-files"; name: string; files: { name: string; bytes: Uint8Array }[] }
  | { id: number; kind: "run"; text: string; whatIf: WhatIf; int8: boolean };

/** The value each request kind resolves to. */
export interface EngineValues {
  init: BackendInfo;
  "load-url": ModelInfo;
  "load-files": ModelInfo;
  run: RunResult;
}

/** The worker's answer to request `id`. */
export type EngineReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
