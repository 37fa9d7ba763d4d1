/**
 * The training configuration: a JSON file (`tsformer train --config FILE`) with command-line overrides, checked in
 * one place. Two starting points: random weights (the defaults below: tsformer's own encoder, the shipped SST-2
 * recipe) or a pretrained folder (`initFrom`: the usual BERT fine-tuning recipe, architecture from the folder).
 */
import { readFileSync } from "node:fs";
import { ConfigError } from "../errors.ts";
import type { Pooling } from "../models/pooling.ts";
import type { EncoderModelConfig } from "../nn/model.ts";
import type { DataFormat } from "./data.ts";
import type { DistillSettings } from "./distill.ts";
import type { OptimizerSettings } from "./optim.ts";
import type { ScheduleSettings } from "./schedule.ts";

/** Everything a training run needs. Paths are relative to the working directory. */
export interface TrainConfig {
  /** `labelNames` renames the labels of the data files for display (SST-2: "0" → "negative"). */
  data: { train: string; dev?: string; format?: DataFormat; labelNames?: Record<string, string> };
  /**
   * A pretrained model folder to fine-tune (Hugging Face BERT folder or tsformer checkpoint). Its architecture,
   * vocabulary and tokenizer are kept; `model`, `vocab` and `tokenizer` may only restate them (or shorten maxLength).
   */
  initFrom?: string;
  /**
   * With `initFrom`: keep the folder's architecture, vocabulary and tokenizer but start from BERT's random
   * initialisation instead of its weights — the same model trained from scratch, the ablation of pretraining.
   */
  reinit: boolean;
  /** The vocabulary: `file` (a vocab.txt used as is) or a compact one cut from `base` by the training texts. */
  vocab: { file?: string; base?: string; minFrequency?: number; maxSize?: number };
  /** With `initFrom` both fields default to the folder's (lower-casing, model_max_length / position table). */
  tokenizer: { doLowerCase?: boolean; maxLength?: number };
  /** With `initFrom` every field defaults to the folder's; only dropout and classifierDropout may differ. */
  model: Partial<Omit<EncoderModelConfig, "vocabSize">> & { pooling?: Pooling; classifierDropout?: number };
  optimizer: OptimizerSettings;
  /** `warmupRatio` (a fraction of all steps), when set, replaces `warmup` (a step count). */
  schedule: ScheduleSettings;
  /** Parameters left exactly as loaded: the embeddings, and the bottom `layers` encoder layers. */
  freeze: { embeddings: boolean; layers: number };
  /**
   * Layer-wise learning-rate decay (Clark et al. 2020, ELECTRA): the classifier head and pooler train at lr, encoder
   * layer i (0-based, of L) at lr·decay^(L−i), the embeddings at lr·decay^(L+1). 1 turns it off.
   */
  layerDecay: number;
  /**
   * The classification head of an `initFrom` folder: "auto" keeps it when the data's labels are among its labels,
   * else makes a new one; "keep" keeps it (data labels it does not know are an error); "new" always makes a new one.
   */
  head: "auto" | "keep" | "new";
  batchSize: number;
  epochs: number;
  seed: number;
  /** Global gradient-norm clipping; 0 turns it off. */
  clipNorm: number;
  labelSmoothing: number;
  /**
   * Adversarial training on the word embeddings (Miyato et al. 2017, adversarial.ts): the size ε of the perturbation
   * as a fraction of each sequence's word-vector norm; 0 turns it off. A step then costs about 1.5 times as much.
   */
  adversarial: number;
  /**
   * Knowledge distillation (distill.ts): train also on the averaged softened probabilities of these teacher
   * classifiers, with weight 1 − alpha; no teachers turns it off.
   */
  distill: DistillSettings;
  /**
   * Keep an exponential moving average of the weights with this decay (weight-average.ts; about 1 / (1 − ema) steps
   * of memory) and evaluate and keep `best/` with it; 0 turns it off.
   */
  ema: number;
  /** Stop after this many epochs without a better dev accuracy; 0 never stops early. */
  patience: number;
  /** Also save a resumable checkpoint every this many steps (0: at the end of each epoch only). */
  saveEvery: number;
  /** Stop after this many optimizer steps in all (0: no limit). */
  maxSteps: number;
  /** Where checkpoints (`best/`, `last/`) and `metrics.jsonl` go. */
  out: string;
}

/** The defaults (the data must be given: a file or `--train`); configs/sst2.json is the shipped model's recipe. */
const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  data: { train: "", format: "auto" },
  vocab: { base: "models/bert-tiny-sst2-encoder/vocab.txt", minFrequency: 1 },
  tokenizer: { doLowerCase: true, maxLength: 64 },
  model: {
    dModel: 128, heads: 4, dFF: 256, numLayers: 2, maxPositions: 64, positional: "sinusoidal", scaleEmbedding: true,
    activation: "gelu", normFirst: false, layerNormEps: 1e-5, dropout: 0.1, pooling: "mean",
  },
  optimizer: { name: "adamw", lr: 1e-3, weightDecay: 0.01 },
  schedule: { name: "linear", warmup: 200 },
  batchSize: 32,
  epochs: 10,
  seed: 1,
  clipNorm: 1,
  labelSmoothing: 0,
  adversarial: 0,
  distill: { teachers: [], temperature: 2, alpha: 0.5 },
  ema: 0,
  patience: 3,
  saveEvery: 0,
  maxSteps: 0,
  out: "runs/sst2",
  freeze: { embeddings: false, layers: 0 },
  layerDecay: 1,
  head: "auto",
  reinit: false,
};

/**
 * The usual recipe for fine-tuning a pretrained BERT (Devlin et al. 2019; Mosbach et al. 2021): AdamW at 2e-5 with
 * weight decay 0.01 (never on biases or LayerNorm), linear decay after a 6 % warmup, 3 epochs, early stopping on
 * dev. Model, vocabulary and tokenizer are empty: they come from the folder (dropout from its config.json).
 */
const FINE_TUNE_DEFAULTS: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  vocab: {},
  tokenizer: {},
  model: {},
  optimizer: { name: "adamw", lr: 2e-5, weightDecay: 0.01 },
  schedule: { name: "linear", warmup: 0, warmupRatio: 0.06 },
  epochs: 3,
  patience: 1,
  out: "runs/fine-tune",
};

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep-merges `override` into `base` (objects merge, everything else replaces). */
export function mergeConfig<T>(base: T, override: unknown): T {
  if (!isObject(base) || !isObject(override)) return (override === undefined ? base : override) as T;
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = k in out ? mergeConfig(out[k], v) : v;
  return out as T;
}

/** Reads a JSON config file; top-level fields not in `known` are refused, so typos do not pass silently. */
export function readConfigFile(path: string, known: readonly string[]): Json {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ConfigError(`${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such config file" : `not valid JSON (${(e as Error).message})`}`);
  }
  if (!isObject(json)) throw new ConfigError(`${path}: expected a JSON object`);
  for (const key of Object.keys(json)) {
    if (!known.includes(key)) throw new ConfigError(`${path}: unknown field "${key}" (known: ${known.join(", ")})`);
  }
  return json;
}

/** Reads a training config file (`tsformer train --config`). */
export function readTrainConfigFile(path: string): unknown {
  return readConfigFile(path, [...Object.keys(DEFAULT_TRAIN_CONFIG), "initFrom"]);
}

/** The settings every training loop config has (train and pretrain), as `checkLoopConfig` checks them. */
export interface LoopConfigFields {
  batchSize: number;
  epochs: number;
  seed: number;
  optimizer: OptimizerSettings;
  schedule: ScheduleSettings;
  ema: number;
}

/** Checks the shared loop settings; `check` throws the caller's ConfigError with the message. */
export function checkLoopConfig(c: LoopConfigFields, check: (condition: boolean, message: string) => void): void {
  check(Number.isInteger(c.batchSize) && c.batchSize >= 1, `batchSize must be a positive integer, got ${c.batchSize}`);
  check(Number.isInteger(c.epochs) && c.epochs >= 1, `epochs must be a positive integer, got ${c.epochs}`);
  check(Number.isInteger(c.seed) && c.seed >= 0, `seed must be a non-negative integer, got ${c.seed}`);
  check(c.optimizer.lr > 0, `optimizer.lr must be > 0, got ${c.optimizer.lr}`);
  check(["adamw", "adam", "sgd"].includes(c.optimizer.name), `optimizer.name must be adamw, adam or sgd, got ${c.optimizer.name}`);
  check(["constant", "linear", "cosine", "noam"].includes(c.schedule.name), `schedule.name must be constant, linear, cosine or noam, got ${c.schedule.name}`);
  check(c.schedule.warmup >= 0, "schedule.warmup must be ≥ 0");
  const ratio = c.schedule.warmupRatio;
  check(ratio === undefined || (ratio >= 0 && ratio <= 1), `schedule.warmupRatio must be in [0, 1], got ${ratio}`);
  check(Number.isFinite(c.ema) && c.ema >= 0 && c.ema < 1, `ema must be a decay in [0, 1) (0: off), got ${c.ema}`);
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new ConfigError(`train config: ${message}`);
}

/** Defaults ← file ← overrides, then checked. A layer with `initFrom` switches the defaults to the fine-tuning recipe. */
export function resolveTrainConfig(...layers: unknown[]): TrainConfig {
  const fineTune = layers.some((l) => isObject(l) && typeof l.initFrom === "string" && l.initFrom !== "");
  const c = layers.reduce<TrainConfig>((acc, layer) => mergeConfig(acc, layer), fineTune ? FINE_TUNE_DEFAULTS : DEFAULT_TRAIN_CONFIG);
  check(typeof c.data.train === "string" && c.data.train.length > 0, "no training data: give --train FILE or a --config whose data.train names a file");
  checkLoopConfig(c, check);
  check(c.labelSmoothing >= 0 && c.labelSmoothing < 1, "labelSmoothing must be in [0, 1)");
  check(Number.isFinite(c.adversarial) && c.adversarial >= 0, `adversarial must be a number ≥ 0 (0: off), got ${c.adversarial}`);
  const { teachers, temperature, alpha } = c.distill;
  check(Array.isArray(teachers) && teachers.every((t) => typeof t === "string" && t !== ""), "distill.teachers must be a list of classifier folders");
  check(Number.isFinite(temperature) && temperature > 0, `distill.temperature must be > 0, got ${temperature}`);
  check(Number.isFinite(alpha) && alpha >= 0 && alpha <= 1, `distill.alpha must be in [0, 1], got ${alpha}`);
  const maxLength = c.tokenizer.maxLength;
  check(maxLength === undefined || (Number.isInteger(maxLength) && maxLength >= 3), "tokenizer.maxLength must be an integer ≥ 3");
  check(Number.isInteger(c.freeze.layers) && c.freeze.layers >= 0, `freeze.layers must be a non-negative integer, got ${c.freeze.layers}`);
  check(c.layerDecay > 0 && c.layerDecay <= 1, `layerDecay must be in (0, 1], got ${c.layerDecay}`);
  check(["auto", "keep", "new"].includes(c.head), `head must be auto, keep or new, got ${c.head}`);
  if (!fineTune) {
    check(maxLength !== undefined, "tokenizer.maxLength is required");
    check(c.model.pooling !== undefined && ["mean", "cls", "max"].includes(c.model.pooling), `model.pooling must be mean, cls or max, got ${c.model.pooling}`);
    check(c.vocab.file !== undefined || c.vocab.base !== undefined, "vocab needs a file or a base vocabulary to cut a compact one from");
    check(c.head === "auto", "head applies to --init-from only: a model trained from scratch always gets a new head");
    check(!c.reinit, "reinit applies to --init-from only: it takes the folder's architecture and starts from random weights");
  }
  return c;
}
