/**
 * The PyTorch peer of W4 and W4-tiny, from Node's side: whether a Python with torch is here (it is a peer, never a
 * dependency: without it the benchmark says why it skipped PyTorch), and the safetensors file of weights and inputs
 * bench/peers/pytorch_bert.py builds its model from.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { serializeSafetensors } from "../../src/io/safetensors.ts";
import { decaysByDefault } from "../../src/train/optim.ts";
import { benchBert } from "../runners/tsformer.ts";
import { type BertTrainWorkload, encoderInputs } from "../workloads.ts";

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
    const r = spawnSync(python, [PYTORCH_SCRIPT, "--probe"], { encoding: "utf8", timeout: 120_000 });
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
 * Writes the file the peer reads: the workload's BertModel weights under tsformer's names (from the shared seed, so
 * PyTorch trains the very weights tsformer and tfjs do), the inputs as `input.ids`, `input.mask`, `input.labels`, and
 * in the metadata the names AdamW must not decay (`decaysByDefault`, so the three systems decay the same parameters).
 */
export function writeTorchInputs(w: BertTrainWorkload, path: string): void {
  const named = benchBert(w).namedParameters();
  const s = w.shape;
  const inputs = encoderInputs(s, w.labels);
  const tensors = [
    ...named.map(([name, p]) => ({ name, shape: p.shape, data: p.data })),
    { name: "input.ids", shape: [s.batch, s.seq], data: inputs.ids },
    { name: "input.mask", shape: [s.batch, s.seq], data: inputs.mask },
    { name: "input.labels", shape: [s.batch], data: inputs.labels },
  ];
  const noDecay = named.map(([name]) => name).filter((name) => !decaysByDefault(name));
  writeFileSync(path, serializeSafetensors(tensors, { no_decay: JSON.stringify(noDecay) }));
}

/**
 * The environment of a peer on `threads` threads: torch.set_num_threads sets OpenMP's count, and these keep a BLAS
 * with a thread pool of its own (OpenBLAS's pthreads build, MKL) to the same count. OpenMP threads wait passively
 * (sleep at once, as tsformer's workers do after 1–2 ms): spinning ones collapse on a shared machine — W4-tiny's
 * 2-thread step took 0.7–3.6 s with libgomp's default wait and 0.12–0.48 s passive on this 2-core VM, under load.
 */
export function peerEnv(threads: number): NodeJS.ProcessEnv {
  const n = String(threads);
  return { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n, OMP_WAIT_POLICY: "PASSIVE" };
}
