/**
 * Running a loaded BERT folder on text: `encodeTexts` (tokenize, pad, run under noGrad) and sentence embeddings
 * with sentence-transformers' semantics — mean, CLS or max pooling over real tokens only, then optionally L2
 * normalisation. Padding never changes a sentence's vector: masked keys get probability exactly 0 and pooling
 * skips padded rows, so a sentence embeds the same alone or in any batch.
 */
import { withStepMemory } from "../tensor/memory.ts";
import { ConfigError } from "../errors.ts";
import type { AttentionMask } from "../nn/masks.ts";
import type { Trace } from "../nn/trace.ts";
import { noGrad } from "../tensor/autograd.ts";
import { type IndexTensor, type Tensor, indexTensor } from "../tensor/tensor.ts";
import type { BatchEncoding } from "../text/encoding.ts";
import type { BatchInput } from "../text/wordpiece.ts";
import type { BertOutput } from "./bert.ts";
import type { LoadedBert } from "./load-bert.ts";
import { type Pooling, cosineSimilarity, l2Normalize, pool } from "./pooling.ts";

/** One input: a text, a pair `[a, b]`, or `{ text, textPair }`. */
export type TextInput = string | readonly [string, string] | { text: string; textPair?: string | null };

/** Options of `encodeTexts`. */
export interface EncodeTextsOptions {
  /** Longest row in tokens, [CLS]/[SEP] included; longer inputs are cut "longest_first". Default: the model's `maxLength`. */
  maxLength?: number;
  /** Also return every layer's per-head attention probabilities. */
  needWeights?: boolean;
  /** Records every intermediate (see Trace). */
  trace?: Trace;
}

/** The tokenized batch, the model's inputs and its outputs. */
export interface EncodedTexts {
  encoding: BatchEncoding;
  ids: IndexTensor;
  tokenTypeIds: IndexTensor;
  attentionMask: AttentionMask;
  output: BertOutput;
}

/** The longest allowed row: the option, checked against the model's positions. */
function rowLimit(loaded: LoadedBert, maxLength: number | undefined): number {
  const limit = maxLength ?? loaded.maxLength;
  const positions = loaded.config.maxPositionEmbeddings;
  if (!Number.isInteger(limit) || limit < 2 || limit > positions) {
    throw new ConfigError(`maxLength ${limit} must be an integer from 2 to ${positions} (config.json max_position_embeddings)`);
  }
  return limit;
}

/** A tokenized batch and the model's inputs for it. */
export type TokenizedTexts = Omit<EncodedTexts, "output">;

/** Tokenizes texts or pairs as the model reads them: padding to the longest row, truncation "longest_first", [CLS]/[SEP], token types. */
export function tokenizeTexts(loaded: LoadedBert, inputs: readonly TextInput[], maxLength?: number): TokenizedTexts {
  if (inputs.length === 0) throw new ConfigError("encodeTexts: no texts given");
  const rows: BatchInput[] = inputs.map((x) => (typeof x === "string" ? x : Array.isArray(x) ? { text: x[0], textPair: x[1] } : (x as BatchInput)));
  const encoding = loaded.tokenizer.encodeBatch(rows, { padding: "longest", truncation: "longest_first", maxLength: rowLimit(loaded, maxLength) });
  const shape = [encoding.batch, encoding.length];
  const ids = indexTensor(encoding.inputIds, shape);
  const tokenTypeIds = indexTensor(encoding.tokenTypeIds, shape);
  const attentionMask: AttentionMask = { shape, data: encoding.attentionMask };
  return { encoding, ids, tokenTypeIds, attentionMask };
}

/**
 * Tokenizes texts or pairs (`tokenizeTexts`) and runs the whole model under noGrad: last hidden state, every
 * layer's hidden state, pooler output, logits, and per-head attention probabilities with `needWeights`.
 */
export function encodeTexts(loaded: LoadedBert, inputs: readonly TextInput[], options: EncodeTextsOptions = {}): EncodedTexts {
  const { encoding, ids, tokenTypeIds, attentionMask } = tokenizeTexts(loaded, inputs, options.maxLength);
  const output = noGrad(() => loaded.model.forward(ids, { attentionMask, tokenTypeIds, needWeights: options.needWeights, trace: options.trace }));
  return { encoding, ids, tokenTypeIds, attentionMask, output };
}

/** Options of sentence embeddings. */
export interface EmbedOptions {
  /** "mean" (default, sentence-transformers' usual), "cls" (the first token's vector) or "max" over real tokens. */
  pooling?: Pooling;
  /** L2-normalise each vector (sentence-transformers' Normalize). */
  normalize?: boolean;
  /** Sentences per forward pass (default 32). */
  batchSize?: number;
  /** Longest input in tokens; default the model's `maxLength`. */
  maxLength?: number;
  /** Called after each batch with the number of sentences done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** Pools the last hidden state (batch, n, d) over real tokens, then normalises if asked: (batch, d). */
export function sentenceEmbeddings(hidden: Tensor, mask: AttentionMask, pooling: Pooling = "mean", normalize = false): Tensor {
  const pooled = pool(pooling, hidden, mask);
  return normalize ? l2Normalize(pooled) : pooled;
}

/** One vector per text, in input order (each a Float32Array of hidden_size values). */
export function embedTexts(loaded: LoadedBert, texts: readonly string[], options: EmbedOptions = {}): Float32Array[] {
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`batch size must be a positive integer, got ${batchSize}`);
  const out: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += batchSize) {
    const batch = texts.slice(start, start + batchSize);
    withStepMemory(() => { // the batch's activations reuse one region of WASM memory; the vectors leave as copies
      const { output, attentionMask } = encodeTexts(loaded, batch, { maxLength: options.maxLength });
      const vectors = noGrad(() => sentenceEmbeddings(output.lastHiddenState, attentionMask, options.pooling ?? "mean", options.normalize ?? false));
      const d = vectors.shape[1];
      for (let b = 0; b < batch.length; b++) out.push(vectors.data.slice(b * d, (b + 1) * d));
    });
    options.onProgress?.(out.length, texts.length);
  }
  return out;
}

/** Cosine similarity of two texts' sentence embeddings (normalisation does not change it). */
export function textSimilarity(loaded: LoadedBert, a: string, b: string, options: Omit<EmbedOptions, "normalize" | "onProgress"> = {}): number {
  const [va, vb] = embedTexts(loaded, [a, b], options);
  return cosineSimilarity(va, vb);
}
