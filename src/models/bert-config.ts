/** Hugging Face BertConfig (config.json): parsed, checked field by field, and turned into an encoder config. */
import { ConfigError } from "../errors.ts";
import type { Activation } from "../tensor/ops/elementwise.ts";
import { type EncoderModelConfig, encoderConfig } from "../nn/model.ts";
import type { Pooling } from "./pooling.ts";

/**
 * How a tsformer encoder that is NOT plain BERT differs from it, stored as config.json's `"tsformer"` object.
 * Hugging Face transformers ignores that object, so such a folder reproduces its outputs only in tsformer.
 */
export interface TsformerArchitecture {
  positional: "learned" | "sinusoidal" | "none";
  /** Token embeddings × √d_model (Q08). */
  scaleEmbedding: boolean;
  /** LayerNorm over the summed embeddings (BERT: true). */
  embeddingNorm: boolean;
  /** Pre-LN layers (BERT: false). */
  normFirst: boolean;
  /** A LayerNorm after the last layer (`encoder.norm.*`; BERT: false). */
  finalNorm: boolean;
  /** "pooler": BERT's tanh pooler on [CLS]; otherwise no pooler, the pooled vector is this pooling of the last hidden state. */
  pooling: "pooler" | Pooling;
  /** The tsformer class the folder was exported from (information only). */
  model?: string;
}

/** The BertConfig fields tsformer runs, in tsformer's spelling. */
export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  hiddenAct: Activation;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  padTokenId: number;
  hiddenDropoutProb: number;
  /** Dropout on the pooled vector before the classifier (`classifier_dropout`); null or absent: hiddenDropoutProb, as in HF. */
  classifierDropout?: number | null;
  /** Std of the N(0, std²) initialisation of new weights (config.json `initializer_range`; default 0.02). */
  initializerRange?: number;
  /** Class names by index, for checkpoints with a classification head (`id2label`). */
  labels: string[] | null;
  /** Deviations from plain BERT (config.json's `"tsformer"` object); absent or null for plain BERT. */
  tsformer?: TsformerArchitecture | null;
}

/** Hugging Face activation names → tsformer's. */
const ACTIVATIONS: Record<string, Activation> = {
  gelu: "gelu", gelu_python: "gelu", gelu_new: "gelu_tanh", gelu_pytorch_tanh: "gelu_tanh", gelu_fast: "gelu_tanh", relu: "relu", tanh: "tanh",
};

/**
 * Largest size a config field may give: token ids are Int32Array entries and tensor sizes 32-bit counts, so a
 * larger value cannot be a real model and is refused before anything is compared or allocated.
 */
export const MAX_CONFIG_SIZE = 2 ** 31 - 1;

/** An integer field in [min, MAX_CONFIG_SIZE] (absent: `fallback`); the error names the field, its value and the bounds' reason. */
function sizeField(json: Record<string, unknown>, key: string, source: string, min: 0 | 1, fallback?: number): number {
  const v = json[key] ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    throw new ConfigError(`${source}: field "${key}" must be a ${min === 1 ? "positive" : "non-negative"} integer, got ${JSON.stringify(json[key])}`);
  }
  checkSizeLimit(v, `field "${key}"`, source);
  return v;
}

/**
 * The one size limit of every config format (config.json's fields here, a tsformer checkpoint's in param-shapes.ts):
 * a ConfigError naming the field as the config spells it when `value` is above MAX_CONFIG_SIZE.
 */
export function checkSizeLimit(value: number, field: string, source: string): void {
  if (value > MAX_CONFIG_SIZE) {
    throw new ConfigError(`${source}: ${field} is ${value}, above ${MAX_CONFIG_SIZE}: token ids and tensor sizes are 32-bit integers, so no model has that many; fix config.json`);
  }
}

/** Parses and checks a BertConfig JSON object; every refusal names the field. */
export function parseBertConfig(json: unknown, source = "config.json"): BertConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new ConfigError(`${source}: expected a JSON object`);
  const c = json as Record<string, unknown>;
  if (c.model_type !== undefined && c.model_type !== "bert") {
    throw new ConfigError(`${source}: field "model_type" is "${String(c.model_type)}"; tsformer runs BERT checkpoints ("bert")`);
  }
  const posType = c.position_embedding_type ?? "absolute";
  if (posType !== "absolute") {
    throw new ConfigError(`${source}: field "position_embedding_type" is "${String(posType)}"; only "absolute" (learned absolute positions) is supported`);
  }
  const act = c.hidden_act ?? "gelu";
  if (typeof act !== "string" || !(act in ACTIVATIONS)) {
    throw new ConfigError(`${source}: field "hidden_act" is ${JSON.stringify(act)}; supported: ${Object.keys(ACTIVATIONS).join(", ")}`);
  }
  const hiddenSize = sizeField(c, "hidden_size", source, 1);
  const heads = sizeField(c, "num_attention_heads", source, 1);
  if (hiddenSize % heads !== 0) {
    throw new ConfigError(`${source}: field "hidden_size" ${hiddenSize} is not a multiple of "num_attention_heads" ${heads}`);
  }
  const eps = c.layer_norm_eps ?? 1e-12;
  if (typeof eps !== "number" || !(eps > 0)) throw new ConfigError(`${source}: field "layer_norm_eps" must be a positive number`);
  const pad = c.pad_token_id ?? 0;
  if (typeof pad !== "number" || !Number.isInteger(pad) || pad < 0) throw new ConfigError(`${source}: field "pad_token_id" must be a non-negative integer`);
  const vocabSize = sizeField(c, "vocab_size", source, 1);
  if (pad >= vocabSize) throw new ConfigError(`${source}: field "pad_token_id" is ${pad} but "vocab_size" is ${vocabSize}; the padding id must be a row of the embedding table`);
  const dropout = typeof c.hidden_dropout_prob === "number" ? c.hidden_dropout_prob : 0.1;
  const classifierDropout = c.classifier_dropout ?? null;
  if (classifierDropout !== null && (typeof classifierDropout !== "number" || !(classifierDropout >= 0 && classifierDropout < 1))) {
    throw new ConfigError(`${source}: field "classifier_dropout" must be null or a number in [0, 1), got ${JSON.stringify(c.classifier_dropout)}`);
  }
  const init = c.initializer_range ?? 0.02;
  if (typeof init !== "number" || !(init > 0 && Number.isFinite(init))) throw new ConfigError(`${source}: field "initializer_range" must be a positive number (BERT: 0.02), got ${JSON.stringify(c.initializer_range)}`);
  return {
    vocabSize,
    hiddenSize,
    numHiddenLayers: sizeField(c, "num_hidden_layers", source, 1),
    numAttentionHeads: heads,
    intermediateSize: sizeField(c, "intermediate_size", source, 1),
    hiddenAct: ACTIVATIONS[act],
    maxPositionEmbeddings: sizeField(c, "max_position_embeddings", source, 1, 512),
    typeVocabSize: sizeField(c, "type_vocab_size", source, 0, 2),
    layerNormEps: eps,
    padTokenId: pad,
    hiddenDropoutProb: dropout,
    classifierDropout,
    initializerRange: init,
    labels: parseLabels(c, source),
    tsformer: c.tsformer === undefined || c.tsformer === null ? null : parseTsformerBlock(c.tsformer, source),
  };
}

/** One allowed value of a field of the `tsformer` object, or a ConfigError naming the field. */
function oneOf<T>(block: Record<string, unknown>, key: string, allowed: readonly T[], source: string): T {
  const v = block[key];
  if (!allowed.includes(v as T)) {
    throw new ConfigError(`${source}: field "tsformer.${key}" is ${JSON.stringify(v)}; expected one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`);
  }
  return v as T;
}

/** Parses config.json's `"tsformer"` object (written by exportHfFolder); every refusal names the field. */
function parseTsformerBlock(json: unknown, source = "config.json"): TsformerArchitecture {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new ConfigError(`${source}: field "tsformer" must be an object`);
  const t = json as Record<string, unknown>;
  if (t.format_version !== undefined && t.format_version !== 1) {
    throw new ConfigError(`${source}: field "tsformer.format_version" is ${JSON.stringify(t.format_version)}; this tsformer reads version 1`);
  }
  const bools = [true, false] as const;
  return {
    positional: oneOf(t, "positional", ["learned", "sinusoidal", "none"] as const, source),
    scaleEmbedding: oneOf(t, "scale_embedding", bools, source),
    embeddingNorm: oneOf(t, "embedding_norm", bools, source),
    normFirst: oneOf(t, "norm_first", bools, source),
    finalNorm: oneOf(t, "final_norm", bools, source),
    pooling: oneOf(t, "pooling", ["pooler", "mean", "cls", "max"] as const, source),
    ...(typeof t.model === "string" ? { model: t.model } : {}),
  };
}

/** The `"tsformer"` object of config.json for these deviations. */
function tsformerBlockJson(t: TsformerArchitecture): Record<string, unknown> {
  return {
    format_version: 1, positional: t.positional, scale_embedding: t.scaleEmbedding, embedding_norm: t.embeddingNorm,
    norm_first: t.normFirst, final_norm: t.finalNorm, pooling: t.pooling, ...(t.model ? { model: t.model } : {}),
    note: "tsformer-only: Hugging Face transformers ignores this object, so only tsformer reproduces this model's outputs",
  };
}

function parseLabels(c: Record<string, unknown>, source: string): string[] | null {
  const id2label = c.id2label;
  if (id2label === undefined || id2label === null) return null;
  if (typeof id2label !== "object" || Array.isArray(id2label)) throw new ConfigError(`${source}: field "id2label" must be an object`);
  const entries = Object.entries(id2label as Record<string, unknown>);
  const labels = new Array<string>(entries.length);
  for (const [k, v] of entries) {
    const i = Number(k);
    if (!Number.isInteger(i) || i < 0 || i >= entries.length || typeof v !== "string") {
      throw new ConfigError(`${source}: field "id2label" must map 0…${entries.length - 1} to names, found "${k}": ${JSON.stringify(v)}`);
    }
    labels[i] = v;
  }
  return labels;
}

/** BERT's own encoder switches: what a config.json without a `tsformer` object means. */
export const BERT_ENCODER_SWITCHES = {
  positional: "learned", scaleEmbedding: false, embeddingNorm: true, normFirst: false, finalNorm: false,
} as const satisfies Omit<TsformerArchitecture, "pooling" | "model">;

/** Whether an encoder has BERT's switches (learned positions, no ×√d_model, embedding LayerNorm, post-LN), whatever its pooling. */
export function isBertEncoder(c: EncoderModelConfig): boolean {
  return (Object.keys(BERT_ENCODER_SWITCHES) as (keyof typeof BERT_ENCODER_SWITCHES)[]).every((k) => c[k] === BERT_ENCODER_SWITCHES[k]);
}

/**
 * The encoder configuration of a BERT model: learned positions, token types, embedding LayerNorm, post-LN
 * (or the deviations of a `tsformer` object).
 */
export function bertEncoderConfig(b: BertConfig): EncoderModelConfig {
  const t = b.tsformer;
  const bert = BERT_ENCODER_SWITCHES;
  return encoderConfig({
    vocabSize: b.vocabSize, dModel: b.hiddenSize, heads: b.numAttentionHeads, dFF: b.intermediateSize,
    numLayers: b.numHiddenLayers, maxPositions: b.maxPositionEmbeddings, positional: t?.positional ?? bert.positional,
    scaleEmbedding: t?.scaleEmbedding ?? bert.scaleEmbedding, typeVocabSize: b.typeVocabSize, embeddingNorm: t?.embeddingNorm ?? bert.embeddingNorm,
    activation: b.hiddenAct, normFirst: t?.normFirst ?? bert.normFirst, layerNormEps: b.layerNormEps, dropout: b.hiddenDropoutProb,
    finalNorm: t?.finalNorm ?? bert.finalNorm, padId: b.padTokenId, embeddingInitStd: 0.02,
    // Plain BERT has no dropout inside the FFN (HF BertIntermediate); tsformer's own encoders, exported with a
    // "tsformer" object, were trained with PyTorch's TransformerEncoderLayer dropout there and keep it.
    ffnDropout: t ? b.hiddenDropoutProb : 0,
  });
}

/** The config.json Hugging Face writes for a BertConfig (what `BertModel.from_pretrained` reads). */
export function toHfBertConfigJson(b: BertConfig, architecture = "BertModel"): Record<string, unknown> {
  const json: Record<string, unknown> = {
    architectures: [architecture], model_type: "bert", vocab_size: b.vocabSize, hidden_size: b.hiddenSize,
    num_hidden_layers: b.numHiddenLayers, num_attention_heads: b.numAttentionHeads, intermediate_size: b.intermediateSize,
    hidden_act: Object.entries(ACTIVATIONS).find(([, v]) => v === b.hiddenAct)![0],
    max_position_embeddings: b.maxPositionEmbeddings, type_vocab_size: b.typeVocabSize, layer_norm_eps: b.layerNormEps,
    pad_token_id: b.padTokenId, position_embedding_type: "absolute", hidden_dropout_prob: b.hiddenDropoutProb,
    attention_probs_dropout_prob: b.hiddenDropoutProb, classifier_dropout: b.classifierDropout ?? null, initializer_range: b.initializerRange ?? 0.02, torch_dtype: "float32",
  };
  if (b.labels) {
    json.id2label = Object.fromEntries(b.labels.map((l, i) => [String(i), l]));
    json.label2id = Object.fromEntries(b.labels.map((l, i) => [l, i]));
  }
  if (b.tsformer) json.tsformer = tsformerBlockJson(b.tsformer);
  return json;
}
