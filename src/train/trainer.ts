/**
 * `tsformer train`'s objective: a text classifier, from random weights (tsformer's encoder with a compact
 * vocabulary) or fine-tuning a pretrained folder (setup.ts), with length-bucketed batches, AdamW (or Adam, SGD) and
 * a warmup schedule, frozen parameters and layer-wise learning rates. The loop, checkpoints and exact resumption
 * are loop.ts's. `best/` and `last/` are Hugging Face BERT folders that `loadBert`, every `--model` command and
 * Python `transformers` read.
 */
import { join } from "node:path";
import { hfFolderFiles } from "../models/export.ts";
import type { LoadedBert } from "../models/load-bert.ts";
import { Rng } from "../tensor/random.ts";
import type { EncodedExample } from "./batching.ts";
import { ClassificationTask } from "./classification-task.ts";
import { type TrainConfig, resolveTrainConfig } from "./config.ts";
import { type Dataset, readDataset } from "./data.ts";
import { teacherFilesDigest, teacherTargets } from "./distill.ts";
import { encodeText } from "./evaluate.ts";
import { type LoopHooks, type LoopSummary, readTrainerState, runTraining } from "./loop.ts";
import { optimizerFromConfig } from "./optim.ts";
import { trainableParameters } from "./param-groups.ts";
import { scheduleFromConfig } from "./schedule.ts";
import { type RunSetup, fineTuneSetup, restoreWeights, scratchSetup } from "./setup.ts";

/** What happens when; every hook is optional. */
export interface TrainHooks extends LoopHooks {
  onStart?(info: {
    totalSteps: number; startStep: number; parameters: number; trainableParameters: number; vocabSize: number; examples: number;
    labels: string[]; notes: string[];
  }): void;
}

/** The outcome of a run. */
export interface TrainSummary extends LoopSummary {
  parameters: number;
}

/** What `fingerprint` covers, for the refusal of a resume with other settings. */
const RESUME_FIELDS = "data, vocabulary, model, optimizer, schedule, batch size, seed, epochs, --init-from, freezing, and the teachers' settings and files";

/** The parts of a config a resumed run must share with the original. */
function fingerprint(c: TrainConfig): string {
  const { data, vocab, tokenizer, model, optimizer, schedule, batchSize, seed, clipNorm, labelSmoothing, adversarial, epochs, initFrom, freeze, layerDecay, head, reinit, ema, distill } = c;
  // ema and distill only when on: runs saved before they existed keep their fingerprint
  return JSON.stringify({
    data, vocab, tokenizer, model, optimizer, schedule, batchSize, seed, clipNorm, labelSmoothing, adversarial, epochs, initFrom, freeze, layerDecay, head, reinit,
    ...(ema > 0 ? { ema } : {}), ...(distill.teachers.length > 0 ? { distill, teacherFiles: teacherFilesDigest(distill.teachers) } : {}),
  });
}

/** Reads the training and dev sets; the dev set's labels are the training set's. */
function readData(config: TrainConfig): { trainSet: Dataset; devSet: Dataset | null } {
  const trainSet = readDataset(config.data.train, { format: config.data.format });
  const devSet = config.data.dev ? readDataset(config.data.dev, { format: config.data.format, labels: trainSet.labels }) : null;
  return { trainSet, devSet };
}

/** Options of `train` besides the hooks. */
export interface TrainOptions extends TrainHooks {
  /** Continue the run saved in `<out>/last` exactly. */
  resume?: boolean;
  /** The folder `config.initFrom` names, already loaded (saves loading it again). */
  pretrained?: LoadedBert;
}

/**
 * Fine-tunes a loaded BERT folder on labelled data: `settings` is a partial training config (at least
 * `data.train` and `out`); everything else defaults to the fine-tuning recipe (see config.ts).
 */
export async function fineTune(pretrained: LoadedBert, settings: Record<string, unknown>, options: Omit<TrainOptions, "pretrained"> = {}): Promise<TrainSummary> {
  return train(resolveTrainConfig({ initFrom: pretrained.dir }, settings), { ...options, pretrained });
}

/** Trains a classifier as the config says; with `resume`, continues the run saved in `<out>/last`. */
export async function train(config: TrainConfig, options: TrainOptions = {}): Promise<TrainSummary> {
  const { trainSet, devSet } = readData(config);
  const runFingerprint = fingerprint(config); // once: with teachers it reads their files
  const state = options.resume ? await readTrainerState(config.out, runFingerprint, RESUME_FIELDS) : null;
  const rng = new Rng(config.seed);
  const setup: RunSetup = config.initFrom ? await fineTuneSetup(config, trainSet, rng, options.pretrained)
    : scratchSetup(config, trainSet, rng, state ? join(config.out, "last") : null);
  const { model, tokenizer, tokenizerSettings } = setup;
  const encode = (set: Dataset): EncodedExample[] =>
    set.examples.map((e) => ({ ids: encodeText(tokenizer, e.text, tokenizerSettings.maxLength), label: setup.classOf(e.label) }));
  const trainExamples = encode(trainSet);
  const { teachers, temperature, alpha } = config.distill;
  if (teachers.length > 0) {
    const texts = trainSet.examples.map((e) => e.text);
    const soft = await teacherTargets(teachers, texts, trainExamples.map((e) => e.label), setup.labels, temperature);
    trainExamples.forEach((e, i) => (e.softTarget = soft.targets[i]));
    setup.notes.push(`distilling from ${teachers.length} teacher${teachers.length > 1 ? "s" : ""} at T = ${temperature}, α = ${alpha}: their ensemble agrees with ${(100 * soft.agreement).toFixed(2)} % of the training labels`);
  }
  const task = new ClassificationTask(model, trainExamples, devSet ? encode(devSet) : null, {
    batchSize: config.batchSize, seed: config.seed, padId: model.config.padId, labelSmoothing: config.labelSmoothing, adversarial: config.adversarial,
    distill: { temperature, alpha },
  });
  const numLayers = model.config.numLayers;
  const groups = trainableParameters(model, numLayers, { freezeEmbeddings: config.freeze.embeddings, freezeLayers: config.freeze.layers, layerDecay: config.layerDecay });
  const optimizer = optimizerFromConfig(config.optimizer, groups.trainable);
  const plannedSteps = task.stepsPerEpoch * config.epochs;
  const totalSteps = config.maxSteps > 0 ? Math.min(plannedSteps, config.maxSteps) : plannedSteps;
  const schedule = scheduleFromConfig(config.schedule, config.optimizer.lr, plannedSteps, model.config.dModel);

  options.onStart?.({
    totalSteps, startStep: state?.step ?? 0, parameters: model.parameterCount(),
    trainableParameters: groups.trainable.reduce((n, p) => n + p.param.size, 0), vocabSize: setup.vocab.size,
    examples: task.examples, labels: setup.labels, notes: setup.notes,
  });
  const summary = await runTraining({
    out: config.out, model, task, optimizer, trainable: groups.trainable.map((p) => p.param), schedule, rng, settings: config, totalSteps,
    folderFiles: () => hfFolderFiles(model, setup.vocab, tokenizerSettings),
    config, fingerprint: runFingerprint, resumeFrom: state, hasHeldOut: devSet !== null,
    bestRecord: (best) => ({ epoch: best.epoch, step: best.step, dev_accuracy: best.accuracy, dev_loss: best.loss, seed: config.seed, init_from: config.initFrom ?? null, reinit: config.reinit,
      ...(teachers.length > 0 ? { distill: config.distill } : {}) }),
    restoreWeights: (lastDir) => restoreWeights(model, lastDir),
  }, options);
  return { ...summary, parameters: model.parameterCount() };
}
