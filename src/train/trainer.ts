/**
 * The training loop for text classifiers: length-bucketed batches, AdamW (or Adam, SGD) with a warmup schedule,
 * gradient clipping, evaluation each epoch, the best checkpoint kept, early stopping, a JSONL metrics log, and
 * exact resumption: a resumed run continues with the same weights, optimizer moments, RNG state and batch order,
 * so its loss curve equals an uninterrupted run's.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CheckpointError, ConfigError } from "../errors.ts";
import { recoverDirectory } from "../io/atomic.ts";
import { serializeSafetensors } from "../io/safetensors.ts";
import { EncoderClassifier } from "../models/classifier.ts";
import { encoderConfig } from "../nn/model.ts";
import { Rng } from "../tensor/random.ts";
import { compactVocabulary } from "../text/compact-vocab.ts";
import { Vocabulary } from "../text/vocab.ts";
import { type EncodedExample, batchesPerEpoch, epochBatches } from "./batching.ts";
import { type TokenizerSettings, readTensors, saveCheckpoint, tokenizerFor } from "./checkpoint.ts";
import type { TrainConfig } from "./config.ts";
import { readDataset } from "./data.ts";
import { type EvalResult, encodeText, evaluate } from "./evaluate.ts";
import { crossEntropy } from "./losses.ts";
import { Adam, AdamW, type NamedParameter, type Optimizer, SGD, clipGradNorm } from "./optim.ts";
import { type Schedule, noamSchedule, warmupDecaySchedule } from "./schedule.ts";

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

/** What happens when; every hook is optional. */
export interface TrainHooks {
  onStart?(info: { totalSteps: number; startStep: number; parameters: number; vocabSize: number; examples: number }): void;
  onStep?(info: StepInfo): void;
  onEpoch?(info: EpochInfo): void;
}

/** The outcome of a run. */
export interface TrainSummary {
  steps: number;
  epochsRun: number;
  best: { epoch: number; step: number; accuracy: number; loss: number } | null;
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
  best: TrainSummary["best"];
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
  const { data, vocab, tokenizer, model, optimizer, schedule, batchSize, seed, clipNorm, labelSmoothing, epochs } = c;
  return JSON.stringify({ data, vocab, tokenizer, model, optimizer, schedule, batchSize, seed, clipNorm, labelSmoothing, epochs });
}

function makeOptimizer(c: TrainConfig, params: NamedParameter[]): Optimizer {
  const o = c.optimizer;
  if (o.name === "sgd") return new SGD(params, { lr: o.lr, momentum: o.momentum ?? 0.9, weightDecay: o.weightDecay ?? 0 });
  const options = { lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay };
  return o.name === "adam" ? new Adam(params, options) : new AdamW(params, options);
}

function makeSchedule(c: TrainConfig, totalSteps: number, dModel: number): Schedule {
  const s = c.schedule;
  if (s.name === "noam") return noamSchedule(dModel, Math.max(1, s.warmup), c.optimizer.lr); // lr acts as the paper's scale factor
  const warmup = Math.min(s.warmup, totalSteps);
  return warmupDecaySchedule({ peak: c.optimizer.lr, warmup, total: totalSteps, decay: s.name, minLr: s.minLr });
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

/** Trains a classifier as the config says; with `resume`, continues the run saved in `<out>/last`. */
export async function train(config: TrainConfig, options: TrainHooks & { resume?: boolean } = {}): Promise<TrainSummary> {
  const lastDir = join(config.out, "last");
  const bestDir = join(config.out, "best");
  const metricsPath = join(config.out, "metrics.jsonl");
  const trainSet = readDataset(config.data.train, { format: config.data.format });
  const devSet = config.data.dev ? readDataset(config.data.dev, { format: config.data.format, labels: trainSet.labels }) : null;
  const settings: TokenizerSettings = { doLowerCase: config.tokenizer.doLowerCase, stripAccents: null, maxLength: config.tokenizer.maxLength };

  let state: TrainerState | null = null;
  if (options.resume) {
    await recoverDirectory(lastDir);
    const statePath = join(lastDir, "trainer_state.json");
    if (!existsSync(statePath)) throw new CheckpointError(`${statePath}: nothing to resume (no saved run in ${config.out})`);
    state = JSON.parse(readFileSync(statePath, "utf8")) as TrainerState;
    if (state.fingerprint !== fingerprint(config)) {
      throw new ConfigError(`--resume: the configuration differs from the run saved in ${lastDir} (data, vocabulary, model, optimizer, schedule, batch size, seed and epochs must match)`);
    }
  }
  const vocab = state ? Vocabulary.fromFile(join(lastDir, "vocab.txt"))
    : config.vocab.file ? Vocabulary.fromFile(config.vocab.file)
    : compactVocabulary(Vocabulary.fromFile(config.vocab.base!), trainSet.examples.map((e) => e.text), {
      doLowerCase: settings.doLowerCase, minFrequency: config.vocab.minFrequency, maxSize: config.vocab.maxSize,
    });
  const tokenizer = tokenizerFor(vocab, settings);
  const encode = (examples: { text: string; label: number }[]): EncodedExample[] =>
    examples.map((e) => ({ ids: encodeText(tokenizer, e.text, settings.maxLength), label: e.label }));
  const train = encode(trainSet.examples);
  const dev = devSet ? encode(devSet.examples) : null;

  const rng = new Rng(config.seed);
  const { pooling, classifierDropout, ...encoderOptions } = config.model;
  const encoder = encoderConfig({
    ...encoderOptions, vocabSize: vocab.size, padId: vocab.padId,
    maxPositions: Math.max(encoderOptions.maxPositions ?? 0, settings.maxLength),
  });
  const names = config.data.labelNames ?? {};
  const displayLabels = trainSet.labels.map((l) => names[l] ?? l);
  const dataLabels = displayLabels.some((l, i) => l !== trainSet.labels[i]) ? trainSet.labels : undefined;
  const model = new EncoderClassifier({ encoder, pooling, labels: displayLabels, classifierDropout }, rng);
  const named = model.namedParameters().map(([name, param]) => ({ name, param }));
  const optimizer = makeOptimizer(config, named);
  const stepsPerEpoch = batchesPerEpoch(train.length, config.batchSize);
  const plannedSteps = stepsPerEpoch * config.epochs;
  const totalSteps = config.maxSteps > 0 ? Math.min(plannedSteps, config.maxSteps) : plannedSteps;
  const schedule = makeSchedule(config, plannedSteps, encoder.dModel);

  const s: TrainerState = state ?? {
    version: 1, step: 0, epoch: 0, batch: 0, rng: [], best: null, epochsWithoutImprovement: 0,
    trainTokens: 0, trainSeconds: 0, epochLossSum: 0, epochBatches: 0, fingerprint: fingerprint(config),
  };
  mkdirSync(config.out, { recursive: true });
  if (state) {
    const weights = join(lastDir, "model.safetensors");
    model.loadStateDict(new Map([...readTensors(weights)].map(([n, t]) => [n, { shape: t.shape, data: t.data as Float32Array }])), { source: weights });
    const moments = readTensors(join(lastDir, "optimizer.safetensors"));
    optimizer.loadStateDict(new Map([...moments].map(([n, t]) => [n, t.data as Float32Array])), state.step);
    rng.setState(state.rng);
    truncateMetrics(metricsPath, state.step);
  } else {
    writeFileSync(metricsPath, "");
  }
  const log = (entry: Record<string, unknown>): void => appendFileSync(metricsPath, `${JSON.stringify(entry)}\n`);
  const saveLast = async (): Promise<void> => {
    s.rng = rng.getState();
    const moments = [...optimizer.stateDict()].map(([name, data]) => ({ name, shape: [data.length], data }));
    await saveCheckpoint(lastDir, model, vocab, settings, {
      "trainer_state.json": `${JSON.stringify(s)}\n`,
      "optimizer.safetensors": serializeSafetensors(moments),
    }, dataLabels);
  };

  options.onStart?.({ totalSteps, startStep: s.step, parameters: model.parameterCount(), vocabSize: vocab.size, examples: train.length });
  let stoppedEarly = false;
  let epochsRun = 0;
  run: while (s.epoch < config.epochs) {
    const batches = epochBatches(train, config.batchSize, config.seed, s.epoch, vocab.padId);
    model.train();
    while (s.batch < batches.length) {
      if (config.maxSteps > 0 && s.step >= config.maxSteps) break run;
      const batch = batches[s.batch];
      const started = performance.now();
      const { logits } = model.forward(batch.ids, { attentionMask: batch.attentionMask });
      const loss = crossEntropy(logits, batch.labels, { labelSmoothing: config.labelSmoothing });
      optimizer.zeroGrad();
      loss.backward();
      const gradNorm = config.clipNorm > 0 ? clipGradNorm(model.parameters(), config.clipNorm) : 0;
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
    const devResult = dev ? evaluate(model, dev) : null;
    let improved = false;
    if (devResult) {
      const b = s.best;
      improved = b === null || devResult.accuracy > b.accuracy || (devResult.accuracy === b.accuracy && devResult.loss < b.loss);
      if (improved) {
        s.best = { epoch: s.epoch, step: s.step, accuracy: devResult.accuracy, loss: devResult.loss };
        s.epochsWithoutImprovement = 0;
        await saveCheckpoint(bestDir, model, vocab, settings, {
          "training.json": `${JSON.stringify({ epoch: s.epoch, step: s.step, dev_accuracy: devResult.accuracy, dev_loss: devResult.loss, seed: config.seed }, null, 2)}\n`,
        }, dataLabels);
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
  if (!dev && s.best === null) await saveCheckpoint(bestDir, model, vocab, settings, {}, dataLabels); // no dev set: the last model is the one kept
  return {
    steps: s.step, epochsRun, best: s.best, trainSeconds: s.trainSeconds, tokensPerSecond: s.trainTokens / Math.max(s.trainSeconds, 1e-9),
    parameters: model.parameterCount(), out: config.out, stoppedEarly,
  };
}
