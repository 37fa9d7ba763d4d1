/** Loading weights from a safetensors file into a module through a name map, with errors in the file's own names. */
import { CheckpointError, ShapeError, formatShape } from "../errors.ts";
import type { Module, NamedArray } from "../nn/module.ts";
import { sameShape } from "../tensor/shape.ts";
import type { StoredTensor } from "./safetensors.ts";
import { floatTensors } from "./state.ts";

/** Options of `loadIntoModule`. */
export interface LoadIntoOptions {
  /** File name → the module's name, or null for tensors to skip (buffers, unused heads). */
  rename: (fileName: string) => string | null;
  /** Require every module parameter to be present (default true). */
  strict?: boolean;
  /** The file name, for messages. */
  source: string;
  /** Accept NaN and ±Infinity in the values (default false). */
  allowNonFinite?: boolean;
}

/**
 * Copies a file's tensors into a module: each renamed tensor must exist in the module with the same shape
 * (errors name the tensor as the file spells it, and both shapes); with `strict`, every parameter must be given.
 * Returns the module names that were loaded.
 */
export function loadIntoModule(module: Module, tensors: ReadonlyMap<string, StoredTensor>, options: LoadIntoOptions): Set<string> {
  const own = module.stateDict();
  const { floats, others } = floatTensors(tensors);
  const state = new Map<string, NamedArray>();
  const unexpected: string[] = [];
  for (const [fileName, t] of floats) {
    const name = options.rename(fileName);
    if (name === null) continue;
    const p = own.get(name);
    if (!p) {
      unexpected.push(fileName);
      continue;
    }
    if (!sameShape(t.shape, p.shape)) {
      throw new ShapeError(`${options.source}: tensor '${fileName}' has shape ${formatShape(t.shape)}, the model expects ${formatShape(p.shape)}`);
    }
    state.set(name, t);
  }
  for (const t of others) {
    if (options.rename(t.name) !== null) {
      throw new CheckpointError(`${options.source}: tensor '${t.name}' is ${t.dtype}; parameters must be floating point (F32, F16, BF16, F64)`);
    }
  }
  if (unexpected.length > 0) {
    throw new CheckpointError(`${options.source}: tensors the model does not have: ${unexpected.slice(0, 5).map((n) => `'${n}'`).join(", ")}${unexpected.length > 5 ? ` and ${unexpected.length - 5} more` : ""}`);
  }
  if (options.strict ?? true) {
    const missing = [...own.keys()].filter((n) => !state.has(n));
    if (missing.length > 0) {
      throw new CheckpointError(`${options.source}: missing ${missing.length} tensor(s) the model needs: ${missing.slice(0, 5).map((n) => `'${n}'`).join(", ")}${missing.length > 5 ? " …" : ""}`);
    }
  }
  module.loadStateDict(state, { strict: false, source: options.source, allowNonFinite: options.allowNonFinite });
  return new Set(state.keys());
}
