/**
 * The pretraining configuration (`tsformer pretrain --config FILE`, flags override it), checked in one place.
 * The defaults are BERT's recipe scaled to a small model on one machine: masked-LM only (no next-sentence
 * prediction: RoBERTa, Liu et al. 2019, §4.2, found it does not help), 15 % of tokens chosen with 80/10/10
 * replacement, dynamic masking, AdamW with linear warmup and decay.
 */
import { ConfigError } from "../errors.ts";
import type { Activation } from "../tensor/ops/elementwise.ts";
import { checkLoopConfig, mergeConfig, readConfigFile } from "./config.ts";
import { BERT_MASKING, type MaskingOptions, type SeparatorMode } from "./mlm-data.ts";
import type { OptimizerSettings } from "./optim.ts";
import type { ScheduleSettings } from "./schedule.ts";

/** Everything a pretraining run needs. Paths are relative to the working directory. */
export interface PretrainConfig {
  /**
   * Continue from this folder's weights (a BertForMaskedLM folder, or any BERT folder: its head is then new), with
   * its vocabulary, tokenizer and sizes: domain- or task-adaptive pretraining. `vocab` and `model` sizes are ignored.
   */
  initFrom?: string;
  data: {
    /** Plain-text files: one sentence per line, documents separated by blank lines. */
    text: string[];
    /** Held-out text files; without them, `heldOutFraction` of the documents (chosen by the seed) are held out. */
    heldOutText?: string[];
    heldOutFraction: number;
  };
  /** The vocabulary: `file` (a vocab.txt used as is) or a compact one cut from `base` by the training text. */
  vocab: { file?: string; base?: string; minFrequency?: number; maxSize?: number };
  /** `maxLength`: the packed sequences' length in tokens, [CLS] and [SEP]s included. */
  tokenizer: { doLowerCase: boolean; maxLength: number };
  /** Where [SEP] goes between packed sentences: after each sentence, or after each document. */
  packing: { separator: SeparatorMode };
  masking: MaskingOptions;
  /** A plain BERT (learned positions, post-LN, embedding LayerNorm, GELU); `maxPositions` defaults to maxLength. */
  model: {
    dModel: number; heads: number; dFF: number; numLayers: number; maxPositions?: number; activation: Activation;
    dropout: number; layerNormEps: number; initializerRange: number;
  };
  optimizer: OptimizerSettings;
  schedule: ScheduleSettings;
  batchSize: number;
  epochs: number;
  seed: number;
  clipNorm: number;
  /** Decay of an exponential moving average of the weights, used for held-out evaluation and `best/`; 0: off. */
  ema: number;
  /** Stop after this many epochs without a lower held-out loss; 0 never stops early. */
  patience: number;
  saveEvery: number;
  maxSteps: number;
  out: string;
}

/** A small BERT, pretrainable on a 2-core machine in well under an hour per million words. */
const DEFAULT_PRETRAIN_CONFIG: PretrainConfig = {
  data: { text: [], heldOutFraction: 0.01 },
  vocab: { base: "models/bert-tiny-sst2-encoder/vocab.txt", minFrequency: 1 },
  tokenizer: { doLowerCase: true, maxLength: 128 },
  packing: { separator: "document" },
  masking: { ...BERT_MASKING },
  model: { dModel: 128, heads: 4, dFF: 512, numLayers: 2, activation: "gelu", dropout: 0.1, layerNormEps: 1e-12, initializerRange: 0.02 },
  optimizer: { name: "adamw", lr: 5e-4, weightDecay: 0.01 },
  schedule: { name: "linear", warmup: 0, warmupRatio: 0.06 },
  batchSize: 32,
  epochs: 10,
  seed: 1,
  clipNorm: 1,
  ema: 0,
  patience: 0,
  saveEvery: 500,
  maxSteps: 0,
  out: "runs/mlm",
};

function check(condition: boolean, message: string): void {
  if (!condition) throw new ConfigError(`pretrain config: ${message}`);
}

/** Reads a pretraining config file (its unknown top-level fields are refused). */
export function readPretrainConfigFile(path: string): unknown {
  return readConfigFile(path, [...Object.keys(DEFAULT_PRETRAIN_CONFIG), "initFrom"]);
}

/** Defaults ← file ← overrides, then checked; every refusal names the field. */
export function resolvePretrainConfig(...layers: unknown[]): PretrainConfig {
  const c = layers.reduce<PretrainConfig>((acc, layer) => mergeConfig(acc, layer), DEFAULT_PRETRAIN_CONFIG);
  check(Array.isArray(c.data.text) && c.data.text.length > 0 && c.data.text.every((f) => typeof f === "string"), "no text: give --text FILE… or a --config whose data.text lists files");
  check(c.data.heldOutFraction >= 0 && c.data.heldOutFraction < 1, `data.heldOutFraction must be in [0, 1), got ${c.data.heldOutFraction}`);
  check(c.vocab.file !== undefined || c.vocab.base !== undefined, "vocab needs a file or a base vocabulary to cut a compact one from");
  check(Number.isInteger(c.tokenizer.maxLength) && c.tokenizer.maxLength >= 8, `tokenizer.maxLength must be an integer ≥ 8, got ${c.tokenizer.maxLength}`);
  check(["sentence", "document"].includes(c.packing.separator), `packing.separator must be sentence or document, got ${c.packing.separator}`);
  const m = c.masking;
  check(m.probability > 0 && m.probability < 1, `masking.probability must be in (0, 1), got ${m.probability}`);
  check(m.maskFraction >= 0 && m.randomFraction >= 0 && m.maskFraction + m.randomFraction <= 1, "masking.maskFraction and randomFraction must be ≥ 0 and sum to at most 1");
  const model = c.model;
  for (const key of ["dModel", "heads", "dFF", "numLayers"] as const) {
    check(Number.isInteger(model[key]) && model[key] >= 1, `model.${key} must be a positive integer, got ${model[key]}`);
  }
  check(model.dModel % model.heads === 0, `model.dModel ${model.dModel} must be divisible by model.heads ${model.heads} (d_k = d_model / h)`);
  const positions = model.maxPositions ?? c.tokenizer.maxLength;
  check(positions >= c.tokenizer.maxLength, `model.maxPositions ${positions} is below tokenizer.maxLength ${c.tokenizer.maxLength}`);
  check(model.dropout >= 0 && model.dropout < 1, `model.dropout must be in [0, 1), got ${model.dropout}`);
  checkLoopConfig(c, check);
  return c;
}
