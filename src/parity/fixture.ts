/**
 * Reading reference fixtures: `<dir>/index.json` lists cases; each case directory has a `case.json`
 * (config, loss, tensor table) and one raw little-endian file per tensor (format: test/fixtures/README.md).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../errors.ts";
import { sizeOf } from "../tensor/shape.ts";
import type { CaseResult, Comparison } from "./types.ts";

/** Element types of fixture files. */
export type FixtureDType = "f32" | "f64" | "i32" | "u8";

/** Absolute and relative tolerance of a computed tensor. */
export interface Tolerance {
  rtol: number;
  atol: number;
}

/** One tensor of a case, with its data. */
export interface FixtureTensor {
  name: string;
  dtype: FixtureDType;
  shape: number[];
  role: string;
  /** For gradients: the tensor this is the gradient of. */
  of?: string;
  tolerance?: Tolerance;
  data: Float32Array | Float64Array | Int32Array | Uint8Array;
}

/** A loaded case. */
export interface FixtureCase {
  dir: string;
  name: string;
  op: string;
  config: Record<string, unknown>;
  loss: { output: string; weight: string } | null;
  tensors: Map<string, FixtureTensor>;
  /** The rest of case.json (e.g. `inputs` of the bert_model family). */
  raw: Record<string, unknown>;
}

/** An entry of index.json. */
export interface IndexEntry {
  name: string;
  op: string;
  dir: string;
}

/** index.json: the family (absent for the PyTorch op fixtures) and the cases. */
export interface FixtureIndex {
  family: string;
  cases: IndexEntry[];
  raw: Record<string, unknown>;
}

/** Reads `<dir>/index.json`. */
export function readIndex(dir: string): FixtureIndex {
  const path = join(dir, "index.json");
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`${path}: cannot read the fixture index (${(e as Error).message.split("\n")[0]})`);
  }
  const cases = Array.isArray(raw.cases) ? (raw.cases as IndexEntry[]) : [];
  return { family: typeof raw.family === "string" ? raw.family : "pytorch", cases, raw };
}

const BYTES: Record<FixtureDType, number> = { f32: 4, f64: 8, i32: 4, u8: 1 };

interface TensorEntry {
  dtype: FixtureDType;
  shape: number[];
  file: string;
  role: string;
  of?: string;
  tolerance?: Tolerance;
}

/** Loads a case directory: case.json and every tensor file it lists, checked against its declared size. */
export function loadCase(dir: string): FixtureCase {
  const meta = JSON.parse(readFileSync(join(dir, "case.json"), "utf8")) as Record<string, unknown>;
  const tensors = new Map<string, FixtureTensor>();
  for (const [name, e] of Object.entries(meta.tensors as Record<string, TensorEntry>)) {
    if (!(e.dtype in BYTES)) throw new ConfigError(`${dir}: tensor '${name}' has unknown dtype '${e.dtype}'`);
    const buf = readFileSync(join(dir, e.file));
    if (buf.byteLength !== sizeOf(e.shape) * BYTES[e.dtype]) {
      throw new ConfigError(`${dir}: '${e.file}' has ${buf.byteLength} bytes, shape [${e.shape.join(", ")}] × ${e.dtype} needs ${sizeOf(e.shape) * BYTES[e.dtype]}`);
    }
    // Copy into a fresh buffer: a Buffer's byteOffset need not be aligned for 8-byte elements.
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const data = e.dtype === "f64" ? new Float64Array(ab) : e.dtype === "f32" ? new Float32Array(ab)
      : e.dtype === "i32" ? new Int32Array(ab) : new Uint8Array(ab);
    tensors.set(name, { name, dtype: e.dtype, shape: e.shape, role: e.role, of: e.of, tolerance: e.tolerance, data });
  }
  const loss = meta.loss as { output: string; weight: string } | null;
  return {
    dir, name: String(meta.name), op: String(meta.op), config: (meta.config ?? {}) as Record<string, unknown>,
    loss: loss ? { output: loss.output, weight: loss.weight } : null, tensors, raw: meta,
  };
}

/** The worst |actual − expected| / (atol + rtol·|expected|) over all elements (NaN or a size mismatch: Infinity). */
export function worstRatio(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): number {
  if (actual.length !== expected.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    if (e === a) continue; // also equal infinities
    const r = Math.abs(a - e) / (tol.atol + tol.rtol * Math.abs(e));
    if (!(r <= worst)) worst = r; // NaN makes worst NaN → reported as Infinity below
  }
  return Number.isNaN(worst) ? Infinity : worst;
}

/** Exact comparison: 0 when equal element by element, Infinity otherwise. */
export function exactRatio(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  for (let i = 0; i < expected.length; i++) if (actual[i] !== expected[i]) return Infinity;
  return 0;
}

/** Default tolerance when a case gives none (the fixtures' README: rtol 1e-4, atol 1e-4). */
export const DEFAULT_TOLERANCE: Tolerance = { rtol: 1e-4, atol: 1e-4 };

/** Compares an actual array with a stored tensor at its own tolerance (integers and masks exactly). */
export function compareWith(name: string, actual: ArrayLike<number> | undefined, expected: FixtureTensor): Comparison {
  if (actual === undefined) return { name, worst: Infinity };
  if (expected.dtype === "u8" || expected.dtype === "i32") return { name, worst: exactRatio(actual, expected.data) };
  return { name, worst: worstRatio(actual, expected.data, expected.tolerance ?? DEFAULT_TOLERANCE) };
}

/** A float input or parameter of a case as float32. */
export function floatTensor(c: FixtureCase, name: string): { shape: number[]; data: Float32Array } {
  const t = c.tensors.get(name);
  if (!t) throw new ConfigError(`${c.name}: tensor '${name}' is missing`);
  return { shape: t.shape, data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data) };
}

/** A number from the case's config, with a clear error when absent. */
export function configNumber(c: FixtureCase, key: string, fallback?: number): number {
  const v = c.config[key];
  if (typeof v === "number") return v;
  if (fallback !== undefined) return fallback;
  throw new ConfigError(`${c.name}: config.${key} is missing or not a number`);
}

/** A boolean from the case's config. */
export function configBool(c: FixtureCase, key: string, fallback: boolean): boolean {
  const v = c.config[key];
  return typeof v === "boolean" ? v : fallback;
}

/** A string from the case's config. */
export function configString(c: FixtureCase, key: string, fallback: string): string {
  const v = c.config[key];
  return typeof v === "string" ? v : fallback;
}

/** The roles of tensors a runner computes (the others are given: inputs, parameters, constants, loss weights). */
export const COMPUTED_ROLES: ReadonlySet<string> = new Set(["output", "intermediate", "grad"]);

/** A stored tensor the runner did not compute. */
export function notComputed(name: string): Comparison {
  return { name, worst: Infinity, status: "not computed" };
}

/** A case's verdict: every comparison within tolerance. */
export function passes(compared: readonly Comparison[]): boolean {
  return compared.every((c) => c.worst <= 1);
}

/**
 * The comparisons for the stored computed tensors that `covered` lacks, and the case error naming them (each
 * fails the case).
 */
export function uncovered(c: FixtureCase, covered: ReadonlySet<string>): { compared: Comparison[]; error?: string } {
  const missing = [...c.tensors.values()].filter((t) => COMPUTED_ROLES.has(t.role) && !covered.has(t.name));
  const compared = missing.map((t) => notComputed(t.name));
  return compared.length > 0 ? { compared, error: `not computed: ${compared.map((x) => x.name).join(", ")}` } : { compared };
}

/** Runs `runCase` on every case folder of a fixture folder (its index.json); a case that throws becomes a failed result. */
export function runCaseFolders(dir: string, runCase: (caseDir: string) => CaseResult): CaseResult[] {
  return readIndex(dir).cases.map((entry) => {
    try {
      return runCase(join(dir, entry.dir));
    } catch (e) {
      return { case: entry.name, op: entry.op, passed: false, compared: [], error: e instanceof Error ? e.message.split("\n")[0] : String(e) };
    }
  });
}
