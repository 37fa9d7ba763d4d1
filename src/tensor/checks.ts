/**
 * Numeric guards: NaN or ±Infinity in model inputs or weights is reported with an error naming the tensor and
 * the first bad element, instead of spreading silently through every layer. On by default; `setFiniteChecks(false)`
 * (or a loader's `allowNonFinite`) lets such values through for those who want them.
 */
import { getBackend } from "../backend/registry.ts";
import { ShapeError } from "../errors.ts";

let enabled = true;

/** Turns the checks of layer inputs on or off (process-wide). Returns the previous setting. */
export function setFiniteChecks(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}

/** Whether layer inputs are checked. */
export function finiteChecksEnabled(): boolean {
  return enabled;
}

/** The multi-index of flat index `i` in `shape`, as "[b, i, j]". */
function position(i: number, shape: readonly number[]): string {
  const idx: number[] = [];
  let rest = i;
  for (let a = shape.length - 1; a >= 0; a--) {
    idx.unshift(rest % shape[a]);
    rest = Math.floor(rest / shape[a]);
  }
  return `[${idx.join(", ")}]`;
}

/** Throws a ShapeError naming `what` when `data` holds NaN or ±Infinity; `hint` says how to allow it. */
export function assertFinite(what: string, data: Float32Array, shape: readonly number[], hint: string): void {
  // By the backend: the wasm one scans arrays in its memory (loaded weights, step arrays) with SIMD.
  const i = getBackend().firstNonFinite(data);
  if (i < 0) return;
  const kind = Number.isNaN(data[i]) ? "NaN" : data[i] > 0 ? "Infinity" : "-Infinity";
  throw new ShapeError(`${what} contains ${kind} at ${position(i, shape)} (${hint})`);
}

/** Checks a layer input when checks are on. */
export function checkInput(what: string, data: Float32Array, shape: readonly number[]): void {
  if (enabled) assertFinite(what, data, shape, "setFiniteChecks(false) lets it through");
}
