/**
 * What a training run starts from: the model, its vocabulary and tokenizer, and the class of each example.
 * From scratch: tsformer's encoder with a compact vocabulary cut from the training texts. With `initFrom`: the
 * folder's BERT, vocabulary and tokenizer, kept exactly (see fine-tune.ts). Both go through the one folder loader.
 */
import { join } from "node:path";
import { CheckpointError } from "../errors.ts";
import { BERT_INITIALIZER_RANGE, initBertWeights } from "../models/bert.ts";
import { openSafetensorsFile } from "../io/safetensors.ts";
import { type LoadedBert, loadBert } from "../models/load-bert.ts";
import { EncoderClassifier } from "../models/classifier.ts";
import { type ExportTokenizerSettings, hfBertParameters } from "../models/export.ts";
import { type TransformerEncoderModel, encoderConfig } from "../nn/model.ts";
import type { Rng } from "../tensor/random.ts";
import { compactVocabulary } from "../text/compact-vocab.ts";
import { Vocabulary } from "../text/vocab.ts";
import { BertTokenizer } from "../text/wordpiece.ts";
import type { TrainConfig } from "./config.ts";
import type { Dataset } from "./data.ts";
import type { ClassifierModel } from "./evaluate.ts";
import { checkAgainstFolder, chooseHead, modelFromFolder } from "./fine-tune.ts";

/** The model a run trains, with everything needed to feed it and save it. */
export interface RunSetup {
  model: ClassifierModel & TransformerEncoderModel;
  vocab: Vocabulary;
  tokenizer: BertTokenizer;
  /** Tokenizer settings as saved with the model (tokenizer_config.json). */
  tokenizerSettings: ExportTokenizerSettings & { maxLength: number };
  /** Class names, index = class id (the head's order). */
  labels: string[];
  /** A training-set label index → the class id of the head. */
  classOf: (dataLabel: number) => number;
  /** One line each: what was decided (head kept or new, pooler created, settings ignored). */
  notes: string[];
}

/** The names the data's labels are shown under (config.data.labelNames renames them, e.g. SST-2's 0 → negative). */
export function displayLabels(config: TrainConfig, trainSet: Dataset): string[] {
  const names = config.data.labelNames ?? {};
  return trainSet.labels.map((l) => names[l] ?? l);
}

/** tsformer's own encoder with a new head, from random weights (resuming: the vocabulary saved in `lastDir`). */
export function scratchSetup(config: TrainConfig, trainSet: Dataset, rng: Rng, lastDir: string | null): RunSetup {
  const doLowerCase = config.tokenizer.doLowerCase ?? true;
  const maxLength = config.tokenizer.maxLength as number; // required from scratch (resolveTrainConfig checks it)
  const vocab = lastDir ? Vocabulary.fromFile(join(lastDir, "vocab.txt"))
    : config.vocab.file ? Vocabulary.fromFile(config.vocab.file)
    : compactVocabulary(Vocabulary.fromFile(config.vocab.base!), trainSet.examples.map((e) => e.text), {
      doLowerCase, minFrequency: config.vocab.minFrequency, maxSize: config.vocab.maxSize,
    });
  const { pooling, classifierDropout, ...encoderOptions } = config.model;
  const encoder = encoderConfig({
    ...encoderOptions, vocabSize: vocab.size, padId: vocab.padId,
    maxPositions: Math.max(encoderOptions.maxPositions ?? 0, maxLength),
  });
  const labels = displayLabels(config, trainSet);
  const model = new EncoderClassifier({ encoder, pooling: pooling ?? "mean", labels, classifierDropout }, rng);
  return {
    model, vocab, tokenizer: new BertTokenizer(vocab, { doLowerCase, stripAccents: null }),
    tokenizerSettings: { doLowerCase, stripAccents: null, tokenizeChineseChars: true, maxLength },
    labels, classOf: (i) => i, notes: [],
  };
}

/** The folder's BERT with the head kept or made new; architecture, vocabulary and tokenizer as the folder has them. */
export async function fineTuneSetup(config: TrainConfig, trainSet: Dataset, rng: Rng, pretrained?: LoadedBert): Promise<RunSetup> {
  const loaded: LoadedBert = pretrained ?? await loadBert(config.initFrom as string, { mlmHead: false });
  const notes = [...loaded.notes, ...checkAgainstFolder(config, loaded)];
  const dataLabels = displayLabels(config, trainSet);
  const head = chooseHead(config.head, loaded, dataLabels, config.data.train, config.model.pooling);
  notes.push(head.note);
  const model = modelFromFolder(loaded, head, config.model.dropout, rng, config.model.pooling);
  if (config.reinit) {
    initBertWeights(model, rng);
    notes.push(`reinit: the folder's architecture, vocabulary and tokenizer with BERT's random initialisation (N(0, ${model.bertConfig.initializerRange ?? BERT_INITIALIZER_RANGE}²)), not its weights`);
  }
  const maxLength = config.tokenizer.maxLength ?? loaded.maxLength;
  return {
    model, vocab: loaded.tokenizer.vocab, tokenizer: loaded.tokenizer,
    tokenizerSettings: { ...loaded.tokenizerSettings, maxLength },
    labels: head.labels, classOf: (i) => head.classOf[i], notes,
  };
}

/**
 * The weights `last/` saved copied straight into the run's model: every parameter is read under the name
 * `hfFolderFiles` wrote it as, and names, shapes and tensor count must match exactly (no second model is built).
 */
export async function restoreWeights(model: TransformerEncoderModel, lastDir: string): Promise<void> {
  const path = join(lastDir, "model.safetensors");
  const view = await openSafetensorsFile(path);
  const expected = hfBertParameters(model);
  const extra = [...view.infos.keys()].filter((n) => !expected.some((e) => e.hf === n));
  if (extra.length > 0) throw new CheckpointError(`${path}: weights do not match the run's model: unexpected ${extra.map((n) => `'${n}'`).join(", ")}`);
  view.withOpenFile(() => {
    for (const { hf, param: t } of expected) {
      const info = view.infos.get(hf);
      if (!info) throw new CheckpointError(`${path}: weights do not match the run's model: '${hf}' is missing`);
      if (info.shape.join() !== t.shape.join()) throw new CheckpointError(`${path}: '${hf}' is (${info.shape.join(", ")}), the run's model has (${t.shape.join(", ")})`);
      view.readInto(hf, t.data);
    }
  });
}
