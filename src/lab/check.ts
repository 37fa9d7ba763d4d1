/**
 * `tsformer lab --check`: reruns questions with the seed and mode of a folder of earlier results (such as the
 * shipped docs/lab) and lists every number that changed. Wall-clock timings vary between runs and are left out.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLab } from "./runner.ts";
import type { CodeVersion, LabResult, QuestionId } from "./types.ts";
import { TIMING_PREFIX, readsTimings } from "./verdicts.ts";

/** One value that differs between the earlier result and the rerun; `path` is a JSON path inside result.json. */
export interface Change {
  id: QuestionId;
  path: string;
  before: unknown;
  after: unknown;
}

/** What a comparison found: changed numbers, and verdicts that changed only because they read timings. */
export interface Comparison {
  changes: Change[];
  /** Not counted as changes: a rule that reads a timing may flip on a busier or faster machine. */
  timingVerdicts: Change[];
}

/** Appends every leaf where `a` and `b` differ (a key present on one side only counts, with `undefined` on the other). */
function diff(id: QuestionId, path: string, a: unknown, b: unknown, out: Change[]): void {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) diff(id, `${path}[${i}]`, a[i], b[i], out);
  } else if (isObject(a) && isObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diff(id, `${path}.${k}`, a[k], b[k], out);
  } else if (!Object.is(a, b)) {
    out.push({ id, path, before: a, after: b });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Drops the keys of a record that `drop` selects. */
function without<T>(record: Record<string, T>, drop: (key: string) => boolean): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => !drop(k)));
}

/**
 * Compares a rerun with the earlier result of the same question: every metric except `metrics.timings`, and per
 * claim how it was decided, the quiz's numeric answer (unless it comes from timings), the rule, the numbers the rule
 * read (except timings) and the verdict.
 */
export function compareResults(before: LabResult, after: LabResult): Comparison {
  const changes: Change[] = [];
  const timingVerdicts: Change[] = [];
  const isTimings = (k: string): boolean => k === "timings";
  diff(before.id, "metrics", without(before.metrics, isTimings), without(after.metrics, isTimings), changes);
  if (before.claims.length !== after.claims.length) changes.push({ id: before.id, path: "claims.length", before: before.claims.length, after: after.claims.length });
  before.claims.forEach((b, i) => {
    const a = after.claims[i];
    if (!a) return;
    const path = `claims[${i}]`;
    diff(before.id, `${path}.decided_by`, b.decided_by, a.decided_by, changes);
    // A quiz answer measured in seconds varies like any timing; every other one must reproduce.
    if (!(b.guess?.from_timings && a.guess?.from_timings)) diff(before.id, `${path}.guess.answer`, b.guess?.answer, a.guess?.answer, changes);
    if (b.decided_by === "measurement" && a.decided_by === "measurement") {
      diff(before.id, `${path}.rule`, b.rule, a.rule, changes);
      const isTiming = (k: string): boolean => k.startsWith(TIMING_PREFIX);
      diff(before.id, `${path}.measured`, without(b.measured, isTiming), without(a.measured, isTiming), changes);
      if (readsTimings(b.rule) && readsTimings(a.rule)) {
        diff(before.id, `${path}.verdict`, b.verdict, a.verdict, timingVerdicts);
        return;
      }
    }
    diff(before.id, `${path}.verdict`, b.verdict, a.verdict, changes);
  });
  return { changes, timingVerdicts };
}

/** Options of `checkLab`. */
export interface CheckOptions {
  ids: readonly QuestionId[];
  /** The folder of earlier results, `<against>/<id>/result.json`. */
  against: string;
  modelDir?: string;
  code?: CodeVersion | null;
  log?: (message: string) => void;
}

/** Reruns each question into a fresh temporary folder with its earlier seed and mode, and compares. */
export async function checkLab(o: CheckOptions): Promise<Comparison & { rerunDir: string }> {
  const read = (dir: string, id: QuestionId): LabResult => JSON.parse(readFileSync(join(dir, id, "result.json"), "utf8")) as LabResult;
  for (const id of o.ids) {
    const file = join(o.against, id, "result.json");
    if (!existsSync(file)) throw new Error(`${file} not found: nothing to check ${id} against (run it without --check first)`);
  }
  const earlier = o.ids.map((id) => read(o.against, id));
  const rerunDir = mkdtempSync(join(tmpdir(), "tsformer-lab-check-"));
  const result: Comparison = { changes: [], timingVerdicts: [] };
  for (const before of earlier) {
    await runLab({ ids: [before.id], out: rerunDir, quick: before.quick, seed: before.seed, modelDir: o.modelDir, code: o.code, log: o.log });
    // Both sides as JSON: NaN is null and −0 is 0 in the earlier file too.
    const c = compareResults(before, read(rerunDir, before.id));
    result.changes.push(...c.changes);
    result.timingVerdicts.push(...c.timingVerdicts);
  }
  return { ...result, rerunDir };
}
