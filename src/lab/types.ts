/** The lab's shared types: a question, its claims and verdicts, its tables and charts, and the run context. */
import type { TopLevelSpec } from "vega-lite";
import type { ExplainLink } from "./explain-links.ts";
import type { NumericGuess } from "./guess.ts";
import type { DefinedVerdict, MeasuredVerdict, VerdictRule } from "./verdicts.ts";

/** What the measured numbers say about a claim of the notes. */
export type Verdict = "supported" | "refuted" | "nuanced";

/** What a claim says and the evidence; `claim_zh` is quoted verbatim from docs/notes.md. */
export interface ClaimText {
  claim_zh: string;
  claim_en: string;
  /** One English sentence with the measured numbers. */
  evidence: string;
  /** The same evidence in Chinese. */
  evidence_zh: string;
  /** A headline number of the claim's experiment that the explorer's quiz asks the learner to estimate first. */
  guess?: NumericGuess;
}

/** One claim of the notes with its verdict and how the verdict was decided (`decided_by`). */
export type Claim = ClaimText & (MeasuredVerdict | DefinedVerdict);

/** A table of the report: one header row and data rows (already formatted). */
export interface Table {
  title_en: string;
  title_zh: string;
  columns: string[];
  rows: (string | number)[][];
}

/** A chart: a Vega-Lite spec, rendered to `<name>.svg` in the question's folder. */
export interface Chart {
  name: string;
  title_en: string;
  title_zh: string;
  spec: TopLevelSpec;
}

/** Everything an experiment needs to know about the run. */
export interface LabContext {
  seed: number;
  /** Smaller sizes and fewer steps (all eight questions in under 3 minutes). */
  quick: boolean;
  /** A tsformer classifier checkpoint for Q07 (default: the shipped models/notes-encoder, else a small one trained here). */
  modelDir?: string;
  /** Progress messages (stderr in the CLI). */
  log: (message: string) => void;
}

/** What an experiment returns. `metrics.timings` holds everything measured in seconds (not reproducible). */
export interface QuestionOutput {
  metrics: Record<string, unknown> & { timings?: Record<string, unknown> };
  claims: Claim[];
  tables: Table[];
  charts: Chart[];
  /** What was run, in English and Chinese (Markdown paragraphs). */
  method_en: string;
  method_zh: string;
}

/** A question of the notes and the experiment that tests it. */
export interface Question {
  id: QuestionId;
  /** A short English title. */
  title: string;
  /** The question, quoted from docs/notes.md. */
  question_zh: string;
  question_en: string;
  /** The rules of its claims decided by measurement, by name: exported so that a test can feed each one numbers. */
  rules: Readonly<Record<string, VerdictRule>>;
  run(ctx: LabContext): Promise<QuestionOutput> | QuestionOutput;
}

/** The eight questions. */
export const QUESTION_IDS = ["q01", "q02", "q03", "q04", "q05", "q06", "q07", "q08"] as const;

/** A question id, q01…q08. */
export type QuestionId = (typeof QUESTION_IDS)[number];

/** result.json of one question. */
export interface LabResult {
  id: QuestionId;
  title: string;
  question_zh: string;
  question_en: string;
  claims: Claim[];
  metrics: QuestionOutput["metrics"];
  seed: number;
  quick: boolean;
  runtime_s: number;
  /** The code it ran: the checkout's commit, and whether src/ or models/ had uncommitted changes (null outside git). */
  code: CodeVersion | null;
  charts: string[];
  /** Where the question can be seen on a real prediction (the explorer's Explain view). */
  explain: ExplainLink;
}

/** A git commit (short hash) and whether the working tree differed from it where results come from. */
export interface CodeVersion {
  commit: string;
  uncommitted_changes: boolean;
}
