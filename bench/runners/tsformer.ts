/**
 * tsformer on a workload: the wasm backend (1 thread or all) or the reference backend, its own model, autograd,
 * crossEntropy and Adam (W3) or AdamW (W4). Every model is built from the workload's seed, so all systems hold the
 * same weights; `tsformer-wasm-int8` runs the forward workloads after `quantizeDynamic`.
 */
import { setFlagsFromString } from "node:v8";
import type { Backend } from "../../src/backend/backend.ts";
import { getBackend, setBackend } from "../../src/backend/registry.ts";
import { type LoadedWasmBackend, loadWasmBackend } from "../../src/backend/wasm/index.ts";
import { BertModel } from "../../src/models/bert.ts";
import { EncoderClassifier } from "../../src/models/classifier.ts";
import { TransformerEncoderModel } from "../../src/nn/model.ts";
import { quantizeDynamic } from "../../src/nn/quantize.ts";
import { noGrad } from "../../src/tensor/autograd.ts";
import { withStepMemory } from "../../src/tensor/memory.ts";
import { Rng } from "../../src/tensor/random.ts";
import { type IndexTensor, type Tensor, indexTensor } from "../../src/tensor/tensor.ts";
import type { AttentionMask } from "../../src/nn/masks.ts";
import { crossEntropy } from "../../src/train/losses.ts";
import { Adam, AdamW } from "../../src/train/optim.ts";
import type { SystemSpec } from "../protocol.ts";
import { type BertTrainWorkload, type EncoderShape, SEED, type Workload, bertConfig, encoderInputs, gemmInputs, modelConfig } from "../workloads.ts";
import type { Runner } from "./runner.ts";

let loaded: LoadedWasmBackend | null = null;

/** Loads the backend the spec names (once per process) and makes it current; returns the wasm backend when that is the one. */
export async function useTsformerBackend(spec: SystemSpec): Promise<LoadedWasmBackend | null> {
  if (spec.system === "tsformer-reference") {
    setBackend("reference");
    return null;
  }
  if (!loaded || loaded.threads !== spec.threads) {
    loaded?.dispose();
    // As the CLI does (src/cli/main.ts): relaxed SIMD (FMA) is behind a flag on Node 20 and must be on before compiling.
    setFlagsFromString("--experimental-wasm-relaxed-simd");
    loaded = await loadWasmBackend({ threads: spec.threads });
  }
  setBackend(loaded.name);
  return loaded;
}

/** The encoder model of a forward workload, from the shared seed. */
export function benchModel(shape: EncoderShape, maxPositions?: number): TransformerEncoderModel {
  return new TransformerEncoderModel(modelConfig(shape, maxPositions), new Rng(SEED));
}

/** The classifier of the training workload, from the shared seed. */
export function benchClassifier(shape: EncoderShape, labels: number): EncoderClassifier {
  return new EncoderClassifier({ encoder: modelConfig(shape), pooling: "mean", labels: Array.from({ length: labels }, (_, i) => `c${i}`) }, new Rng(SEED));
}

/** The BERT model of a fine-tuning workload (W4), from the shared seed. */
export function benchBert(w: BertTrainWorkload): BertModel {
  return new BertModel(bertConfig(w), new Rng(SEED));
}

/** The logits of a BERT output (the workload's models always have a classifier). */
function logitsOf(out: { logits: Tensor | null }): Tensor {
  if (!out.logits) throw new Error("bench: the BERT model has no classifier");
  return out.logits;
}

/**
 * W4 on tsformer: forward in training mode (dropout on), cross-entropy, backward, AdamW. Before the timed steps, the
 * agreement check every system runs with dropout off (so all systems compute the same numbers): one step's loss,
 * then the logits after that step — they cover the forward pass, the gradients and AdamW.
 */
function bertRunner(w: BertTrainWorkload, ids: IndexTensor, attentionMask: AttentionMask, labels: Int32Array): Runner {
  const model = benchBert(w);
  const optimizer = new AdamW(model.namedParameters().map(([name, param]) => ({ name, param })), { lr: w.lr, weightDecay: w.weightDecay });
  const targets = indexTensor(labels, [labels.length]);
  const step = (): number => withStepMemory(() => {
    const loss = crossEntropy(logitsOf(model.forward(ids, { attentionMask })), targets);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    optimizer.zeroGrad(); // gradients are step memory: cleared before it is released
    return loss.data[0];
  });
  model.eval();
  const checkLoss = step();
  const check = Float32Array.of(checkLoss, ...noGrad(() => logitsOf(model.forward(ids, { attentionMask })).data));
  model.train();
  return { run: async () => void step(), output: () => check };
}

/** A runner for tsformer on the workload. */
export async function tsformerRunner(w: Workload, spec: SystemSpec): Promise<Runner> {
  const int8 = spec.system === "tsformer-wasm-int8";
  if (int8 && w.kind !== "forward") throw new Error(`${spec.system} runs the forward workloads only: no ${w.id}`);
  await useTsformerBackend(spec);
  if (w.kind === "gemm") {
    const { a, b } = gemmInputs(w.shape);
    const c = new Float32Array(w.shape.m * w.shape.n);
    const backend: Backend = getBackend();
    const p = { batch: 1, m: w.shape.m, n: w.shape.n, k: w.shape.k, transA: false, transB: false, strideA: 0, strideB: 0, accumulate: false };
    return { run: async () => backend.matmul(a, b, c, p), output: () => c };
  }
  const s = w.shape;
  const inputs = encoderInputs(s, w.kind === "forward" ? 2 : w.labels);
  const ids = indexTensor(inputs.ids, [s.batch, s.seq]);
  const attentionMask = { shape: [s.batch, s.seq], data: inputs.mask };
  if (w.kind === "bert-train") return bertRunner(w, ids, attentionMask, inputs.labels);
  if (w.kind === "forward") {
    const model = benchModel(s);
    if (int8) quantizeDynamic(model);
    let out: Float32Array = new Float32Array(0);
    return {
      // As README "Your own training loop" advises for repeated forward passes: intermediates in step memory, the
      // output copied out before the scope ends
      run: async () => {
        out = withStepMemory(() => noGrad(() => model.forward(ids, { attentionMask })).lastHiddenState.data.slice());
      },
      output: () => out,
    };
  }
  const model = benchClassifier(s, w.labels).train();
  const optimizer = new Adam(model.namedParameters().map(([name, param]) => ({ name, param })), { lr: w.lr });
  const targets = indexTensor(inputs.labels, [s.batch]);
  const losses: number[] = [];
  return {
    run: async () => withStepMemory(() => {
      const loss = crossEntropy(model.forward(ids, { attentionMask }).logits, targets);
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      optimizer.zeroGrad(); // gradients are step memory: cleared before it is released
      losses.push(loss.data[0]);
    }),
    output: () => Float32Array.from(losses),
  };
}
