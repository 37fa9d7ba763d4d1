/**
 * The PyTorch peer (W1, W2, W3, W4, W4-tiny, K1), from Node's side: whether a Python with torch is here (it is a
 * peer, never a dependency: without it the benchmark says why it skipped PyTorch), and the safetensors file of
 * weights and inputs bench/peers/pytorch_bert.py (and pytorch_encoder.py) build each workload from.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type StoredTensorInput, serializeSafetensors } from "../../src/io/safetensors.ts";
import { SinusoidalPositionalEncoding } from "../../src/nn/embedding.ts";
import type { TransformerEncoderModel } from "../../src/nn/model.ts";
import { decaysByDefault } from "../../src/train/optim.ts";
import { benchBert, benchClassifier, benchModel } from "../runners/tsformer.ts";
import { type BertTrainWorkload, type EncoderShape, type Workload, encoderInputs, gemmInputs } from "../workloads.ts";

/** The Python script of the peer. */
export const PYTORCH_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "pytorch_bert.py");

/** A Python that imports torch (with the BLAS its products run on), or why there is none. */
export type TorchProbe = { found: true; python: string; version: string; blas: string } | { found: false; why: string };

/** The interpreters tried, in order: the one on PATH, then the system's (where Debian's python3-torch installs). */
const PYTHONS = ["python3", "/usr/bin/python3"];

/** Finds the first Python that imports torch (a few seconds: importing torch is slow). */
export function findTorch(): TorchProbe {
  const failures: string[] = [];
  for (const python of PYTHONS) {
    const r = spawnSync(python, [PYTORCH_SCRIPT, "--probe"], { encoding: "utf8", timeout: 120_000, env: peerEnv(1) });
    if (r.status === 0) {
      const { version, blas } = JSON.parse(r.stdout) as { version: string; blas: string };
      return { found: true, python, version, blas };
    }
    const error = r.error ? r.error.message : (r.stderr.trim().split("\n").at(-1) ?? `exit ${r.status}`);
    failures.push(`${python}: ${error}`);
  }
  return { found: false, why: `no Python with torch (${failures.join("; ")})` };
}

/**
 * Writes the file the peer sets a workload up from, everything from the shared seed, so PyTorch runs on the very
 * weights and inputs the other systems do: K1's operands (`input.a`, `input.b`); else the workload's model weights
 * under tsformer's names, and the inputs as `input.ids`, `input.mask`, `input.labels` — plus, for W1–W3, the first
 * `seq` rows of tsformer's sinusoidal table (`input.positions`) and the model config in the metadata (the peer
 * refuses a config it does not compute); for W4, the names AdamW must not decay (`decaysByDefault`, so every system
 * decays the same parameters).
 */
export function writeTorchInputs(w: Workload, path: string): void {
  if (w.kind === "gemm") {
    const { a, b } = gemmInputs(w.shape);
    const tensors = [{ name: "input.a", shape: [w.shape.m, w.shape.k], data: a }, { name: "input.b", shape: [w.shape.k, w.shape.n], data: b }];
    writeFileSync(path, serializeSafetensors(tensors));
  } else if (w.kind === "bert-train") {
    writeFileSync(path, bertFile(w));
  } else {
    const model = w.kind === "forward" ? benchModel(w.shape) : benchClassifier(w.shape, w.labels);
    if (!(model.positions instanceof SinusoidalPositionalEncoding)) throw new Error("bench: the encoder workloads use sinusoidal positions");
    const s = w.shape;
    const positions = { name: "input.positions", shape: [s.seq, s.dModel], data: model.positions.table.data.subarray(0, s.seq * s.dModel) };
    const tensors = [...weightsAndInputs(model, s, w.kind === "train" ? w.labels : 2), positions];
    writeFileSync(path, serializeSafetensors(tensors, { config: JSON.stringify(model.config) }));
  }
}

/** A model's parameters under tsformer's names, then the workload's inputs. */
function weightsAndInputs(model: TransformerEncoderModel, s: EncoderShape, labels: number): StoredTensorInput[] {
  const inputs = encoderInputs(s, labels);
  return [
    ...model.namedParameters().map(([name, p]) => ({ name, shape: p.shape, data: p.data })),
    { name: "input.ids", shape: [s.batch, s.seq], data: inputs.ids },
    { name: "input.mask", shape: [s.batch, s.seq], data: inputs.mask },
    { name: "input.labels", shape: [s.batch], data: inputs.labels },
  ];
}

/** W4's file: the BertModel's weights and the inputs, and the parameters AdamW does not decay in the metadata. */
function bertFile(w: BertTrainWorkload): Uint8Array {
  const model = benchBert(w);
  const noDecay = model.namedParameters().map(([name]) => name).filter((name) => !decaysByDefault(name));
  return serializeSafetensors(weightsAndInputs(model, w.shape, w.labels), { no_decay: JSON.stringify(noDecay) });
}

/**
 * The environment of a peer on `threads` threads: torch.set_num_threads sets OpenMP's count, and these keep a BLAS
 * with a thread pool of its own (OpenBLAS's pthreads build, MKL) to the same count. OpenMP threads wait passively
 * (sleep at once, as tsformer's workers do after 1–2 ms): spinning ones collapse on a shared machine — W4-tiny's
 * 2-thread step took 0.7–3.6 s with libgomp's default wait and 0.12–0.48 s passive on this 2-core VM, under load.
 * PYTHONDONTWRITEBYTECODE keeps the peer's import of pytorch_encoder.py from leaving a __pycache__ in the tree.
 */
export function peerEnv(threads: number): NodeJS.ProcessEnv {
  const n = String(threads);
  return { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n, OMP_WAIT_POLICY: "PASSIVE", PYTHONDONTWRITEBYTECODE: "1" };
}
