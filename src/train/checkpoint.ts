/**
 * tsformer checkpoints: one folder holding
 *   config.json        architecture, labels, tokenizer settings (format "tsformer", version 1)
 *   model.safetensors  the parameters, F32, under PyTorch-style names (see src/io/names.ts)
 *   vocab.txt          the WordPiece vocabulary, line i = token id i
 * and, for checkpoints a training run can resume from, trainer_state.json and optimizer.safetensors.
 * Saving writes a complete sibling folder, fsyncs it and renames it into place: a crash at any point leaves the
 * previous checkpoint or the new one, never a mix (see src/io/atomic.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CheckpointError, ConfigError } from "../errors.ts";
import { writeDirectoryAtomic } from "../io/atomic.ts";
import { loadIntoModule } from "../io/load.ts";
import { type StoredTensor, parseSafetensors, serializeSafetensors } from "../io/safetensors.ts";
import { toStoredInputs } from "../io/state.ts";
import { type ClassifierConfig, EncoderClassifier } from "../models/classifier.ts";
import { encoderConfig, type EncoderModelConfig } from "../nn/model.ts";
import { BertTokenizer } from "../text/wordpiece.ts";
import { Vocabulary } from "../text/vocab.ts";

/** How text is turned into ids for this model. */
export interface TokenizerSettings {
  doLowerCase: boolean;
  stripAccents: boolean | null;
  /** Longest input in tokens, [CLS] and [SEP] included; longer texts are truncated. */
  maxLength: number;
}

/** The contents of a classifier checkpoint's config.json. */
export interface CheckpointConfig {
  format: "tsformer";
  version: 1;
  architecture: "EncoderClassifier";
  classifier: ClassifierConfig;
  tokenizer: TokenizerSettings;
  /** The labels as written in data files, when they differ from the display names in `classifier.labels`. */
  dataLabels?: string[];
}

/** A loaded classifier with its tokenizer. */
export interface LoadedClassifier {
  model: EncoderClassifier;
  tokenizer: BertTokenizer;
  config: CheckpointConfig;
  dir: string;
}

/** The files of a checkpoint folder, ready to write (extra files: the trainer's state). */
export function checkpointFiles(model: EncoderClassifier, vocab: Vocabulary, tokenizer: TokenizerSettings,
  extra: Record<string, Uint8Array | string> = {}, dataLabels?: string[]): Record<string, Uint8Array | string> {
  const config: CheckpointConfig = {
    format: "tsformer", version: 1, architecture: "EncoderClassifier", classifier: model.classifierConfig, tokenizer,
    ...(dataLabels ? { dataLabels } : {}),
  };
  return {
    "config.json": `${JSON.stringify(config, null, 2)}\n`,
    "model.safetensors": serializeSafetensors(toStoredInputs(model.stateDict()), { format: "pt", producer: "tsformer" }),
    "vocab.txt": vocab.toText(),
    ...extra,
  };
}

/** Saves a classifier checkpoint atomically. */
export async function saveCheckpoint(dir: string, model: EncoderClassifier, vocab: Vocabulary, tokenizer: TokenizerSettings,
  extra: Record<string, Uint8Array | string> = {}, dataLabels?: string[]): Promise<void> {
  await writeDirectoryAtomic(dir, checkpointFiles(model, vocab, tokenizer, extra, dataLabels));
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new CheckpointError(`${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : `not valid JSON (${(e as Error).message})`}`);
  }
}

/** Reads and checks a checkpoint's config.json. */
function readCheckpointConfig(dir: string): CheckpointConfig {
  const path = join(dir, "config.json");
  const json = readJson(path);
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new CheckpointError(`${path}: expected a JSON object`);
  const raw = json as Partial<CheckpointConfig> & Record<string, unknown>;
  if (raw.format !== "tsformer") {
    const hint = raw.model_type !== undefined ? " (a Hugging Face config: load it with --model as a BERT folder)" : "";
    throw new CheckpointError(`${path}: not a tsformer checkpoint (field "format" is ${JSON.stringify(raw.format)})${hint}`);
  }
  if (raw.version !== 1) throw new CheckpointError(`${path}: field "version" ${JSON.stringify(raw.version)} is not supported (expected 1)`);
  if (raw.architecture !== "EncoderClassifier" || !raw.classifier || !raw.tokenizer) {
    throw new CheckpointError(`${path}: expected "architecture": "EncoderClassifier" with "classifier" and "tokenizer" fields`);
  }
  const c = raw.classifier;
  if (!Array.isArray(c.labels) || c.labels.length < 1 || !c.labels.every((l) => typeof l === "string")) {
    throw new CheckpointError(`${path}: field "classifier.labels" must be a non-empty list of names`);
  }
  if (raw.dataLabels !== undefined && (!Array.isArray(raw.dataLabels) || raw.dataLabels.length !== c.labels.length)) {
    throw new CheckpointError(`${path}: field "dataLabels" must list one data label per class`);
  }
  let encoder: EncoderModelConfig;
  try {
    encoder = encoderConfig(c.encoder);
  } catch (e) {
    throw new ConfigError(`${path}: ${(e as Error).message}`);
  }
  return { ...(raw as CheckpointConfig), classifier: { ...c, encoder } };
}

/** The tokenizer a checkpoint's settings describe, over its vocabulary. */
export function tokenizerFor(vocab: Vocabulary, settings: TokenizerSettings): BertTokenizer {
  return new BertTokenizer(vocab, { doLowerCase: settings.doLowerCase, stripAccents: settings.stripAccents });
}

/** Loads a classifier checkpoint folder (model, tokenizer, config); errors name the file and what is wrong. */
export function loadCheckpoint(dir: string, options: { allowNonFinite?: boolean } = {}): LoadedClassifier {
  if (!existsSync(dir)) throw new CheckpointError(`${dir}: no such checkpoint folder`);
  const config = readCheckpointConfig(dir);
  const vocabPath = join(dir, "vocab.txt");
  if (!existsSync(vocabPath)) throw new CheckpointError(`${vocabPath}: missing (a checkpoint needs its vocabulary)`);
  const vocab = Vocabulary.fromFile(vocabPath);
  if (vocab.size !== config.classifier.encoder.vocabSize) {
    throw new CheckpointError(`${vocabPath}: ${vocab.size} tokens, but config.json says vocabSize ${config.classifier.encoder.vocabSize}`);
  }
  const model = new EncoderClassifier(config.classifier);
  const weights = join(dir, "model.safetensors");
  loadIntoModule(model, readTensors(weights), { rename: (n) => n, source: weights, allowNonFinite: options.allowNonFinite });
  return { model, tokenizer: tokenizerFor(vocab, config.tokenizer), config, dir };
}

/** The tensors of a safetensors file (synchronously: checkpoints are small enough). */
export function readTensors(path: string): Map<string, StoredTensor> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new CheckpointError(`${path}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseSafetensors(bytes, path).tensors;
}
