/** The site manifest (`site.json`, written by scripts/build-web.ts) and the lab's result.json schema. */
import type { ExplainLink } from "../../src/lab/explain-links.ts";
import type { NumericGuess } from "../../src/lab/guess.ts";

/** A question's lab output copied into the site. */
export interface LabEntry {
  /** "Q01"…"Q08". */
  id: string;
  /** Folder of its files, relative to the site root, ending in "/". */
  dir: string;
  /** result.json, if the lab wrote one. */
  result: string | null;
  /** SVG charts, file names in `dir`. */
  charts: string[];
  /** report.md, a file name in `dir`, when present. */
  report: string | null;
}

/** What the build put into the site. */
export interface SiteManifest {
  /** The shipped model's files under `models/default/`, or null when the build had none. */
  defaultModel: { name: string; files: string[] } | null;
  /**
   * The notes' encoder trained from scratch (models/notes-encoder: × √d_model, sinusoidal positions), its files under
   * `models/notes-encoder/`, offered beside the default (a pretrained BERT, which has neither step); null when none.
   */
  notesModel: { name: string; files: string[] } | null;
  /** The shipped BertForMaskedLM (models/mlm) for the fill-mask view, its files under `models/mlm/`, or null when the build had none. */
  maskedLmModel: { name: string; files: string[] } | null;
  /** The lab results, or null when the build had none. `sample` marks made-up fixture data; `index` is the lab's own index.html. */
  lab: { sample: boolean; index: string | null; questions: LabEntry[] } | null;
}

/** One claim of the notes and the lab's verdict on it ("supported", "refuted" or "nuanced"). */
export interface LabClaim {
  claim_zh: string;
  claim_en: string;
  verdict: string;
  /** English, with the measured numbers. */
  evidence: unknown;
  /** The same in Chinese, when the lab wrote it. */
  evidence_zh?: string;
  /** A number the quiz asks the learner to estimate before the verdict is shown (src/lab/guess.ts). */
  guess?: NumericGuess;
}

/** A question's result.json, as `tsformer lab` writes it. */
export interface LabResult {
  id: string;
  question_zh: string;
  question_en: string;
  claims: LabClaim[];
  metrics: Record<string, unknown>;
  seed: number;
  runtime_s: number;
  /** Run with `--quick` (smaller sizes, fewer steps). */
  quick?: boolean;
  /** Chart file names, in the lab's order. */
  charts?: string[];
  /** Where the question can be seen on a real prediction: a panel of the Explain view, and why (src/lab/explain-links.ts). */
  explain?: ExplainLink;
}

/** The interview questions, in order. */
export const QUESTION_IDS = ["Q01", "Q02", "Q03", "Q04", "Q05", "Q06", "Q07", "Q08"] as const;

/** A question id. */
export type QuestionId = (typeof QUESTION_IDS)[number];

/** "q4", "Q04", "q04" → "Q04"; null for anything else. */
export function normalizeQuestionId(id: string): QuestionId | null {
  const m = /^q0?([1-8])$/i.exec(id.trim());
  return m ? (`Q0${m[1]}` as QuestionId) : null;
}
