/**
 * Numeric guesses for the explorer's "predict, then reveal" quiz. Where a claim turns on a number, the learner
 * estimates that number before seeing the verdict; the answer is the value this run measured, never typed in.
 */
import { sig } from "./metrics.ts";

/** How a guess is judged close: by absolute distance, or by factor (for figures that span orders of magnitude). */
export type Closeness = "absolute" | "ratio";

/** A number to estimate, as result.json stores it. */
export interface NumericGuess {
  /** What to estimate, as a question (with any reference point the learner needs, such as the uniform value). */
  question_en: string;
  question_zh: string;
  /** The value this run measured, rounded to 3 significant digits. */
  answer: number;
  /** Shown after the number: "%", "×", "points" and so on, or "" for a plain number. */
  unit: string;
  /**
   * A guess counts as close when |guess − answer| ≤ tolerance ("absolute"), or when guess and answer are both
   * positive and within a factor of `tolerance` of each other ("ratio", tolerance > 1).
   */
  closeness: Closeness;
  tolerance: number;
  /** True when the answer comes from wall-clock times: it varies between machines, and `lab --check` skips it. */
  from_timings: boolean;
}

/** What a question writes for one guess; `answer` is the measured value, rounded here. */
export interface GuessSpec {
  en: string;
  zh: string;
  answer: number;
  unit?: string;
  closeness?: Closeness;
  tolerance: number;
  fromTimings?: boolean;
}

/** A numeric guess for a claim; refuses a non-finite answer or a tolerance that cannot work. */
export function numericGuess(spec: GuessSpec): NumericGuess {
  const closeness = spec.closeness ?? "absolute";
  if (!Number.isFinite(spec.answer)) throw new Error(`numeric guess "${spec.en}": the measured answer is ${spec.answer}`);
  if (closeness === "ratio" && !(spec.tolerance > 1 && spec.answer > 0)) {
    throw new Error(`numeric guess "${spec.en}": a ratio guess needs a positive answer and a tolerance above 1 (got ${spec.answer}, ${spec.tolerance})`);
  }
  if (closeness === "absolute" && !(spec.tolerance >= 0)) throw new Error(`numeric guess "${spec.en}": tolerance ${spec.tolerance} is negative`);
  return {
    question_en: spec.en,
    question_zh: spec.zh,
    answer: sig(spec.answer, 3),
    unit: spec.unit ?? "",
    closeness,
    tolerance: spec.tolerance,
    from_timings: spec.fromTimings ?? false,
  };
}

/**
 * How far a guess is from the answer: |guess − answer| for an "absolute" guess, the factor between them (≥ 1) for a
 * "ratio" one; null when no distance applies (a guess that is not a finite number, or not positive for a ratio).
 */
export function guessMiss(g: Pick<NumericGuess, "answer" | "closeness">, guess: number): number | null {
  if (!Number.isFinite(guess)) return null;
  if (g.closeness === "absolute") return Math.abs(guess - g.answer);
  if (!(guess > 0)) return null;
  return guess > g.answer ? guess / g.answer : g.answer / guess;
}

/** Whether `guess` is close to the guess's answer by its own rule (shared by the explorer and the tests). */
export function isClose(g: Pick<NumericGuess, "answer" | "closeness" | "tolerance">, guess: number): boolean {
  const miss = guessMiss(g, guess);
  if (miss === null) return false;
  // A hair of slack so that a guess typed exactly at the edge counts despite float rounding.
  return g.closeness === "absolute" ? miss <= g.tolerance + 1e-12 * Math.max(1, Math.abs(g.answer)) : miss <= g.tolerance * (1 + 1e-12);
}
