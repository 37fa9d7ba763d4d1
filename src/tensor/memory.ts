/**
 * Where op results live. Outside a training step, in ordinary arrays the garbage collector frees. Inside
 * `withStepMemory`, large results (activations, their gradients) go to the backend's step memory: for the wasm
 * backend, one region of WASM memory that kernels read and write in place and that the next step reuses, so a
 * step neither copies activations in and out of WASM memory nor leaves them for the collector (README, "where the
 * time goes"). The price is a lifetime rule, the same as tf.tidy's: an array made inside the step is valid only
 * until `withStepMemory` returns.
 */
import { getBackend } from "../backend/registry.ts";

/** Results smaller than this (in floats) stay ordinary arrays: a kernel call on them costs more than their copy. */
export const STEP_MEMORY_MIN_FLOATS = 16384;

/** `length` zeros for an op's result: step memory inside a step when large enough, else a new Float32Array. */
export function floats(length: number): Float32Array {
  return allocate(length, true);
}

/**
 * Storage for a result the very next kernel call or loop writes in full: like `floats`, but step memory skips the
 * zeroing (the last step's values are overwritten anyway; zeroing a step's arrays was 10 % of a W3 step).
 */
export function floatsToOverwrite(length: number): Float32Array {
  return allocate(length, false);
}

function allocate(length: number, zero: boolean): Float32Array {
  if (length >= STEP_MEMORY_MIN_FLOATS) {
    const step = getBackend().stepArray(length, zero);
    if (step) return step;
  }
  return new Float32Array(length);
}

/**
 * Runs one training step (forward, backward, optimizer update) with its large intermediate arrays in step memory,
 * released when `step` returns. `step` must not let any tensor made inside outlive it, except scalars and
 * parameters' values (which live elsewhere): read losses with `item()` and clear gradients (`zeroGrad`) inside.
 */
export function withStepMemory<T>(step: () => T): T {
  const backend = getBackend();
  backend.openStepMemory();
  try {
    return step();
  } finally {
    backend.closeStepMemory();
  }
}
