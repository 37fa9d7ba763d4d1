/**
 * Loading a Hugging Face BERT folder, as `save_pretrained` writes it: config.json, model.safetensors (or the
 * shards of model.safetensors.index.json), vocab.txt or tokenizer.json, and tokenizer_config.json. BertModel,
 * BertForSequenceClassification and BertForMaskedLM checkpoints load; so do folders written by `exportHfFolder`
 * (their `"tsformer"` object) and tsformer training checkpoints. Files are untrusted: config.json is checked
 * against the weights' header before anything is allocated (bert-weights.ts), and every refusal is one line
 * naming the file, the tensor or the config field, and what to do.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { CheckpointError } from "../errors.ts";
import { recoverDirectory } from "../io/atomic.ts";
import { type SafetensorsView, openSafetensorsFile, openSafetensorsFileSync } from "../io/safetensors.ts";
import { SHARD_INDEX_FILE, openShardedSafetensors, openShardedSafetensorsSync } from "../io/sharded.ts";
import type { BertTokenizer } from "../text/wordpiece.ts";
import { BertModel } from "./bert.ts";
import { type BertConfig, parseBertConfig } from "./bert-config.ts";
import { type BertTokenizerSettings, loadFolderTokenizer } from "./bert-tokenizer.ts";
import { type BertArchitecture, type ConfigFile, buildBertModel, planBertWeights } from "./bert-weights.ts";
import { bertConfigFor } from "./export.ts";
import { readJsonObject } from "./json-file.ts";
import { loadCheckpoint } from "./tsformer-checkpoint.ts";

export type { BertArchitecture } from "./bert-weights.ts";
export type { BertTokenizerSettings } from "./bert-tokenizer.ts";

/** A loaded model folder. */
export interface LoadedBert {
  model: BertModel;
  tokenizer: BertTokenizer;
  config: BertConfig;
  dir: string;
  /** The tokenizer's settings, as read (what `exportHfFolder` writes back). */
  tokenizerSettings: BertTokenizerSettings;
  /** Longest input in tokens, [CLS]/[SEP] included: max_position_embeddings, or tokenizer_config's model_max_length when smaller. */
  maxLength: number;
  /** What the checkpoint held (a tsformer training checkpoint is a sequence classifier). */
  architecture: BertArchitecture;
  /** One line each: what the loader created or left out (e.g. a new pooler for a BertForMaskedLM checkpoint). */
  notes: string[];
}

/** Options of `loadBert`. */
export interface LoadBertOptions {
  /** Accept NaN and ±Infinity in the weights (default false: refused, naming the tensor). */
  allowNonFinite?: boolean;
  /**
   * Load the masked-LM head (`cls.predictions.*`, decoder tied to the word embeddings) when the checkpoint has one
   * (default true). False ignores `cls.*`, e.g. to fine-tune a classifier from a BertForMaskedLM folder.
   */
  mlmHead?: boolean;
}

/** Where the weights are. */
type WeightsLocation = { kind: "single" | "sharded"; path: string };

/** Checks the folder exists and is a folder. */
function checkFolder(dir: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new CheckpointError(`${dir}: no such folder; a BERT model folder holds config.json, model.safetensors and vocab.txt (what save_pretrained writes)`);
  }
  if (!isDir) throw new CheckpointError(`${dir}: is a file, not a folder; pass the folder that holds config.json, model.safetensors and vocab.txt`);
}

/** The folder's config.json, as an object (checked field by field later). */
function readConfig(dir: string): ConfigFile {
  const path = join(dir, "config.json");
  return { path, raw: readJsonObject(path, "a BERT model folder needs the config.json that save_pretrained writes next to the weights") };
}

/** The Python line that converts a folder's weights to safetensors, for the class its config names. */
function convertCommand(dir: string, config: ConfigFile, fromTf = false): string {
  const arch = Array.isArray(config.raw.architectures) ? config.raw.architectures[0] : undefined;
  const cls = typeof arch === "string" && /^[A-Za-z]\w*$/.test(arch) ? arch : "AutoModel";
  const d = dir.replaceAll("'", "\\'");
  return `python -c "from transformers import ${cls}; ${cls}.from_pretrained('${d}'${fromTf ? ", from_tf=True" : ""}).save_pretrained('${d}', safe_serialization=True)"`;
}

/** Finds the weights: model.safetensors, else the shard index; pickle and TF-only folders are refused with the fix. */
function locateWeights(dir: string, config: ConfigFile): WeightsLocation {
  const single = join(dir, "model.safetensors");
  if (existsSync(single)) return { kind: "single", path: single };
  const index = join(dir, SHARD_INDEX_FILE);
  if (existsSync(index)) return { kind: "sharded", path: index };
  if (existsSync(join(dir, "pytorch_model.bin")) || existsSync(join(dir, "pytorch_model.bin.index.json"))) {
    throw new CheckpointError(`${dir}: has pytorch_model.bin but no model.safetensors; tsformer does not read pickle files because unpickling runs arbitrary code. Convert it once with: ${convertCommand(dir, config)}`);
  }
  if (existsSync(join(dir, "tf_model.h5"))) {
    throw new CheckpointError(`${dir}: has only TensorFlow weights (tf_model.h5); convert them to model.safetensors with: ${convertCommand(dir, config, true)}`);
  }
  throw new CheckpointError(`${dir}: no model.safetensors (nor ${SHARD_INDEX_FILE}); put the checkpoint's weights in the folder (download model.safetensors, or save_pretrained(..., safe_serialization=True))`);
}

/** A read failure made actionable: a truncated file says so, a missing shard says the index names it. */
function explainReadError(e: unknown, where: WeightsLocation): never {
  if (!(e instanceof CheckpointError)) throw e;
  if (/runs past the end of the file|too short for the 8-byte header/.test(e.message)) {
    throw new CheckpointError(`${e.message}; the file is truncated (an interrupted download or copy?): download or save it again`, { cause: e });
  }
  if (where.kind === "sharded" && /\(ENOENT\)/.test(e.message)) {
    throw new CheckpointError(`${e.message}; ${SHARD_INDEX_FILE} names this shard: download every shard it lists`, { cause: e });
  }
  throw e;
}

/** Opens the weights (headers checked, tensors decoded on demand) synchronously: the fixture runner and the browser are synchronous. */
function openWeightsSync(where: WeightsLocation): SafetensorsView {
  try {
    return where.kind === "single" ? openSafetensorsFileSync(where.path) : openShardedSafetensorsSync(dirname(where.path));
  } catch (e) {
    explainReadError(e, where);
  }
}

/** Opens the weights without blocking (for the CLI and library users). */
async function openWeights(where: WeightsLocation): Promise<SafetensorsView> {
  try {
    return where.kind === "single" ? await openSafetensorsFile(where.path) : await openShardedSafetensors(dirname(where.path));
  } catch (e) {
    explainReadError(e, where);
  }
}

/** Checks the weights' header against config.json, then builds the model and the tokenizer. */
function assemble(dir: string, config: ConfigFile, view: SafetensorsView, source: string, options: LoadBertOptions): LoadedBert {
  const plan = planBertWeights(parseBertConfig(config.raw, config.path), config, view.infos, source, options.mlmHead ?? true);
  const model = buildBertModel(plan, view, source, options.allowNonFinite);
  const { tokenizer, settings, modelMaxLength } = loadFolderTokenizer(dir, plan.config);
  const maxLength = Math.min(plan.config.maxPositionEmbeddings, modelMaxLength ?? Infinity);
  return { model, tokenizer, config: plan.config, dir, tokenizerSettings: settings, maxLength, architecture: plan.architecture, notes: plan.notes };
}

/** A tsformer training checkpoint (config.json `"format": "tsformer"`), as the equivalent BertModel with a `tsformer` object. */
function fromTrainingCheckpoint(dir: string, options: LoadBertOptions): LoadedBert {
  const ckpt = loadCheckpoint(dir, options);
  const config = bertConfigFor(ckpt.model);
  const model = new BertModel(config);
  model.loadStateDict(ckpt.model.stateDict(), { source: join(dir, "model.safetensors") });
  const t = ckpt.config.tokenizer;
  const settings = { doLowerCase: t.doLowerCase, stripAccents: t.stripAccents, tokenizeChineseChars: ckpt.tokenizer.options.tokenizeChineseChars };
  return {
    model, tokenizer: ckpt.tokenizer, config, dir, tokenizerSettings: settings, maxLength: Math.min(t.maxLength, config.maxPositionEmbeddings),
    architecture: "BertForSequenceClassification", notes: [],
  };
}

/**
 * Loads a Hugging Face BERT folder (BertModel; BertForSequenceClassification with its `classifier.*` head;
 * BertForMaskedLM with its `cls.predictions.*` head, unless `mlmHead: false`), a folder written by
 * `exportHfFolder`, or a tsformer training checkpoint. A checkpoint without a pooler gets a new one (see `notes`).
 * Throws CheckpointError/ConfigError/ShapeError with one-line messages naming the file, tensor or field.
 */
export async function loadBert(dir: string, options: LoadBertOptions = {}): Promise<LoadedBert> {
  // A folder left half-swapped by an interrupted exportHfFolder is repaired first; any other oddity is left to checkFolder.
  await recoverDirectory(dir).catch(() => undefined);
  checkFolder(dir);
  const config = readConfig(dir);
  if (config.raw.format === "tsformer") return fromTrainingCheckpoint(dir, options);
  const where = locateWeights(dir, config);
  return assemble(dir, config, await openWeights(where), where.path, options);
}

/** `loadBert`, synchronously (for the fixture runner); does not repair an interrupted export. */
export function loadBertSync(dir: string, options: LoadBertOptions = {}): LoadedBert {
  checkFolder(dir);
  const config = readConfig(dir);
  if (config.raw.format === "tsformer") return fromTrainingCheckpoint(dir, options);
  const where = locateWeights(dir, config);
  return assemble(dir, config, openWeightsSync(where), where.path, options);
}
