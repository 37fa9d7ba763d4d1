/**
 * The training loop: length-bucketed batches, AdamW (or Adam, SGD) with a warmup schedule, gradient clipping,
 * frozen parameters and layer-wise learning rates, evaluation each epoch, the best model kept, early stopping, a
 * JSONL metrics log, and exact resumption: a resumed run continues with the same weights, optimizer moments, RNG
 * state and batch order, so its loss curve equals an uninterrupted run's. The objective is a task (see
 * classification-task.ts); the model starts from random weights or from a pretrained folder (setup.ts).
 *
 * `best/` and `last/` are Hugging Face BERT folders (config.json, model.safetensors, vocab.txt,
 * tokenizer_config.json) that `loadBert`, every `--model` command and Python `transformers` read; `last/` also
 * holds optimizer.safetensors and trainer_state.json for `--resume`. Each is written atomically.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CheckpointError, ConfigError } from "../errors.ts";
import { recoverDirectory, writeDirectoryAtomic } from "../io/atomic.ts";
import { readSafetensorsFile, serializeSafetensors } from "../io/safetensors.ts";
import { hfFolderFiles } from "../models/export.ts";
import type { LoadedBert } from "../models/load-bert.ts";
import { Rng } from "../tensor/random.ts";
import type { EncodedExample } from "./batching.ts";
import { type BestResult, ClassificationTask } from "./classification-task.ts";
import { type TrainConfig, resolveTrainConfig } from "./config.ts";
import { type Dataset, readDataset } from "./data.ts";
import { type EvalResult, encodeText } from "./evaluate.ts";
import { Adam, AdamW, type NamedParameter, type Optimizer, SGD, clipGradNorm } from "./optim.ts";
import { trainableParameters } from "./param-groups.ts";
import { type Schedule, noamSchedule, warmupDecaySchedule } from "./schedule.ts";
import { type RunSetup, fineTuneSetup, restoreWeights, scratchSetup } from "./setup.ts";

/** Reported after every optimizer step. */
export interface StepInfo {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  lr: number;
  gradNorm: number;
  /** Real tokens per second of training so far (evaluation excluded). */
  tokensPerSecond: number;
  /** Seconds of training so far (evaluation excluded). */
  seconds: number;
}

/** Reported at the end of each epoch. */
export interface EpochInfo {
  epoch: number;
  step: number;
  trainLoss: number;
  dev: EvalResult | null;
  /** This epoch's model became the best checkpoint. */
  improved: boolean;
}

/** Reported before and after a checkpoint folder is written (atomically: a crash leaves the old or the new one). */
export interface CheckpointInfo {
  step: number;
  dir: string;
  phase: "start" | "done";
}

/** What happens when; every hook is optional. */
export interface TrainHooks {
  onStart?(info: {
    totalSteps: number; startStep: number; parameters: number; trainableParameters: number; vocabSize: number; examples: number;
    labels: string[]; notes: string[];
  }): void;
  onStep?(info: StepInfo): void;
  onEpoch?(info: EpochInfo): void;
  onCheckpoint?(info: CheckpointInfo): void;
}

/** The outcome of a run. */
export interface TrainSummary {
  steps: number;
  epochsRun: number;
  best: BestResult | null;
  trainSeconds: number;
  tokensPerSecond: number;
  parameters: number;
  out: string;
  stoppedEarly: boolean;
}

/** Where the run is, saved with every resumable checkpoint. */
interface TrainerState {
  version: 1;
  step: number;
  /** The next batch to run: epoch and index within that epoch's batches. */
  epoch: number;
  batch: number;
  rng: number[];
  best: BestResult | null;
  epochsWithoutImprovement: number;
  trainTokens: number;
  trainSeconds: number;
  epochLossSum: number;
  epochBatches: number;
  /** The settings that must not change across a resume. */
  fingerprint: string;
}

/** The parts of a config a resumed run must share with the original. */
function fingerprint(c: TrainConfig): string {
  const { data, vocab, tokenizer, model, optimizer, schedule, batchSize, seed, clipNorm, labelSmoothing, epochs, initFrom, freeze, layerDecay, head } = c;
  return JSON.stringify({ data, vocab, tokenizer, model, optimizer, schedule, batchSize, seed, clipNorm, labelSmoothing, epochs, initFrom, freeze, layerDecay, head });
}

function makeOptimizer(c: TrainConfig, params: NamedParameter[]): Optimizer {
  const o = c.optimizer;
  if (o.name === "sgd") return new SGD(params, { lr: o.lr, momentum: o.momentum ?? 0.9, weightDecay: o.weightDecay ?? 0 });
  const options = { lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay };
  return o.name === "adam" ? new Adam(params, options) : new AdamW(params, options);
}

function makeSchedule(c: TrainConfig, totalSteps: number, dModel: number): Schedule {
  const s = c.schedule;
  const warmupSteps = s.warmupRatio !== undefined ? Math.round(s.warmupRatio * totalSteps) : s.warmup;
  if (s.name === "noam") return noamSchedule(dModel, Math.max(1, warmupSteps), c.optimizer.lr); // lr acts as the paper's scale factor
  return warmupDecaySchedule({ peak: c.optimizer.lr, warmup: Math.min(warmupSteps, totalSteps), total: totalSteps, decay: s.name, minLr: s.minLr });
}

/** Drops metrics lines past the resumed step (and a line cut short by a crash). */
function truncateMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, "utf8").split("\n").filter((line) => {
    try {
      return (JSON.parse(line) as { step: number }).step <= step;
    } catch {
      return false;
    }
  });
  writeFileSync(path, kept.map((l) => `${l}\n`).join(""));
}

/** Reads the saved state of `<out>/last`, checking that it belongs to this configuration. */
async function readState(config: TrainConfig, lastDir: string): Promise<TrainerState> {
  await recoverDirectory(lastDir);
  const statePath = join(lastDir, "trainer_state.json");
  if (!existsSync(statePath)) throw new CheckpointError(`${statePath}: nothing to resume (no saved run in ${config.out})`);
  const state = JSON.parse(readFileSync(statePath, "utf8")) as TrainerState;
  if (state.fingerprint !== fingerprint(config)) {
    throw new ConfigError(`--resume: the configuration differs from the run saved in ${lastDir} (data, vocabulary, model, optimizer, schedule, batch size, seed, epochs, --init-from and freezing must match)`);
  }
  return state;
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
  const lastDir = join(config.out, "last");
  const bestDir = join(config.out, "best");
  const metricsPath = join(config.out, "metrics.jsonl");
  const { trainSet, devSet } = readData(config);
  const state = options.resume ? await readState(config, lastDir) : null;
  const rng = new Rng(config.seed);
  const setup: RunSetup = config.initFrom ? await fineTuneSetup(config, trainSet, rng, options.pretrained)
    : scratchSetup(config, trainSet, rng, state ? lastDir : null);
  const { model, tokenizer, tokenizerSettings } = setup;
  const encode = (set: Dataset): EncodedExample[] =>
    set.examples.map((e) => ({ ids: encodeText(tokenizer, e.text, tokenizerSettings.maxLength), label: setup.classOf(e.label) }));
  const task = new ClassificationTask(model, encode(trainSet), devSet ? encode(devSet) : null, {
    batchSize: config.batchSize, seed: config.seed, padId: model.config.padId, labelSmoothing: config.labelSmoothing,
  });
  const numLayers = model.config.numLayers;
  const groups = trainableParameters(model, numLayers, { freezeEmbeddings: config.freeze.embeddings, freezeLayers: config.freeze.layers, layerDecay: config.layerDecay });
  const optimizer = makeOptimizer(config, groups.trainable);
  const plannedSteps = task.stepsPerEpoch * config.epochs;
  const totalSteps = config.maxSteps > 0 ? Math.min(plannedSteps, config.maxSteps) : plannedSteps;
  const schedule = makeSchedule(config, plannedSteps, model.config.dModel);

  const s: TrainerState = state ?? {
    version: 1, step: 0, epoch: 0, batch: 0, rng: [], best: null, epochsWithoutImprovement: 0,
    trainTokens: 0, trainSeconds: 0, epochLossSum: 0, epochBatches: 0, fingerprint: fingerprint(config),
  };
  const createdOut = !existsSync(config.out);
  mkdirSync(config.out, { recursive: true });
  if (state) {
    await restoreWeights(model, lastDir);
    const moments = (await readSafetensorsFile(join(lastDir, "optimizer.safetensors"))).tensors;
    optimizer.loadStateDict(new Map([...moments].map(([name, t]) => [name, t.data as Float32Array])), state.step);
    rng.setState(state.rng);
    truncateMetrics(metricsPath, state.step);
  } else {
    writeFileSync(metricsPath, "");
  }
  const log = (entry: Record<string, unknown>): void => appendFileSync(metricsPath, `${JSON.stringify(entry)}\n`);
  const saveFolder = async (dir: string, extra: Record<string, Uint8Array | string>): Promise<void> => {
    options.onCheckpoint?.({ step: s.step, dir, phase: "start" });
    await writeDirectoryAtomic(dir, { ...hfFolderFiles(model, setup.vocab, tokenizerSettings), ...extra });
    options.onCheckpoint?.({ step: s.step, dir, phase: "done" });
  };
  const saveLast = async (): Promise<void> => {
    s.rng = rng.getState();
    const moments = [...optimizer.stateDict()].map(([name, data]) => ({ name, shape: [data.length], data }));
    await saveFolder(lastDir, {
      "trainer_state.json": `${JSON.stringify(s)}\n`,
      "optimizer.safetensors": serializeSafetensors(moments),
      "training_config.json": `${JSON.stringify(config, null, 2)}\n`,
    });
  };

  options.onStart?.({
    totalSteps, startStep: s.step, parameters: model.parameterCount(),
    trainableParameters: groups.trainable.reduce((n, p) => n + p.param.size, 0), vocabSize: setup.vocab.size,
    examples: task.examples, labels: setup.labels, notes: setup.notes,
  });
  try {
    return await loop();
  } catch (e) {
    // A run that fails before its first checkpoint leaves no half-made output folder behind.
    if (createdOut && !existsSync(lastDir) && !existsSync(bestDir)) rmSync(config.out, { recursive: true, force: true });
    throw e;
  }

  async function loop(): Promise<TrainSummary> {
    let stoppedEarly = false;
    let epochsRun = 0;
    run: while (s.epoch < config.epochs) {
      const batches = task.batches(s.epoch);
      model.train();
      while (s.batch < batches.length) {
        if (config.maxSteps > 0 && s.step >= config.maxSteps) break run;
        const batch = batches[s.batch];
        const started = performance.now();
        const loss = task.loss(batch);
        optimizer.zeroGrad();
        loss.backward();
        const gradNorm = config.clipNorm > 0 ? clipGradNorm(groups.trainable.map((p) => p.param), config.clipNorm) : 0;
        optimizer.lr = schedule(s.step + 1);
        optimizer.step();
        s.step++;
        s.batch++;
        s.trainSeconds += (performance.now() - started) / 1000;
        s.trainTokens += batch.tokens;
        const lossValue = loss.item();
        s.epochLossSum += lossValue;
        s.epochBatches++;
        const info: StepInfo = {
          step: s.step, totalSteps, epoch: s.epoch, loss: lossValue, lr: optimizer.lr, gradNorm,
          tokensPerSecond: s.trainTokens / Math.max(s.trainSeconds, 1e-9), seconds: s.trainSeconds,
        };
        log({ type: "step", step: s.step, epoch: s.epoch, loss: info.loss, lr: info.lr, grad_norm: gradNorm, tokens_per_s: info.tokensPerSecond });
        options.onStep?.(info);
        if (config.saveEvery > 0 && s.step % config.saveEvery === 0) await saveLast();
      }
      // end of an epoch: evaluate, keep the best, maybe stop
      const trainLoss = s.epochLossSum / Math.max(1, s.epochBatches);
      const devResult: EvalResult | null = task.evaluate();
      let improved = false;
      if (devResult) {
        improved = task.improves(devResult, s.best);
        if (improved) {
          s.best = { epoch: s.epoch, step: s.step, accuracy: devResult.accuracy, loss: devResult.loss };
          s.epochsWithoutImprovement = 0;
          await saveFolder(bestDir, {
            "training.json": `${JSON.stringify({ epoch: s.epoch, step: s.step, dev_accuracy: devResult.accuracy, dev_loss: devResult.loss, seed: config.seed, init_from: config.initFrom ?? null }, null, 2)}\n`,
          });
        } else {
          s.epochsWithoutImprovement++;
        }
      }
      log({ type: "epoch", step: s.step, epoch: s.epoch, train_loss: trainLoss, dev_loss: devResult?.loss ?? null, dev_accuracy: devResult?.accuracy ?? null, improved });
      options.onEpoch?.({ epoch: s.epoch, step: s.step, trainLoss, dev: devResult, improved });
      epochsRun++;
      s.epoch++;
      s.batch = 0;
      s.epochLossSum = 0;
      s.epochBatches = 0;
      await saveLast();
      if (config.patience > 0 && s.epochsWithoutImprovement >= config.patience) {
        stoppedEarly = true;
        break;
      }
    }
    if (config.maxSteps > 0 && s.step >= config.maxSteps && s.batch > 0) await saveLast();
    if (!devSet && s.best === null) await saveFolder(bestDir, {}); // no dev set: the last model is the one kept
    return {
      steps: s.step, epochsRun, best: s.best, trainSeconds: s.trainSeconds, tokensPerSecond: s.trainTokens / Math.max(s.trainSeconds, 1e-9),
      parameters: model.parameterCount(), out: config.out, stoppedEarly,
    };
  }
}
