/**
 * Training loops of the lab, on the public engine: a TransformerEncoderModel with a per-position linear head
 * for the synthetic tasks, AdamW with warmup and linear decay, gradient clipping, evaluation on a fixed set.
 */
import { Linear } from "../nn/linear.ts";
import { type EncoderModelConfig, TransformerEncoderModel, encoderConfig } from "../nn/model.ts";
import { noGrad } from "../tensor/autograd.ts";
import { reshape } from "../tensor/ops/layout.ts";
import { Rng } from "../tensor/random.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { crossEntropy } from "../train/losses.ts";
import { AdamW, clipGradNorm } from "../train/optim.ts";
import { warmupDecaySchedule } from "../train/schedule.ts";
import { mean } from "./metrics.ts";
import { IGNORE, type TaskBatch, type TokenTask, sampleBatch } from "./tasks.ts";

/** One point of a training curve. */
export interface CurvePoint {
  step: number;
  loss: number;
  accuracy: number;
}

/** Options of `trainTokenTask`. */
export interface TokenRunOptions {
  task: TokenTask;
  /** The encoder (vocabSize and padId are set from the task); dropout defaults to 0. */
  model: Partial<Omit<EncoderModelConfig, "vocabSize" | "padId">>;
  steps: number;
  batch: number;
  lr: number;
  seed: number;
  /** Evaluate this many times along the way (plus at the end). */
  evalPoints?: number;
  evalSize?: number;
  /** Called on the fresh model (e.g. to re-initialise a weight); returns parameters to keep frozen. */
  prepare?: (model: TransformerEncoderModel) => Tensor[] | void;
}

/** A trained model with its curve and final held-out accuracy. */
export interface TokenRunResult {
  model: TransformerEncoderModel;
  head: Linear;
  curve: CurvePoint[];
  accuracy: number;
  loss: number;
  /** Trainable parameters (frozen ones excluded). */
  parameters: number;
  /** The held-out batch, for attention diagnostics. */
  evalBatch: TaskBatch;
  seconds: number;
}

/** Logits (batch·n, classes) of the model and head on ids. */
export function logitsOf(model: TransformerEncoderModel, head: Linear, batch: TaskBatch, classes: number): Tensor {
  const hidden = model.forward(batch.ids).lastHiddenState;
  return reshape(head.forward(hidden), [batch.targets.data.length, classes]);
}

/** Loss and accuracy on a batch, without gradients. */
export function evaluateTokens(model: TransformerEncoderModel, head: Linear, batch: TaskBatch, classes: number): { loss: number; accuracy: number } {
  return noGrad(() => {
    const logits = logitsOf(model, head, batch, classes);
    const loss = crossEntropy(logits, batch.targets).item();
    let correct = 0;
    let counted = 0;
    batch.targets.data.forEach((t, r) => {
      if (t === IGNORE) return;
      counted++;
      let best = 0;
      for (let c = 1; c < classes; c++) if (logits.data[r * classes + c] > logits.data[r * classes + best]) best = c;
      if (best === t) correct++;
    });
    return { loss, accuracy: correct / Math.max(counted, 1) };
  });
}

/** A fresh encoder and per-position head for a task, initialised from `seed` exactly as `trainTokenTask` does. */
export function buildTokenModel(task: TokenTask, modelConfig: TokenRunOptions["model"], seed: number,
  prepare?: TokenRunOptions["prepare"]): { model: TransformerEncoderModel; head: Linear; frozen: Set<Tensor> } {
  const rng = new Rng(seed);
  const config = encoderConfig({
    dModel: 64, heads: 4, dFF: 128, numLayers: 1, maxPositions: Math.max(64, task.n), dropout: 0, ...modelConfig,
    vocabSize: task.vocab + 1, padId: task.vocab, // an unused padding row: every real token starts trainable
  });
  const model = new TransformerEncoderModel(config, rng);
  const head = new Linear(config.dModel, task.classes, { rng });
  return { model, head, frozen: new Set(prepare?.(model) ?? []) };
}

/** The fixed held-out batch of a run with this seed. */
export function heldOutBatch(task: TokenTask, seed: number, size = 256): TaskBatch {
  return sampleBatch(task, new Rng(seed * 104729 + 3), size);
}

/** Trains a fresh encoder + per-position head on a synthetic task with fresh random batches every step. */
export function trainTokenTask(o: TokenRunOptions): TokenRunResult {
  const started = performance.now();
  const { model, head, frozen } = buildTokenModel(o.task, o.model, o.seed, o.prepare);
  const named = [...model.namedParameters(), ...head.namedParameters("head.")]
    .filter(([, p]) => !frozen.has(p))
    .map(([name, param]) => ({ name, param }));
  const params = [...new Set(named.map((p) => p.param))];
  const optimizer = new AdamW(named, { lr: o.lr, weightDecay: 0.01 });
  const schedule = warmupDecaySchedule({ peak: o.lr, warmup: Math.round(o.steps / 10), total: o.steps, decay: "linear" });
  const dataRng = new Rng(o.seed * 7919 + 17);
  const evalBatch = heldOutBatch(o.task, o.seed, o.evalSize);
  const points = o.evalPoints ?? 10;
  const curve: CurvePoint[] = [];
  const record = (step: number): void => {
    const e = evaluateTokens(model, head, evalBatch, o.task.classes);
    curve.push({ step, loss: e.loss, accuracy: e.accuracy });
  };
  record(0);
  for (let step = 1; step <= o.steps; step++) {
    const batch = sampleBatch(o.task, dataRng, o.batch);
    model.train();
    const loss = crossEntropy(logitsOf(model, head, batch, o.task.classes), batch.targets);
    optimizer.zeroGrad();
    loss.backward();
    clipGradNorm(params, 1);
    optimizer.lr = schedule(step);
    optimizer.step();
    model.eval();
    if (step === o.steps || step % Math.max(1, Math.round(o.steps / points)) === 0) record(step);
  }
  const last = curve[curve.length - 1];
  return {
    model, head, curve, accuracy: last.accuracy, loss: last.loss, evalBatch,
    parameters: params.reduce((n, p) => n + p.size, 0), seconds: (performance.now() - started) / 1000,
  };
}

/** `trainTokenTask` once per seed: every run (the first one's model and curve are the ones shown), each final accuracy and their mean. */
export function trainSeeds(o: Omit<TokenRunOptions, "seed">, seeds: readonly number[]): { runs: TokenRunResult[]; accuracies: number[]; accuracy: number } {
  const runs = seeds.map((seed) => trainTokenTask({ ...o, seed }));
  const accuracies = runs.map((r) => r.accuracy);
  return { runs, accuracies, accuracy: mean(accuracies) };
}

/** The first step of a curve whose held-out accuracy reached `target`, or null when none did. */
export function stepReaching(curve: readonly CurvePoint[], target: number): number | null {
  return curve.find((p) => p.accuracy >= target)?.step ?? null;
}

/** The attention probabilities of every layer on a batch: (batch, heads, n, n) each. */
export function attentionOf(model: TransformerEncoderModel, batch: TaskBatch): Tensor[] {
  return noGrad(() => model.forward(batch.ids, { needWeights: true }).attentions);
}
