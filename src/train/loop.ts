/**
 * The training loop every objective shares (classification in trainer.ts, masked-LM pretraining in pretrain.ts):
 * optimizer steps over a task's batches with a learning-rate schedule and gradient clipping, held-out evaluation
 * each epoch, the best model kept, early stopping, a JSONL metrics log, and exact resumption — a resumed run
 * continues with the same weights, optimizer moments, RNG state and batch order, so its loss curve equals an
 * uninterrupted run's.
 *
 * `best/` and `last/` are model folders (config.json, model.safetensors, vocab.txt, tokenizer_config.json) written
 * atomically; `last/` also holds optimizer.safetensors, trainer_state.json and training_config.json for `--resume` (and
 * weight_average.safetensors when the weights are averaged).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CheckpointError, ConfigError } from "../errors.ts";
import { recoverDirectory, writeDirectoryAtomic } from "../io/atomic.ts";
import { readSafetensorsFile, serializeSafetensors } from "../io/safetensors.ts";
import type { Module } from "../nn/module.ts";
import type { Rng } from "../tensor/random.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { Batch } from "./batching.ts";
import type { EvalResult } from "./evaluate.ts";
import { type Optimizer, clipGradNorm } from "./optim.ts";
import { withStepMemory } from "../tensor/memory.ts";
import type { Schedule } from "./schedule.ts";
import { WeightAverage } from "./weight-average.ts";

/** The weight average's file in `last/` (weight-average.ts). */
const AVERAGE_FILE = "weight_average.safetensors";

/** The best held-out result so far. */
export interface BestResult {
  epoch: number;
  step: number;
  accuracy: number;
  loss: number;
}

/** A batch's loss and how many of its predictions were right (for the running training accuracy). */
export interface StepLoss {
  /**
   * The scalar the loop backpropagates (the model in training mode). A task may have backpropagated other terms of
   * its objective already: their gradients stay and add up (adversarial.ts).
   */
  loss: Tensor;
  /** The loss to report, where it is not `loss` (adversarial training reports the loss on the batch as it is). */
  reported?: number;
  /** Predictions that were right, of `counted` (sequences for classification, masked tokens for masked-LM). */
  correct: number;
  counted: number;
}

/**
 * What differs between objectives — the batches, the loss, the held-out metrics and what "better" means — while
 * the loop owns the optimizer, checkpoints and resumption (see DESIGN.md).
 */
export interface TrainingTask {
  /** Training examples per epoch (sentences, or packed sequences for masked-LM). */
  readonly examples: number;
  /** Optimizer steps in one epoch. */
  readonly stepsPerEpoch: number;
  /** The batches of an epoch, rebuilt identically from (seed, epoch) on resume. */
  batches(epoch: number): Batch[];
  /** The loss of a batch (the model in training mode). */
  loss(batch: Batch): StepLoss;
  /** Held-out metrics, or null without held-out data. */
  evaluate(): EvalResult | null;
  /** Whether `result` beats `best`. */
  improves(result: EvalResult, best: BestResult | null): boolean;
}

/** Reported after every optimizer step. */
export interface StepInfo {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  /** The task's accuracy over this epoch's training batches so far (masked tokens for masked-LM). */
  accuracy: number;
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
  /** Held-out metrics (classification: dev set; masked-LM: held-out text), or null without held-out data. */
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

/** Hooks of the loop; every one is optional. */
export interface LoopHooks {
  onStep?(info: StepInfo): void;
  onEpoch?(info: EpochInfo): void;
  onCheckpoint?(info: CheckpointInfo): void;
}

/** Where the run is, saved with every resumable checkpoint. */
export interface TrainerState {
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
  /** Right predictions and predictions counted in this epoch so far (the running training accuracy). */
  epochCorrect: number;
  epochCounted: number;
  /** The settings that must not change across a resume. */
  fingerprint: string;
}

/** The loop settings a config gives. */
export interface LoopSettings {
  epochs: number;
  /** Stop after this many optimizer steps in all (0: no limit). */
  maxSteps: number;
  /** Also save `last/` every this many steps (0: at the end of each epoch only). */
  saveEvery: number;
  /** Global gradient-norm clipping; 0 turns it off. */
  clipNorm: number;
  /** Stop after this many epochs without a better held-out result; 0 never stops early. */
  patience: number;
  /**
   * Decay of an exponential moving average of the weights (weight-average.ts); 0 turns it off. With it, held-out
   * evaluation and `best/` use the averaged weights.
   */
  ema: number;
}

/** Everything the loop needs, built by the objective's front end. */
export interface TrainingRun {
  out: string;
  model: Module;
  task: TrainingTask;
  optimizer: Optimizer;
  /** The parameters the optimizer updates (for clipping). */
  trainable: readonly Tensor[];
  schedule: Schedule;
  /** The run's generator (dropout, masking); its state is saved for exact resumption. */
  rng: Rng;
  settings: LoopSettings;
  /** The steps this run will take (for progress reports). */
  totalSteps: number;
  /** The model folder's files (config.json, model.safetensors, vocab.txt, tokenizer_config.json), as of now. */
  folderFiles(): Record<string, Uint8Array | string>;
  /** Saved in `last/training_config.json`. */
  config: unknown;
  /** What a resumed run must share with the original (see `readTrainerState`). */
  fingerprint: string;
  /** `best/training.json`'s record of the best result. */
  bestRecord(best: BestResult): Record<string, unknown>;
  /** The state read from `<out>/last` when resuming, else null. */
  resumeFrom: TrainerState | null;
  /** Whether the task evaluates held-out data (without, the last model is saved as `best/` at the end). */
  hasHeldOut: boolean;
  /** Restores the weights saved in `<out>/last` into `model` (resuming only). */
  restoreWeights(lastDir: string): Promise<void>;
}

/** The outcome of a run. */
export interface LoopSummary {
  steps: number;
  epochsRun: number;
  best: BestResult | null;
  trainSeconds: number;
  tokensPerSecond: number;
  out: string;
  stoppedEarly: boolean;
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

/**
 * Reads the saved state of `<out>/last`, checking that it belongs to the same settings (`what` lists them for the
 * refusal message).
 */
export async function readTrainerState(out: string, fingerprint: string, what: string): Promise<TrainerState> {
  const lastDir = join(out, "last");
  await recoverDirectory(lastDir);
  const statePath = join(lastDir, "trainer_state.json");
  if (!existsSync(statePath)) throw new CheckpointError(`${statePath}: nothing to resume (no saved run in ${out})`);
  // States saved before the running accuracy existed lack its counters: they start at 0.
  const state = { epochCorrect: 0, epochCounted: 0, ...(JSON.parse(readFileSync(statePath, "utf8")) as Partial<TrainerState>) } as TrainerState;
  if (state.fingerprint !== fingerprint) {
    throw new ConfigError(`--resume: the configuration differs from the run saved in ${lastDir} (${what} must match)`);
  }
  return state;
}

/** Runs (or resumes) the loop to the end: the epochs, `maxSteps`, or early stopping. */
export async function runTraining(run: TrainingRun, hooks: LoopHooks = {}): Promise<LoopSummary> {
  const { out, task, optimizer, settings, rng } = run;
  const lastDir = join(out, "last");
  const bestDir = join(out, "best");
  const metricsPath = join(out, "metrics.jsonl");
  const s: TrainerState = run.resumeFrom ?? {
    version: 1, step: 0, epoch: 0, batch: 0, rng: [], best: null, epochsWithoutImprovement: 0,
    trainTokens: 0, trainSeconds: 0, epochLossSum: 0, epochBatches: 0, epochCorrect: 0, epochCounted: 0, fingerprint: run.fingerprint,
  };
  const createdOut = !existsSync(out);
  mkdirSync(out, { recursive: true });
  if (run.resumeFrom) {
    await run.restoreWeights(lastDir);
    const moments = (await readSafetensorsFile(join(lastDir, "optimizer.safetensors"))).tensors;
    optimizer.loadStateDict(new Map([...moments].map(([name, t]) => [name, t.data as Float32Array])), s.step);
    rng.setState(s.rng);
    truncateMetrics(metricsPath, s.step);
  } else {
    writeFileSync(metricsPath, "");
  }
  // Made after the weights are restored; the average is on from step 0 (it is in the fingerprint), so its update count is the step.
  const average = settings.ema > 0 ? new WeightAverage(run.trainable, settings.ema) : null;
  if (average && run.resumeFrom) {
    const path = join(lastDir, AVERAGE_FILE);
    if (!existsSync(path)) throw new CheckpointError(`${path}: missing, so this --ema run cannot resume exactly; put the file back, or start a new run in another --out`);
    const saved = (await readSafetensorsFile(path)).tensors;
    average.loadStateDict(new Map([...saved].map(([name, t]) => [name, t.data as Float32Array])), s.step, path);
  }
  const log = (entry: Record<string, unknown>): void => appendFileSync(metricsPath, `${JSON.stringify(entry)}\n`);
  const saveFolder = async (dir: string, extra: Record<string, Uint8Array | string>): Promise<void> => {
    hooks.onCheckpoint?.({ step: s.step, dir, phase: "start" });
    await writeDirectoryAtomic(dir, { ...run.folderFiles(), ...extra });
    hooks.onCheckpoint?.({ step: s.step, dir, phase: "done" });
  };
  const saveLast = async (): Promise<void> => {
    s.rng = rng.getState();
    const moments = [...optimizer.stateDict()].map(([name, data]) => ({ name, shape: [data.length], data }));
    await saveFolder(lastDir, {
      "trainer_state.json": `${JSON.stringify(s)}\n`,
      "optimizer.safetensors": serializeSafetensors(moments),
      "training_config.json": `${JSON.stringify(run.config, null, 2)}\n`,
      ...(average ? { [AVERAGE_FILE]: serializeSafetensors(average.stateDict()) } : {}),
    });
  };

  try {
    return await loop();
  } catch (e) {
    // A run that fails before its first checkpoint leaves no half-made output folder behind.
    if (createdOut && !existsSync(lastDir) && !existsSync(bestDir)) rmSync(out, { recursive: true, force: true });
    throw e;
  }

  /** Runs `fn` with the weights that are evaluated and kept: the average when there is one. */
  function withKeptWeights<T>(fn: () => Promise<T>): Promise<T> {
    return average ? average.withAveraged(fn) : fn();
  }

  /** Evaluates held-out data and saves `best/` when the result is the best so far. */
  async function evaluateAndKeepBest(): Promise<{ devResult: EvalResult | null; improved: boolean }> {
    const devResult = task.evaluate();
    if (!devResult) return { devResult, improved: false };
    const improved = task.improves(devResult, s.best);
    if (improved) {
      s.best = { epoch: s.epoch, step: s.step, accuracy: devResult.accuracy, loss: devResult.loss };
      s.epochsWithoutImprovement = 0;
      await saveFolder(bestDir, { "training.json": `${JSON.stringify(run.bestRecord(s.best), null, 2)}\n` });
    } else {
      s.epochsWithoutImprovement++;
    }
    return { devResult, improved };
  }

  async function loop(): Promise<LoopSummary> {
    let stoppedEarly = false;
    let epochsRun = 0;
    run: while (s.epoch < settings.epochs) {
      const batches = task.batches(s.epoch);
      run.model.train();
      while (s.batch < batches.length) {
        if (settings.maxSteps > 0 && s.step >= settings.maxSteps) break run;
        const batch = batches[s.batch];
        const started = performance.now();
        optimizer.lr = run.schedule(s.step + 1);
        // Activations and gradients live in step memory until the update is done (src/tensor/memory.ts).
        const { lossValue, correct, counted, gradNorm } = withStepMemory(() => {
          optimizer.zeroGrad(); // before the task: it may backpropagate part of its objective itself (adversarial.ts)
          const { loss, reported, correct, counted } = task.loss(batch);
          loss.backward(); // adds to what the task backpropagated
          const gradNorm = settings.clipNorm > 0 ? clipGradNorm(run.trainable, settings.clipNorm) : 0;
          optimizer.step();
          optimizer.zeroGrad(); // the gradients are step memory: nothing may hold them past the step
          return { lossValue: reported ?? loss.item(), correct, counted, gradNorm };
        });
        average?.update();
        s.step++;
        s.batch++;
        s.trainSeconds += (performance.now() - started) / 1000;
        s.trainTokens += batch.tokens;
        s.epochLossSum += lossValue;
        s.epochBatches++;
        s.epochCorrect += correct;
        s.epochCounted += counted;
        const info: StepInfo = {
          step: s.step, totalSteps: run.totalSteps, epoch: s.epoch, loss: lossValue, accuracy: s.epochCorrect / Math.max(1, s.epochCounted),
          lr: optimizer.lr, gradNorm, tokensPerSecond: s.trainTokens / Math.max(s.trainSeconds, 1e-9), seconds: s.trainSeconds,
        };
        log({ type: "step", step: s.step, epoch: s.epoch, loss: info.loss, accuracy: correct / Math.max(1, counted), lr: info.lr, grad_norm: gradNorm, tokens_per_s: info.tokensPerSecond });
        hooks.onStep?.(info);
        if (settings.saveEvery > 0 && s.step % settings.saveEvery === 0) await saveLast();
      }
      // end of an epoch: evaluate, keep the best, maybe stop
      const trainLoss = s.epochLossSum / Math.max(1, s.epochBatches);
      const trainAccuracy = s.epochCorrect / Math.max(1, s.epochCounted);
      const { devResult, improved } = await withKeptWeights(evaluateAndKeepBest);
      log({ type: "epoch", step: s.step, epoch: s.epoch, train_loss: trainLoss, train_accuracy: trainAccuracy, dev_loss: devResult?.loss ?? null, dev_accuracy: devResult?.accuracy ?? null, improved });
      hooks.onEpoch?.({ epoch: s.epoch, step: s.step, trainLoss, dev: devResult, improved });
      epochsRun++;
      s.epoch++;
      s.batch = 0;
      s.epochLossSum = 0;
      s.epochBatches = 0;
      s.epochCorrect = 0;
      s.epochCounted = 0;
      await saveLast();
      if (settings.patience > 0 && s.epochsWithoutImprovement >= settings.patience) {
        stoppedEarly = true;
        break;
      }
    }
    if (settings.maxSteps > 0 && s.step >= settings.maxSteps && s.batch > 0) await saveLast();
    if (!run.hasHeldOut && s.best === null) await withKeptWeights(() => saveFolder(bestDir, {})); // no held-out data: the last model is the one kept
    return {
      steps: s.step, epochsRun, best: s.best, trainSeconds: s.trainSeconds, tokensPerSecond: s.trainTokens / Math.max(s.trainSeconds, 1e-9),
      out, stoppedEarly,
    };
  }
}
