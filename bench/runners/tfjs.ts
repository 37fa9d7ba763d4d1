/**
 * TensorFlow.js on a workload: the WASM backend (single-threaded: its threaded build needs a browser's workers) or
 * the plain-JavaScript CPU backend, with the tsformer model's weights copied into tf tensors.
 */
import type * as TfNs from "@tensorflow/tfjs";
import { decaysByDefault } from "../../src/train/optim.ts";
import type { SystemSpec } from "../protocol.ts";
import { type BertTrainWorkload, type Workload, encoderInputs, gemmInputs } from "../workloads.ts";
import type { Runner } from "./runner.ts";
import { TfEncoder } from "./tfjs-model.ts";
import { benchBert, benchClassifier, benchModel } from "./tsformer.ts";

/** Loads tfjs on the spec's backend. */
async function loadTf(spec: SystemSpec): Promise<typeof TfNs> {
  // tfjs prints a banner about tfjs-node on import in Node; the benchmark's output stays clean.
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    const tf = await import("@tensorflow/tfjs");
    if (spec.system === "tfjs-wasm") {
      await import("@tensorflow/tfjs-backend-wasm"); // registers the "wasm" backend
      tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
      await tf.setBackend("wasm");
    } else {
      await tf.setBackend("cpu");
    }
    await tf.ready();
    return tf;
  } finally {
    console.warn = warn;
  }
}

/** A runner for tfjs (wasm or cpu) on the workload. */
export async function tfjsRunner(w: Workload, spec: SystemSpec): Promise<Runner> {
  const tf = await loadTf(spec);
  if (w.kind === "gemm") {
    const { a, b } = gemmInputs(w.shape);
    const ta = tf.tensor2d(a, [w.shape.m, w.shape.k]);
    const tb = tf.tensor2d(b, [w.shape.k, w.shape.n]);
    let out: Float32Array = new Float32Array(0);
    return {
      run: async () => {
        const c = tf.matMul(ta, tb);
        out = c.dataSync() as Float32Array;
        c.dispose();
      },
      output: () => out,
    };
  }
  const s = w.shape;
  const inputs = encoderInputs(s, w.kind === "forward" ? 2 : w.labels);
  const ids = tf.tensor2d(inputs.ids, [s.batch, s.seq], "int32");
  const mask = tf.tensor2d(Float32Array.from(inputs.mask), [s.batch, s.seq]);
  if (w.kind === "bert-train") return bertRunner(tf, w, ids, mask, inputs.labels);
  if (w.kind === "forward") {
    const enc = new TfEncoder(tf, benchModel(s), false);
    let out: Float32Array = new Float32Array(0);
    return {
      run: async () => {
        const h = tf.tidy(() => enc.forward(ids, mask));
        out = h.dataSync() as Float32Array;
        h.dispose();
      },
      output: () => out,
    };
  }
  const enc = new TfEncoder(tf, benchClassifier(s, w.labels), true);
  const oneHot = tf.oneHot(tf.tensor1d(inputs.labels, "int32"), w.labels).toFloat();
  const optimizer = tf.train.adam(w.lr, 0.9, 0.999, 1e-8);
  const vars = enc.variables();
  const losses: number[] = [];
  return {
    run: async () => {
      // minimize runs the forward and backward passes in its own tidy scope and returns the loss.
      const loss = optimizer.minimize(() => enc.loss(enc.logits(enc.forward(ids, mask), mask), oneHot), true, vars);
      if (!loss) throw new Error("tfjs: minimize returned no loss");
      losses.push(loss.dataSync()[0]);
      loss.dispose();
    },
    output: () => Float32Array.from(losses),
  };
}

/**
 * W4 on tfjs: the BERT model in tf ops, dropout on, forward and backward by tf.variableGrads, then AdamW — tfjs has
 * Adam only, so the decoupled decay p ← p·(1 − lr·λ) is applied to the decaying variables just before the Adam update,
 * which is AdamW's order. The agreement check (dropout off, before the timed steps) is tsformer's: see bertRunner there.
 */
function bertRunner(tf: typeof TfNs, w: BertTrainWorkload, ids: TfNs.Tensor, mask: TfNs.Tensor, labels: Int32Array): Runner {
  const enc = new TfEncoder(tf, benchBert(w), true);
  const oneHot = tf.oneHot(tf.tensor1d(labels, "int32"), w.labels).toFloat();
  const optimizer = tf.train.adam(w.lr, 0.9, 0.999, 1e-8);
  const vars = enc.variables();
  const shrink = tf.scalar(1 - w.lr * w.weightDecay);
  const decaying = [...enc.params].filter(([name]) => decaysByDefault(name)).map(([, v]) => v as TfNs.Variable);
  const step = (): number => {
    const { value, grads } = tf.variableGrads(() => enc.loss(enc.logits(enc.forward(ids, mask), mask), oneHot), vars);
    tf.tidy(() => {
      for (const v of decaying) v.assign(tf.mul(v, shrink));
    });
    optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    tf.dispose(Object.values(grads));
    const loss = value.dataSync()[0];
    value.dispose();
    return loss;
  };
  enc.training = false;
  const checkLoss = step();
  const after = tf.tidy(() => enc.logits(enc.forward(ids, mask), mask));
  const check = Float32Array.of(checkLoss, ...(after.dataSync() as Float32Array));
  after.dispose();
  enc.training = true;
  return { run: async () => void step(), output: () => check };
}
