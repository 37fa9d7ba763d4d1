/** Runs lab questions: each experiment, timed, then its folder written; finally the index over the output folder. */
import { mkdirSync } from "node:fs";
import { q01 } from "./q01-heads.ts";
import { q02 } from "./q02-shared-qk.ts";
import { q03 } from "./q03-additive.ts";
import { q04 } from "./q04-scaling.ts";
import { q05 } from "./q05-padding-mask.ts";
import { q06 } from "./q06-head-width.ts";
import { q07 } from "./q07-encoder.ts";
import { q08 } from "./q08-embedding-scale.ts";
import { writeIndex, writeQuestion } from "./report.ts";
import { type CodeVersion, type LabResult, type Question, type QuestionId, QUESTION_IDS } from "./types.ts";

/** Every question, by id. */
export const QUESTIONS: Record<QuestionId, Question> = { q01, q02, q03, q04, q05, q06, q07, q08 };

/** Options of `runLab`. */
export interface LabOptions {
  ids: readonly QuestionId[];
  out: string;
  quick: boolean;
  seed: number;
  modelDir?: string;
  /** The code version recorded in each result.json (null when unknown). */
  code?: CodeVersion | null;
  log?: (message: string) => void;
}

/** "q01"…"q08" or "all" → the ids to run; anything else is an error naming the choices. */
export function parseQuestionIds(which: string): QuestionId[] {
  const w = which.toLowerCase();
  if (w === "all") return [...QUESTION_IDS];
  const id = /^q?0?([1-8])$/.exec(w);
  if (!id) throw new Error(`unknown question "${which}" (choose q01…q08 or all)`);
  return [`q0${id[1]}` as QuestionId];
}

/** Runs the questions in order, writing `<out>/<id>/` for each and `<out>/index.{html,md}`; returns their results. */
export async function runLab(o: LabOptions): Promise<LabResult[]> {
  const log = o.log ?? ((): void => {});
  mkdirSync(o.out, { recursive: true });
  const results: LabResult[] = [];
  for (const id of o.ids) {
    const q = QUESTIONS[id];
    log(`${id}: ${q.title}${o.quick ? " (quick)" : ""}`);
    const started = performance.now();
    const output = await q.run({ seed: o.seed, quick: o.quick, modelDir: o.modelDir, log: (m) => log(`  ${id}: ${m}`) });
    const runtime = (performance.now() - started) / 1000;
    results.push(await writeQuestion(o.out, q, output, { seed: o.seed, quick: o.quick, runtime_s: runtime, code: o.code ?? null }));
    writeIndex(o.out);
  }
  return results;
}
