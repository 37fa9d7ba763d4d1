/**
 * TensorFlow.js on a workload: the WASM backend (single-threaded: its threaded build needs a browser's workers) or
 * the plain-JavaScript CPU backend, with the tsformer model's weights copied into tf tensors.
 */
import type * as TfNs from "@tensorflow/tfjs";
import type { SystemSpec } from "../protocol.ts";
import { type Workload, encoderInputs, gemmInputs } from "../workloads.ts";
import type { Runner } from "./runner.ts";
import { TfEncoder } from "./tfjs-model.ts";
import { benchClassifier, benchModel } from "./tsformer.ts";

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
  const inputs = encoderInputs(s, w.kind === "train" ? w.labels : 2);
  const ids = tf.tensor2d(inputs.ids, [s.batch, s.seq], "int32");
  const mask = tf.tensor2d(Float32Array.from(inputs.mask), [s.batch, s.seq]);
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
