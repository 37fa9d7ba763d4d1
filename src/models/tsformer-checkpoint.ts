/**
 * Reading tsformer's own classifier checkpoints (config.json `"format": "tsformer"`, e.g. models/notes-encoder): one
 * folder holding
 *   config.json        architecture, labels, tokenizer settings (format "tsformer", version 1)
 *   model.safetensors  the parameters, F32, under PyTorch-style names (see src/io/names.ts)
 *   vocab.txt          the WordPiece vocabulary, line i = token id i
 * (writing them, and the trainer's state files, is src/train/checkpoint.ts). Every size in config.json is checked
 * against the weights' header before the model is allocated.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CheckpointError, ConfigError } from "../errors.ts";
import { loadIntoModule } from "../io/load.ts";
import { isFloatDType, openSafetensorsFileSync, readAllTensors } from "../io/safetensors.ts";
import { encoderConfig, type EncoderModelConfig } from "../nn/model.ts";
import { BertTokenizer } from "../text/wordpiece.ts";
import { Vocabulary } from "../text/vocab.ts";
import { type ClassifierConfig, EncoderClassifier } from "./classifier.ts";
import { readJsonObject } from "./json-file.ts";
import { type SizeFields, type StoredShape, checkComputedPositions, checkLayerCount, checkSizeBounds, compareShapes, encoderParameterShapes } from "./param-shapes.ts";

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

/** The config.json fields of the encoder's sizes, for messages. */
const FIELDS: SizeFields = {
  vocabSize: "classifier.encoder.vocabSize", dModel: "classifier.encoder.dModel", heads: "classifier.encoder.heads",
  dFF: "classifier.encoder.dFF", numLayers: "classifier.encoder.numLayers", maxPositions: "classifier.encoder.maxPositions",
  typeVocabSize: "classifier.encoder.typeVocabSize",
};

/** Reads and checks a checkpoint's config.json. */
function readCheckpointConfig(dir: string): CheckpointConfig {
  const path = join(dir, "config.json");
  const raw = readJsonObject(path, "a tsformer checkpoint folder needs the config.json that training writes") as Partial<CheckpointConfig> & Record<string, unknown>;
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
  checkSizeBounds(encoder, FIELDS, path);
  if (encoder.attention?.headDim === undefined && encoder.dModel % encoder.heads !== 0) {
    throw new ConfigError(`${path}: ${FIELDS.dModel} ${encoder.dModel} is not a multiple of ${FIELDS.heads} ${encoder.heads}`);
  }
  return { ...(raw as CheckpointConfig), classifier: { ...c, encoder } };
}

/** The tokenizer a checkpoint's settings describe, over its vocabulary. */
function tokenizerFor(vocab: Vocabulary, settings: TokenizerSettings): BertTokenizer {
  return new BertTokenizer(vocab, { doLowerCase: settings.doLowerCase, stripAccents: settings.stripAccents });
}

/** Compares config.json's sizes with the shapes the weights' header declares; nothing of the model is allocated yet. */
function checkWeightsAgainstConfig(config: ClassifierConfig, stored: ReadonlyMap<string, StoredShape>, source: string, configPath: string): void {
  const e = config.encoder;
  checkLayerCount(e.numLayers, FIELDS.numLayers, stored, source, configPath);
  const expected = encoderParameterShapes(e, FIELDS);
  const labels = { text: `classifier.labels (${config.labels.length} labels)`, size: config.labels.length };
  const d = { text: `${FIELDS.dModel} ${e.dModel}`, size: e.dModel };
  expected.set("classifier.weight", [labels, d]);
  expected.set("classifier.bias", [labels]);
  const missing = compareShapes(expected, stored, source, configPath, (ours, file) =>
    new CheckpointError(`${source}: tensor '${file}' is not part of the model ${configPath} describes; the weights and config.json must come from the same checkpoint`));
  if (missing.length > 0) {
    throw new CheckpointError(`${source}: missing ${missing.length} tensor(s) the model needs: ${missing.slice(0, 5).map((n) => `'${n}'`).join(", ")}${missing.length > 5 ? " …" : ""}`);
  }
  checkComputedPositions(e, FIELDS.maxPositions, configPath); // after the sizes it depends on are confirmed by the file
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
  const weights = join(dir, "model.safetensors");
  const view = openSafetensorsFileSync(weights);
  // Buffers (integer tensors) are not parameters; loadIntoModule names them if the model has a parameter of that name.
  const floats = [...view.infos.values()].filter((t) => isFloatDType(t.dtype));
  checkWeightsAgainstConfig(config.classifier, new Map(floats.map((t) => [t.name, { file: t.name, shape: t.shape }])), weights, join(dir, "config.json"));
  const model = new EncoderClassifier(config.classifier);
  loadIntoModule(model, readAllTensors(view), { rename: (n) => n, source: weights, allowNonFinite: options.allowNonFinite });
  return { model, tokenizer: tokenizerFor(vocab, config.tokenizer), config, dir };
}
